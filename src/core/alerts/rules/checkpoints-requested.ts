import type { AlertRule } from "../rule.js";
import { counterDelta } from "../../metrics/sample.js";

export const rule: AlertRule = {
  id: "checkpoints-requested",
  title: "Checkpoints are forced more often than timed",
  severity: "warning",
  threshold: 10,
  unit: "%",
  forSeconds: 0,
  windowSeconds: 3600,
  doc: {
    meaning: "Over the window, more than this share of checkpoints were requested (WAL reached max_wal_size, or CHECKPOINT was run) rather than started by checkpoint_timeout.",
    why: "Requested checkpoints come in bursts of writes and full-page images: I/O spikes and more WAL, which also means bigger backups.",
    action: "Raise postgresql.max_wal_size in tusk.yaml so timed checkpoints do the work; look for bulk loads that could be batched.",
  },
  evaluate({ now, windowStart }, threshold) {
    const req = counterDelta(now, windowStart, "pg_checkpoints_requested_total") ?? 0;
    const timed = counterDelta(now, windowStart, "pg_checkpoints_timed_total") ?? 0;
    if (req + timed < 2) return [];
    const pct = (100 * req) / (req + timed);
    return pct > threshold ? [{ labels: {}, value: pct, summary: `${req} of ${req + timed} recent checkpoints were requested, not timed (${pct.toFixed(0)} %)` }] : [];
  },
};

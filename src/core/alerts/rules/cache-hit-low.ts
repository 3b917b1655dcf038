import type { AlertRule } from "../rule.js";
import { counterDelta } from "../../metrics/sample.js";

export const rule: AlertRule = {
  id: "cache-hit-low",
  title: "Cache hit ratio is low",
  severity: "warning",
  threshold: 90,
  unit: "%",
  forSeconds: 300,
  windowSeconds: 900,
  doc: {
    meaning: "Over the window, less than this share of the table and index blocks the application database read were found in shared_buffers.",
    why: "Every miss is a read from the OS cache or the disk: queries slow down as the working set outgrows memory.",
    action: "Look at the top queries by shared blocks read (queries view) for missing indexes or scans of big tables; raise postgresql.shared_buffers if the machine has the memory.",
  },
  evaluate({ now, windowStart }, threshold) {
    const d = (n: string) => counterDelta(now, windowStart, n) ?? 0;
    const hit = d("pg_heap_blks_hit_total") + d("pg_idx_blks_hit_total");
    const read = d("pg_heap_blks_read_total") + d("pg_idx_blks_read_total");
    // Too few blocks say nothing about the working set.
    if (hit + read < 1000) return [];
    const pct = (100 * hit) / (hit + read);
    return pct < threshold ? [{ labels: {}, value: pct, summary: `${pct.toFixed(1)} % of ${hit + read} blocks read recently were in shared_buffers` }] : [];
  },
};

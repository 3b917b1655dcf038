import type { AlertRule } from "../rule.js";
import { counterDelta } from "../../metrics/sample.js";
import { fmt, fmtDuration } from "../rule.js";

const MiB = 1024 ** 2;

/**
 * PostgreSQL 15 counts every requested checkpoint in one counter (pg_stat_bgwriter.checkpoints_req):
 * the ones WAL volume forces, and the ones a backup start, pg_basebackup, a promotion, DROP DATABASE
 * or a manual CHECKPOINT asks for. Only the first kind means max_wal_size is too small, so the rule
 * reads the WAL written in its window (the advance of pg_current_wal_lsn(), which carries on across
 * a switchover) against the distance after which PostgreSQL forces one: max_wal_size /
 * (1 + checkpoint_completion_target), its CheckPointSegments (src/backend/access/transam/xlog.c).
 * It never reads the server log, which may be off and lives on one host.
 */
export const rule: AlertRule = {
  id: "checkpoints-requested",
  title: "WAL volume forces checkpoints before checkpoint_timeout",
  severity: "warning",
  // Checkpoints within the window that WAL volume forced (both requested and explained by the WAL written).
  threshold: 3,
  unit: "checkpoints",
  forSeconds: 300,
  windowSeconds: 3600,
  windowGauges: ["pg_wal_position_bytes"],
  doc: {
    meaning:
      "Within the window, the WAL written was enough to force at least this many checkpoints before checkpoint_timeout (every max_wal_size / (1 + checkpoint_completion_target) of WAL), and PostgreSQL did request that many. Checkpoints requested by backups, new replicas, promotions, DROP DATABASE or CHECKPOINT do not count. The server log's `checkpoint starting: … wal` lines show the same.",
    why: "Checkpoints forced by WAL come in bursts of writes and full-page images: I/O spikes and more WAL, which also means bigger backups and longer crash recovery.",
    action: "Raise postgresql.max_wal_size in tusk.yaml (it can be well above the WAL one checkpoint_timeout writes) so timed checkpoints do the work; look for bulk loads that could be batched.",
  },
  evaluate({ now, windowStart }, threshold) {
    const requested = counterDelta(now, windowStart, "pg_checkpoints_requested_total") ?? 0;
    const position = now.value("pg_wal_position_bytes");
    const start = windowStart?.value("pg_wal_position_bytes");
    const maxWal = now.value("pg_setting_max_wal_size_bytes");
    const target = now.value("pg_setting_checkpoint_completion_target") ?? 0.9;
    if (requested < threshold || position === undefined || start === undefined || !maxWal) return [];
    const written = position - start;
    if (written <= 0) return []; // a restore went back in WAL: nothing to compare
    const forced = Math.min(requested, Math.floor(written / (maxWal / (1 + target))));
    if (forced < threshold) return [];
    const window = fmtDuration((now.at.getTime() - windowStart!.at.getTime()) / 1000);
    return [
      {
        labels: {},
        value: forced,
        summary: `${fmt(written / MiB, 0)} MB of WAL in ${window} forced about ${forced} checkpoints (max_wal_size ${fmt(maxWal / MiB, 0)} MB); ${requested} were requested`,
      },
    ];
  },
};

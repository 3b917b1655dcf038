import type { AlertRule } from "../rule.js";
import { counterDelta } from "../../metrics/sample.js";
import { fmt } from "../rule.js";

export const rule: AlertRule = {
  id: "archiving-failing",
  title: "WAL archiving is failing or stale",
  severity: "critical",
  // Seconds since the last archived segment, while WAL is being written, that count as stale.
  threshold: 900,
  unit: "s",
  forSeconds: 60,
  windowSeconds: 900,
  doc: {
    meaning: "pgBackRest's archive-push fails (pg_stat_archiver's last failure is newer than its last success), or WAL is being written but nothing was archived for this many seconds.",
    why: "Without archived WAL, point-in-time recovery stops at the last archived segment, and unarchived WAL accumulates in pg_wal until the disk fills.",
    action: "Read the failure in `log/pgbackrest/` and `tusk status` (Backups: archiving); check the repository's disk and permissions, and S3 reachability; `pgbackrest check` confirms the fix.",
  },
  evaluate({ now, windowStart }, threshold) {
    if ((now.value("pg_archive_failing") ?? 0) > 0) return [{ labels: {}, value: 1, summary: `archive-push is failing (${now.value("pg_archive_failed_total")} failures so far)` }];
    const age = now.value("pg_last_archived_age_seconds");
    const written = counterDelta(now, windowStart, "pg_wal_bytes_total") ?? 0;
    if (age !== undefined && age > threshold && written > 16 * 1024 * 1024)
      return [{ labels: {}, value: age, summary: `${fmt(written / 1024 ** 2, 0)} MB of WAL written recently, but nothing archived for ${fmt(age, 0)} s` }];
    return [];
  },
};

import type { AlertRule } from "../rule.js";
import { fmtDuration } from "../rule.js";

export const rule: AlertRule = {
  id: "wal-dropped",
  title: "WAL was dropped: the archive has a gap",
  severity: "critical",
  threshold: 0,
  unit: "s",
  forSeconds: 0,
  doc: {
    meaning:
      "The backup repository was unreachable long enough that the WAL waiting for it passed `backups.archive_queue_max`, and pgBackRest dropped it so that pg_wal would not fill the disk. No backup has ended since.",
    why: "Point-in-time recovery cannot cross the dropped WAL: a restore reaches at most the last archived segment before the gap, until a backup taken after it.",
    action:
      "Make the repository reachable again (`tusk status`, Backups: archiving; the object store, or the host holding the repository). tusk takes a full backup as soon as it answers (retried every minute); `tusk backup --type full` does it now.",
  },
  evaluate({ now }) {
    const age = now.value("tusk_wal_gap_open_seconds");
    return age === undefined ? [] : [{ labels: {}, value: age, summary: `WAL was dropped ${fmtDuration(age)} ago (backups.archive_queue_max) and no backup has ended since` }];
  },
};

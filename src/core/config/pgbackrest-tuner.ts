import type { HostFacts } from "./host-facts.js";
import { setting, type TunedSetting } from "./tuner.js";
import type { BackupPolicy } from "./backup-settings.js";
import { formatMemory } from "./units.js";

/**
 * pgBackRest settings derived from the host, with reasons (pgBackRest user guide, "Configuration").
 * Measured by hand on a 2-core machine, 1.5 GB pgbench data: a full backup took 23.8 s with the
 * defaults (gzip, one process), 5.0 s with zstd and two processes, 4.4 s with lz4 and two.
 */
export function tunePgbackrest(host: HostFacts, policy: BackupPolicy): TunedSetting[] {
  const t = setting;
  return [
    t("process-max", Math.max(1, host.cores), `One compression process per core (${host.cores}): backup and restore time is mostly compression.`),
    t("compress-type", "zst", "zstd: close to lz4's speed at a much better ratio than gzip (the default), which is ~5× slower."),
    t("compress-level", 1, "zstd's fastest level; higher levels cost time for a few percent of space."),
    t("archive-async", "y", "WAL is pushed by a background process in batches, so archive_command returns at once and commits are never held up."),
    t("start-fast", "y", "A backup starts with an immediate checkpoint instead of waiting for the next scheduled one."),
    t("delta", "y", "Restores reuse files already in place, checked by checksum."),
    t("repo1-retention-full-type", "count", "Backup sets are expired by tusk's own policy (daily/weekly/monthly), not by pgBackRest's count."),
    t("repo1-retention-full", 9999999, "pgBackRest's count-based expiry is effectively off; tusk expires the sets its policy no longer keeps."),
    t("repo1-retention-diff", 9999999, "Differential sets are expired by tusk's policy too (this also silences pgBackRest's warning that the option is unset)."),
    t("repo1-retention-archive-type", "diff", "Continuous WAL (point-in-time recovery) is kept from the oldest of the newest backups below."),
    t(
      "repo1-retention-archive",
      policy.keep_daily_days + 1,
      `The last ${policy.keep_daily_days + 1} daily backups keep their continuous WAL: PITR inside the ${policy.keep_daily_days}-day window; older backups keep only the WAL that makes them consistent.`,
    ),
    t(
      "io-timeout",
      5,
      "A connection or single read/write that stalls this long fails. pgBackRest retries an unreachable object store for about 8× this per WAL segment before it gives up on that repository for the segment; at 5 s that is ~40 s, inside the 60 s a backup waits for its WAL, so local backups keep working while the S3 repository is down (the default, 60 s, stalls them).",
    ),
    ...(policy.archive_queue_max === null
      ? []
      : [
          t(
            "archive-push-queue-max",
            policy.archive_queue_max,
            `backups.archive_queue_max: past ${formatMemory(policy.archive_queue_max)} of WAL waiting for an unreachable repository, pgBackRest drops it instead of letting pg_wal fill the disk (point-in-time recovery then has a gap until the next backup, which tusk takes as soon as the repository answers).`,
            "override",
          ),
        ]),
    t("log-level-console", "warn", "Only problems on the console; details go to the log files."),
    t("log-level-file", "info", "Each backup, restore and archive step is logged."),
  ];
}

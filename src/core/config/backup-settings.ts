/**
 * The backup schedule and retention settings of tusk.yaml (`backups:`), as data: the configuration
 * reads them here, and backup/policy.ts decides with them. No imports, so the configuration never
 * reaches into the backup code.
 */
export const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * The backup policy most production teams use, as tusk's default: a backup every day (a full one on
 * `full_day`, a differential on the others), daily backups kept 7 days, the first full backup of
 * each week kept 4 weeks, the first of each month kept 12 months, continuous WAL inside the daily
 * window; and a restore drill every week.
 */
export interface BackupPolicy {
  /** Daily backup time, HH:MM in the machine's local time. */
  time: string;
  full_day: Weekday;
  keep_daily_days: number;
  keep_weekly_weeks: number;
  keep_monthly_months: number;
  drill_day: Weekday;
  drill_time: string;
  /**
   * Bytes of WAL that may wait for an unreachable repository before pgBackRest drops them (its
   * `archive-push-queue-max`), or null: WAL waits in pg_wal until the repository is back, however
   * long, and a full disk stops PostgreSQL. With a limit the database stays up, at the cost of a gap
   * in the archive that the next backup (taken as soon as the repository answers) closes.
   */
  archive_queue_max: number | null;
}

export const DEFAULT_POLICY: BackupPolicy = {
  time: "01:00",
  full_day: "sunday",
  keep_daily_days: 7,
  keep_weekly_weeks: 4,
  keep_monthly_months: 12,
  drill_day: "sunday",
  drill_time: "03:00",
  archive_queue_max: null,
};

/** The smallest `archive_queue_max`: four WAL segments. */
export const MIN_ARCHIVE_QUEUE_MAX = 64 * 1024 * 1024;

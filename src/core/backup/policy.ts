import type { BackupSummary } from "./catalog.js";
import type { BackupType } from "./pgbackrest.js";

import { WEEKDAYS, type BackupPolicy, type Weekday } from "../config/backup-settings.js";

const DAY_MS = 86_400_000;

/** The next moment at HH:MM (local time) after `now`, optionally on a given weekday. */
export function nextOccurrence(time: string, now: Date, weekday?: Weekday): Date {
  const [h, m] = time.split(":").map(Number) as [number, number];
  const next = new Date(now);
  next.setHours(h, m, 0, 0);
  if (next <= now) next.setDate(next.getDate() + 1);
  if (weekday !== undefined) {
    while (WEEKDAYS[next.getDay()] !== weekday) next.setDate(next.getDate() + 1);
  }
  return next;
}

/** The schedule a supervisor leaves behind (STATE_DIR/run/schedule.json), read by the next one. */
export interface SavedSchedule {
  nextBackupAt: string | null;
  nextDrillAt: string | null;
}

export interface ResumedSchedule {
  nextBackupAt: Date;
  nextDrillAt: Date;
  /** Jobs that fell due while no supervisor ran, each as a sentence: they are due now. */
  missed: string[];
  /** Why the next backup is when it is, for the supervisor's log. */
  backupWhy: string;
}

/**
 * Where the schedule picks up when a supervisor starts. A job the previous supervisor had scheduled
 * for a moment that passed while none ran (a crash, a reboot, tusk down) is due now; a cluster whose
 * newest backup is over 25 hours old (or that has none: `null`) takes one a minute after start;
 * otherwise the policy's next times. `newestBackupEndedAt` is `undefined` when the repository could
 * not be read (a permission or a disk problem, which status reports): that says nothing about the
 * backups, so the policy's time stands.
 */
export function resumeSchedule(policy: BackupPolicy, saved: SavedSchedule | undefined, newestBackupEndedAt: string | null | undefined, now: Date): ResumedSchedule {
  const missed: string[] = [];
  const fellDue = (at: string | null | undefined) => at != null && Date.parse(at) <= now.getTime();
  let nextBackupAt = nextOccurrence(policy.time, now);
  let backupWhy = `the policy's time (${policy.time})`;
  if (fellDue(saved?.nextBackupAt)) {
    nextBackupAt = now;
    missed.push(`the backup due at ${saved!.nextBackupAt} fell due while no supervisor ran`);
    backupWhy = missed[0]!;
  } else if (newestBackupEndedAt === undefined) {
    backupWhy += "; the repository could not be read, so whether a backup is overdue is unknown";
  } else if (newestBackupEndedAt === null || now.getTime() - Date.parse(newestBackupEndedAt) > 25 * 3_600_000) {
    nextBackupAt = new Date(now.getTime() + 60_000);
    backupWhy = newestBackupEndedAt === null ? "the repository holds no backup" : `the newest backup ended at ${newestBackupEndedAt}, over 25 hours ago`;
  }
  let nextDrillAt = nextOccurrence(policy.drill_time, now, policy.drill_day);
  if (fellDue(saved?.nextDrillAt)) {
    nextDrillAt = now;
    missed.push(`the restore drill due at ${saved!.nextDrillAt} fell due while no supervisor ran`);
  }
  return { nextBackupAt, nextDrillAt, missed, backupWhy };
}

/** Full on the policy's full day, or when there is no full backup to build on; differential otherwise. */
export function scheduledType(policy: BackupPolicy, at: Date, backups: BackupSummary[]): BackupType {
  const hasFull = backups.some((b) => b.type === "full");
  return !hasFull || WEEKDAYS[at.getDay()] === policy.full_day ? "full" : "diff";
}

export interface RetentionDecision {
  keep: { label: string; why: string }[];
  expire: { label: string; why: string }[];
}

const weekKey = (d: Date) => {
  const monday = new Date(d);
  monday.setHours(0, 0, 0, 0);
  monday.setDate(monday.getDate() - ((monday.getDay() + 6) % 7));
  return monday.toISOString().slice(0, 10);
};
const monthKey = (d: Date) => `${d.getFullYear()}-${d.getMonth() + 1}`;

/**
 * Which backup sets the policy keeps, each with its reason, and which expire. The newest backup is
 * always kept; a kept differential or incremental keeps the backups it is built on.
 */
export function retention(backups: BackupSummary[], policy: BackupPolicy, now: Date): RetentionDecision {
  const sorted = [...backups].sort((a, b) => a.endedAt.localeCompare(b.endedAt));
  const reasons = new Map<string, string>();
  const age = (b: BackupSummary) => now.getTime() - Date.parse(b.endedAt);
  const firstOf = (key: (d: Date) => string) => {
    const seen = new Set<string>();
    return new Set(
      sorted
        .filter((b) => b.type === "full")
        .filter((b) => {
          const k = key(new Date(b.endedAt));
          if (seen.has(k)) return false;
          seen.add(k);
          return true;
        })
        .map((b) => b.label),
    );
  };
  const firstOfWeek = firstOf(weekKey);
  const firstOfMonth = firstOf(monthKey);
  for (const b of sorted) {
    if (age(b) <= policy.keep_daily_days * DAY_MS) reasons.set(b.label, `daily, kept ${policy.keep_daily_days} days`);
    else if (firstOfWeek.has(b.label) && age(b) <= policy.keep_weekly_weeks * 7 * DAY_MS) reasons.set(b.label, `weekly, kept ${policy.keep_weekly_weeks} weeks`);
    else if (firstOfMonth.has(b.label) && age(b) <= policy.keep_monthly_months * 31 * DAY_MS) reasons.set(b.label, `monthly, kept ${policy.keep_monthly_months} months`);
  }
  const newest = sorted[sorted.length - 1];
  if (newest && !reasons.has(newest.label)) reasons.set(newest.label, "the newest backup is always kept");
  // A differential or incremental backup needs every backup its label builds on ("FULL_DIFF_INCR").
  for (const b of sorted) {
    if (!reasons.has(b.label) || b.type === "full") continue;
    const full = b.label.split("_")[0]!;
    for (const base of sorted) {
      if (base.label !== b.label && !reasons.has(base.label) && (base.label === full || (base.label.startsWith(`${full}_`) && base.endedAt < b.endedAt))) {
        reasons.set(base.label, `needed by ${b.label}`);
      }
    }
  }
  return {
    keep: sorted.filter((b) => reasons.has(b.label)).map((b) => ({ label: b.label, why: reasons.get(b.label)! })),
    expire: sorted.filter((b) => !reasons.has(b.label)).map((b) => ({ label: b.label, why: "outside the retention policy" })),
  };
}

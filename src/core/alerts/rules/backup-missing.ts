import type { AlertRule } from "../rule.js";
import { fmtDuration } from "../rule.js";

export const rule: AlertRule = {
  id: "backup-missing",
  title: "No successful backup within the schedule",
  severity: "critical",
  // 0 means: the schedule's interval (a day) plus an hour of slack.
  threshold: 0,
  unit: "s",
  forSeconds: 0,
  doc: {
    meaning: "The newest successful backup in the local repository is older than the schedule allows.",
    why: "Restores start from a backup and replay WAL from there: an old backup means a long restore, and the retention window stops moving forward.",
    action: "`tusk status` shows the schedule and the last job's error; run `tusk backup` and read its message.",
  },
  evaluate({ now }, threshold) {
    const limit = threshold > 0 ? threshold : (now.value("tusk_backup_interval_seconds") ?? 86_400) + 3600;
    // An unreadable catalog (repository unreachable) says nothing about backups; archiving-failing
    // and the status's backup line report that.
    if (now.value("tusk_backup_catalog_readable") !== 1) return [];
    const age = now.value("tusk_last_backup_age_seconds");
    if (age === undefined) return [{ labels: {}, value: Infinity, summary: "there is no successful backup" }];
    return age > limit ? [{ labels: {}, value: age, summary: `the last successful backup ended ${fmtDuration(age)} ago (limit ${fmtDuration(limit)})` }] : [];
  },
};

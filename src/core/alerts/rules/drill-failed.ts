import type { AlertRule } from "../rule.js";

export const rule: AlertRule = {
  id: "drill-failed",
  title: "The last restore drill failed",
  severity: "critical",
  threshold: 0,
  unit: "",
  forSeconds: 0,
  doc: {
    meaning: "The most recent restore drill (scheduled or `tusk drill restore`) did not pass: the backup did not restore, or the restored data failed a check.",
    why: "A backup that does not restore is not a backup. Until a drill passes, assume the latest backups cannot be relied on.",
    action: "`tusk drill history` names the failed checks; take a new full backup (`tusk backup --type full`) and run `tusk drill restore` again.",
  },
  evaluate({ now }) {
    return now.value("tusk_last_drill_ok") === 0 ? [{ labels: {}, value: 0, summary: "the last restore drill failed (`tusk drill history`)" }] : [];
  },
};

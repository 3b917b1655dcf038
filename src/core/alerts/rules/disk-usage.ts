import type { AlertRule } from "../rule.js";

export const rule: AlertRule = {
  id: "disk-usage",
  title: "A disk is filling up",
  severity: "critical",
  threshold: 80,
  unit: "%",
  forSeconds: 60,
  doc: {
    meaning: "The filesystem holding the data directory, the WAL or the backup repository is more than this full.",
    why: "PostgreSQL stops (PANIC) when it cannot write WAL; a full backup repository stops archiving, and WAL then piles up on the data disk.",
    action: "Look at what grew (`tusk status`: data size; the tables view: largest tables; backups: retention); free space or grow the filesystem before it reaches 100 %.",
  },
  evaluate({ now }, threshold) {
    return now
      .all("disk_used_ratio")
      .filter((s) => s.value * 100 > threshold)
      .map((s) => ({ labels: s.labels, value: s.value * 100, summary: `the ${s.labels.disk} filesystem is ${(s.value * 100).toFixed(0)} % full` }));
  },
};

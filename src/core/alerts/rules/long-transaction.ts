import type { AlertRule } from "../rule.js";
import { fmt } from "../rule.js";

export const rule: AlertRule = {
  id: "long-transaction",
  title: "A transaction has been open for long",
  severity: "warning",
  threshold: 300,
  unit: "s",
  forSeconds: 0,
  doc: {
    meaning: "The oldest open transaction started this many seconds ago.",
    why: "While it is open, VACUUM cannot remove rows deleted after it started anywhere in the cluster (bloat grows), and the locks it holds block migrations.",
    action:
      "Find it with `SELECT pid, now() - xact_start, state, query FROM pg_stat_activity ORDER BY xact_start LIMIT 5`; end it with pg_terminate_backend(pid) if it is stuck; keep batch jobs in shorter transactions.",
  },
  evaluate({ now }, threshold) {
    const v = now.value("pg_longest_transaction_seconds") ?? 0;
    return v > threshold ? [{ labels: {}, value: v, summary: `a transaction has been open for ${fmt(v, 0)} s` }] : [];
  },
};

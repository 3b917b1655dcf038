import type { AlertRule } from "../rule.js";
import { fmt } from "../rule.js";

export const rule: AlertRule = {
  id: "idle-in-transaction",
  title: "A session sits idle inside a transaction",
  severity: "warning",
  // 0 means: PostgreSQL's idle_in_transaction_session_timeout when it is set, else 60 s.
  threshold: 0,
  unit: "s",
  forSeconds: 0,
  doc: {
    meaning: "A session opened a transaction and has done nothing for longer than idle_in_transaction_session_timeout (or 60 s when that is off).",
    why: "An idle transaction holds its locks and its snapshot: it blocks DDL and VACUUM while the application forgot it, typically a missing COMMIT or an exception path without ROLLBACK.",
    action:
      "Find it with `SELECT pid, now() - state_change, query FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'`; fix the code path; set postgresql.idle_in_transaction_session_timeout in tusk.yaml so PostgreSQL ends such sessions.",
  },
  evaluate({ now }, threshold) {
    const limit = threshold > 0 ? threshold : now.value("pg_idle_in_transaction_session_timeout_seconds") || 60;
    const v = now.value("pg_longest_idle_in_transaction_seconds") ?? 0;
    return v > limit ? [{ labels: {}, value: v, summary: `a session has been idle in a transaction for ${fmt(v, 0)} s (limit ${fmt(limit, 0)} s)` }] : [];
  },
};

import type { AlertRule } from "../rule.js";

export const rule: AlertRule = {
  id: "connections-high",
  title: "Connections near max_connections",
  severity: "critical",
  threshold: 85,
  unit: "%",
  forSeconds: 120,
  doc: {
    meaning: "Client connections to PostgreSQL are above this share of the connections non-superusers may open (max_connections minus superuser_reserved_connections).",
    why: 'At 100 % new connections fail with "too many clients already": applications see errors, not slowness.',
    action:
      "Connect through the pooled connection string (PgBouncer) rather than directly; look for connection leaks (`tusk status`, pg_stat_activity by application_name); raise postgresql.max_connections in tusk.yaml only with the memory to back it.",
  },
  evaluate({ now }, threshold) {
    const max = (now.value("pg_max_connections") ?? 0) - (now.value("pg_superuser_reserved_connections") ?? 0);
    if (max <= 0) return [];
    const used = now.sum("pg_connections");
    const pct = (100 * used) / max;
    return pct > threshold ? [{ labels: {}, value: pct, summary: `${used} of ${max} connections in use (${pct.toFixed(0)} %)` }] : [];
  },
};

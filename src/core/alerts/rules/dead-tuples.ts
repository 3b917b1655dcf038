import type { AlertRule } from "../rule.js";

export const rule: AlertRule = {
  id: "dead-tuples",
  title: "A table is full of dead rows",
  severity: "warning",
  threshold: 20,
  unit: "%",
  forSeconds: 300,
  doc: {
    meaning: "More than this share of a table's rows (on a table of more than 1,000 rows) are dead: deleted or updated versions not yet vacuumed.",
    why: "Dead rows make scans read more pages and indexes grow; the space is reused only after VACUUM.",
    action:
      "See whether autovacuum runs on it (last autovacuum in the tables view) and what holds it back (long transactions, replication slots); run VACUUM (VERBOSE) on it; for big tables lower its autovacuum_vacuum_scale_factor.",
  },
  evaluate({ now }, threshold) {
    return now
      .all("pg_table_dead_ratio")
      .filter((s) => s.value * 100 > threshold && (now.value("pg_table_live_tuples", s.labels) ?? 0) + (now.value("pg_table_dead_tuples", s.labels) ?? 0) > 1000)
      .map((s) => ({
        labels: s.labels,
        value: s.value * 100,
        summary: `${s.labels.schema}.${s.labels.table}: ${(s.value * 100).toFixed(0)} % of rows are dead (${now.value("pg_table_dead_tuples", s.labels)} rows)`,
      }));
  },
};

import type { AlertRule } from "../rule.js";
import { fmtDuration } from "../rule.js";
import { counterDelta } from "../../metrics/sample.js";

export const rule: AlertRule = {
  id: "autovacuum-stale",
  title: "A table being written has not been vacuumed for hours",
  severity: "warning",
  threshold: 6,
  unit: "h",
  forSeconds: 600,
  windowSeconds: 3600,
  doc: {
    meaning: "Rows are being written to a table whose last vacuum (auto or manual) is older than this many hours, or never happened since the server started.",
    why: "Autovacuum that does not keep up leaves dead rows (bloat, slower scans), stale visibility maps (no index-only scans) and, in the end, transaction ID wraparound.",
    action: "Check for long transactions holding it back (long-transaction alert), locks on the table, and autovacuum settings for large tables (a lower autovacuum_vacuum_scale_factor per table).",
  },
  evaluate({ now, windowStart }, threshold) {
    return now
      .all("pg_table_vacuum_age_seconds")
      .filter((s) => s.value > threshold * 3600 && (counterDelta(now, windowStart, "pg_table_writes_total", s.labels) ?? 0) > 0)
      .map((s) => ({
        labels: s.labels,
        value: s.value / 3600,
        summary: `${s.labels.schema}.${s.labels.table} is written to but was last vacuumed ${fmtDuration(s.value)} ago (or never since the server started)`,
      }));
  },
};

import type { AlertRule } from "../rule.js";
import { fmt } from "../rule.js";

export const rule: AlertRule = {
  id: "sync-standby-lag",
  title: "The synchronous standby lags behind",
  severity: "critical",
  threshold: 10,
  unit: "s",
  forSeconds: 30,
  doc: {
    meaning: "The synchronous standby replays WAL this many seconds behind the primary (it has the WAL, so commits are safe, but has not applied it).",
    why: "A failover promotes this node: the longer its replay backlog, the longer the outage before it accepts writes.",
    action: "Look for long queries on the standby holding back replay, and for I/O saturation on its disk.",
  },
  evaluate({ now }, threshold) {
    return now
      .all("pg_replication_lag_seconds")
      .filter((s) => s.labels.sync_state === "sync" && s.value > threshold)
      .map((s) => ({ labels: { node: s.labels.node ?? "?" }, value: s.value, summary: `synchronous standby ${s.labels.node} replays ${fmt(s.value)} s behind` }));
  },
};

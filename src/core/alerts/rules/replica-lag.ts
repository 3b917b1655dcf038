import type { AlertRule } from "../rule.js";
import { fmt } from "../rule.js";

export const rule: AlertRule = {
  id: "replica-lag",
  title: "A read replica lags behind",
  severity: "warning",
  threshold: 60,
  unit: "s",
  forSeconds: 60,
  doc: {
    meaning: "An asynchronous replica (one that serves the read-only endpoint) replays WAL this many seconds behind the primary.",
    why: "Reads on it return stale data; past read_only_max_lag the read-only endpoint stops using it, and a replica far behind is no failover candidate.",
    action: "Check the replica's disk and CPU, long queries on it that conflict with replay, and the network; `tusk status` shows the lag per node.",
  },
  evaluate({ now }, threshold) {
    return now
      .all("pg_replication_lag_seconds")
      .filter((s) => s.labels.sync_state !== "sync" && s.value > threshold)
      .map((s) => ({ labels: { node: s.labels.node ?? "?" }, value: s.value, summary: `${s.labels.node} replays ${fmt(s.value)} s behind the primary` }));
  },
};

import type { AlertRule } from "../rule.js";
import { fmt } from "../rule.js";

export const rule: AlertRule = {
  id: "pooler-waiting",
  title: "Clients wait for a server connection at the pooler",
  severity: "critical",
  threshold: 60,
  unit: "s",
  forSeconds: 0,
  doc: {
    meaning: "A client has been waiting in PgBouncer for a server connection for longer than this (SHOW POOLS maxwait).",
    why: "The pool is exhausted: every server connection is busy (slow queries, long transactions) or PostgreSQL is not accepting connections. Applications see latency, then timeouts.",
    action: "Look at the longest transactions and slowest queries; raise pgbouncer.default_pool_size in tusk.yaml only if PostgreSQL has the room.",
  },
  evaluate({ now }, threshold) {
    return now
      .all("pgbouncer_max_wait_seconds")
      .filter((s) => s.value > threshold)
      .map((s) => ({
        labels: { database: s.labels.database ?? "?" },
        value: s.value,
        summary: `a client of ${s.labels.database} has waited ${fmt(s.value, 0)} s for a server connection (${now.value("pgbouncer_clients_waiting", s.labels)} waiting)`,
      }));
  },
};

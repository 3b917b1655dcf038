import type { AlertRule } from "../rule.js";

export const rule: AlertRule = {
  id: "node-down",
  title: "A node is not running",
  severity: "critical",
  threshold: 0,
  unit: "",
  forSeconds: 30,
  doc: {
    meaning: "A node's Patroni does not report PostgreSQL running (stopped, crashed, starting, or not answering).",
    why: "A replica down means one copy fewer: in synchronous mode, the last replica down leaves no failover candidate; the primary down means writes fail until a failover.",
    action: "`tusk status` shows each node's state; read its Patroni and PostgreSQL logs in the state directory's log/.",
  },
  evaluate({ now }) {
    return now
      .all("tusk_node_up")
      .filter((s) => s.value === 0)
      .map((s) => ({ labels: { node: s.labels.node ?? "?" }, value: 0, summary: `node ${s.labels.node} (${s.labels.role}) is not running` }));
  },
};

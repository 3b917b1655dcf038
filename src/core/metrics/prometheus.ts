import type { Sample } from "./sample.js";

const HELP: Record<string, string> = {
  pg_connections: "Client connections to PostgreSQL by state.",
  pg_max_connections: "PostgreSQL's max_connections.",
  pg_cache_hit_ratio: "Share of blocks found in shared_buffers since the previous collection.",
  pg_replication_lag_bytes: "WAL a replica has not replayed yet, as the primary sees it.",
  pg_replication_lag_seconds: "A replica's replay lag.",
  disk_used_ratio: "Used share of the filesystem holding the data directory or the backup repository.",
  tusk_node_up: "1 when the node's Patroni reports PostgreSQL running.",
  tusk_alerts_firing: "Alerts firing now, by rule and severity.",
};

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const labelName = (k: string) => k.replace(/[^a-zA-Z0-9_]/g, "_");

/**
 * The latest collection in Prometheus's text exposition format (version 0.0.4): one family per
 * name, `# TYPE counter` for names ending in _total, gauge otherwise; base units in the names
 * (seconds, bytes, ratio), labels as collected plus `cluster`.
 */
export function prometheusText(samples: readonly Sample[], cluster: string, at: Date): string {
  const families = new Map<string, Sample[]>();
  for (const s of samples) {
    const list = families.get(s.name);
    if (list) list.push(s);
    else families.set(s.name, [s]);
  }
  const lines: string[] = [];
  for (const [name, list] of [...families].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`# HELP ${name} ${HELP[name] ?? name.replace(/_/g, " ")}`);
    lines.push(`# TYPE ${name} ${name.endsWith("_total") ? "counter" : "gauge"}`);
    for (const s of list) {
      const labels = Object.entries({ cluster, ...s.labels })
        .map(([k, v]) => `${labelName(k)}="${escapeLabel(String(v))}"`)
        .join(",");
      const value = Number.isFinite(s.value) ? String(s.value) : s.value > 0 ? "+Inf" : s.value < 0 ? "-Inf" : "NaN";
      lines.push(`${name}{${labels}} ${value}`);
    }
  }
  lines.push("# HELP tusk_metrics_collected_timestamp_seconds When tusk collected these figures.");
  lines.push("# TYPE tusk_metrics_collected_timestamp_seconds gauge");
  lines.push(`tusk_metrics_collected_timestamp_seconds{cluster="${escapeLabel(cluster)}"} ${at.getTime() / 1000}`);
  return `${lines.join("\n")}\n`;
}

import type { SupervisorStatus } from "../core/supervisor/status.js";
import type { HostNode } from "../core/supervisor/hosts-view.js";
import type { AcrossHosts, ConnectionStrings } from "../core/cluster/connection-strings.js";
import { formatWallClock } from "../core/time/wall-clock.js";

/** A moment in the machine's time zone, with its offset ("2026-10-25 02:30:00 +02:00"); "-" for none. */
export const when = (moment: string | null | undefined): string => (moment ? formatWallClock(moment) : "-");

/** Plain-text tables for the CLI. */
export function table(rows: string[][], header: string[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export function duration(fromIso: string | null, now = Date.now()): string {
  if (!fromIso) return "-";
  let s = Math.max(0, Math.floor((now - Date.parse(fromIso)) / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`;
}

export function bytes(n: number | null): string {
  if (n === null) return "-";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatStatus(s: SupervisorStatus): string {
  const rows = s.processes.map((p) => [
    p.name,
    p.up ? "up" : "down",
    p.pid === null ? "-" : String(p.pid),
    p.ports.join(",") || "-",
    p.version ?? "-",
    duration(p.startedAt),
    p.name === "postgres" ? `${p.role ?? "-"} (${p.state ?? "?"})` : p.restarts ? `${p.restarts} restarts` : "",
  ]);
  return [
    `tusk ${s.supervisor.version} (release ${s.supervisor.release}) — ${s.phase}: ${s.decision}`,
    `${s.host ? `host ${s.host.name} (${s.host.role}); ` : ""}state directory ${s.stateDir}; data ${bytes(s.dataSizeBytes)}; supervisor pid ${s.supervisor.pid}, up ${duration(s.supervisor.startedAt)}`,
    "",
    table(rows, ["PROCESS", "STATE", "PID", "PORT", "VERSION", "UPTIME", "NOTE"]),
    "",
    ...formatReplication(s),
    ...formatBackupHealth(s),
    ...formatOperations(s),
    ...formatMonitoring(s),
  ].join("\n");
}

/** Long operations running now, and the latest that ended (an interrupted one says what stopped it). */
function formatOperations(s: SupervisorStatus): string[] {
  const own = operationLines(s.operations);
  const others = (s.otherHostsOperations ?? []).flatMap((h) => {
    const lines = operationLines(h);
    return lines.length ? [`  on ${h.host} (as of ${when(h.at)}):`, ...lines.map((l) => `  ${l}`)] : [];
  });
  if (own.length === 0 && others.length === 0) return [];
  return ["", "Operations:", ...own, ...others];
}

function operationLines(o: Pick<SupervisorStatus["operations"], "running" | "recent"> | undefined): string[] {
  if (!o) return [];
  const lines = o.running.map((r) => `  running: ${r.detail} (#${r.id}, since ${when(r.startedAt)}${r.progress ? `; ${r.progress}` : ""})`);
  for (const r of o.recent) lines.push(`  ${r.state}: ${r.detail} (#${r.id}, ${when(r.startedAt)} → ${when(r.endedAt)})${r.note ? `: ${r.note}` : ""}`);
  return lines;
}

function formatMonitoring(s: SupervisorStatus): string[] {
  const m = s.monitoring;
  if (!m || s.host?.role === "witness") return []; // a witness host collects nothing: it runs etcd alone
  const collector = !m.enabled
    ? "Metrics: collector off (monitoring.enabled: false)."
    : `Metrics: every ${m.intervalSeconds} s; ${m.collections} collections, last ${when(m.lastAt)}${m.lastDurationMs === null ? "" : ` (${m.lastDurationMs} ms)`}${m.lastError ? `; LAST FAILED: ${m.lastError}` : ""}`;
  const open = m.alerts.filter((a) => a.state === "firing");
  const pending = m.alerts.length - open.length;
  const lines = [collector, open.length ? `Alerts: ${open.length} firing${pending ? `, ${pending} pending` : ""} (\`tusk alerts\`):` : `Alerts: none firing${pending ? ` (${pending} pending)` : ""}.`];
  for (const a of open) lines.push(`  ${a.severity.toUpperCase()} ${a.rule}${a.silenced ? " (silenced)" : ""}: ${a.summary}`);
  return ["", ...lines];
}

/** The nodes table, shown once there is more than one node. */
export function formatReplication(s: Pick<SupervisorStatus, "replication">): string[] {
  const r = s.replication;
  if (!r || r.nodes.length < 2) return [];
  const mode =
    r.mode === "async"
      ? "asynchronous"
      : r.mode === "strict"
        ? "strict synchronous (writes wait for a synchronous standby)"
        : "synchronous (one synchronous standby; writes go on without one if none is left)";
  const rows = r.nodes.map((n) => [
    n.name,
    n.role,
    n.state,
    n.timeline === null ? "-" : String(n.timeline),
    String(n.postgresPort),
    n.lagBytes === null ? "-" : bytes(n.lagBytes),
    n.lagSeconds === null ? "-" : `${n.lagSeconds.toFixed(1)} s`,
    n.syncState ?? "-",
    n.servesReads === null ? "-" : n.servesReads ? "yes" : "no",
  ]);
  return [`Replication: ${mode}; primary ${r.primary}`, table(rows, ["NODE", "ROLE", "STATE", "TL", "PORT", "LAG", "LAG TIME", "SYNC", "READS"]), ""];
}

function formatBackupHealth(s: SupervisorStatus): string[] {
  const b = s.backups;
  if (!b) return [];
  const dropped = b.walDropped ? `WAL DROPPED at ${when(b.walDropped.at)} (${b.walDropped.segment}, backups.archive_queue_max): point-in-time recovery has a gap until the next backup` : undefined;
  if (b.error) return [`Backups: could not be read (${b.error}).`, ...(dropped ? [dropped] : [])];
  const a = b.archiver;
  const archiving = !a
    ? "unknown"
    : a.failedCount > 0 && (!a.lastArchivedAt || (a.lastFailedAt ?? "") > a.lastArchivedAt)
      ? `FAILING since ${when(a.lastFailedAt)} (${a.failedCount} failures; last good ${a.lastArchivedWal ?? "-"})`
      : `ok, last ${a.lastArchivedWal ?? "-"} at ${when(a.lastArchivedAt)}`;
  const last = b.repositoryProblem
    ? `unknown: pgBackRest reports the repository as "${b.repositoryProblem}"`
    : b.lastBackup
      ? `${b.lastBackup.label} (${b.lastBackup.type}, ended ${when(b.lastBackup.endedAt)})`
      : "none";
  const d = b.lastDrill;
  const drill = !d
    ? "never run (`tusk drill restore`)"
    : d.ok
      ? `passed ${when(d.startedAt)}, restore took ${d.restoreSeconds?.toFixed(1)} s`
      : `FAILED ${when(d.startedAt)}: ${d.checks
          .filter((c) => !c.ok)
          .map((c) => c.name)
          .join(", ")} (\`tusk drill history\`)`;
  return [
    `WAL archiving: ${archiving}${dropped ? `; ${dropped}` : ""}`,
    `Backups: ${b.backupCount}; last ${last}; restorable from ${when(b.window.from)} to ${when(b.window.to)}`,
    `Restore drill: ${drill}`,
    `Schedule: ${b.schedule.running ? `running ${b.schedule.running}; ` : ""}next backup ${when(b.schedule.nextBackupAt)}${b.schedule.nextBackupType ? ` (${b.schedule.nextBackupType})` : ""}, next drill ${when(b.schedule.nextDrillAt)}${b.schedule.lastError ? `; LAST JOB FAILED: ${b.schedule.lastError}` : ""}`,
  ];
}

export function formatConnectionStrings(c: ConnectionStrings): string {
  return [
    "Connection strings (passwords are in the state directory's secrets/, readable by root only):",
    `  application, pooled (transaction mode, the default):  ${c.pooled}`,
    `  application, pooled (session mode: LISTEN/NOTIFY, advisory locks, temp tables):  ${c.pooledSession}`,
    `  application, read-only (replicas within the lag limit, else the primary):  ${c.readOnly}`,
    `  application, direct to the primary (unpooled):  ${c.direct}`,
    `  migrations (owner role), direct to the primary:  ${c.migrations}`,
    `  monitoring (read-only, pg_monitor):  ${c.monitoring}`,
    ...(c.acrossHosts ? ["", ...formatAcrossHosts(c.acrossHosts)] : []),
  ].join("\n");
}

/** The multi-host strings: any data host serves them, and they follow the primary. */
export function formatAcrossHosts(a: AcrossHosts): string[] {
  return [
    `Across hosts (${a.hosts.join(", ")}: whichever answers and takes writes; TLS verified against the cluster's CA, ${a.caFile} here, \`tusk ca\` prints it for other machines):`,
    `  application, pooled (transaction mode):  ${a.pooled}`,
    `  application, pooled (session mode):  ${a.pooledSession}`,
    `  application, read-only:  ${a.readOnly}`,
    `  application, direct to the primary:  ${a.direct}`,
    `  migrations (owner role), direct to the primary:  ${a.migrations}`,
  ];
}

/** A host's PostgreSQL nodes on one line: "pg1 primary, pg2 replica (0 B behind)"; "-" for none. */
export function formatHostNodes(nodes: HostNode[]): string {
  if (nodes.length === 0) return "-";
  return nodes.map((n) => `${n.name} ${n.role}${n.role === "primary" ? "" : ` ${n.state}${n.lagBytes === null ? "" : `, ${bytes(n.lagBytes)} behind`}`}`).join("; ");
}

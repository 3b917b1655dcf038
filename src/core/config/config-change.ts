import type { TuskConfig } from "./config-file.js";
import { asRecord, effectiveSettings } from "./effective-settings.js";
import type { HostFacts } from "./host-facts.js";
import { needsRestart } from "./postgres-settings.js";

/**
 * How a change reaches a running cluster:
 * - reload: the process rereads its configuration; no connection is dropped;
 * - restart: PostgreSQL restarts, one node at a time (replicas first, then a switchover, then the
 *   old primary; a cluster without replicas restarts with its pool paused);
 * - refused: it cannot change on a running cluster (the item says what to do instead).
 */
export type ChangeHow = "reload" | "restart" | "refused";

export interface ConfigChange {
  /** As in tusk.yaml: "postgresql.work_mem", "ports.pooler", "replication_mode". */
  key: string;
  from: string;
  to: string;
  how: ChangeHow;
  /** The sentence `tusk up` and `tusk config apply` show for it. */
  sentence: string;
}

export interface ChangePlan {
  changes: ConfigChange[];
  /** Whether anything is refused: then nothing is applied. */
  refused: boolean;
  /** Whether PostgreSQL restarts (node by node). */
  restart: boolean;
}

const show = (v: unknown): string => (v === undefined || v === null ? "(unset)" : typeof v === "object" ? JSON.stringify(v) : String(v));

/** Keys that name what the cluster is: changing them means another cluster. */
const IDENTITY: Record<string, string> = {
  cluster_name: "it names the cluster's keys in etcd and its backups",
  database: "the data lives in the existing database",
};

/** Keys a running cluster's processes hold open (ports, addresses, limits fixed at a process's start). */
const BOUND_AT_START: Record<string, string> = {
  listen_address: "PostgreSQL, PgBouncer and HAProxy listen on it and the server certificate names it",
  s3: "the S3 repository's stanza is created when the cluster starts",
  read_only_max_lag: "HAProxy's health checks read it when HAProxy starts",
  "pgbouncer.max_client_conn": "PgBouncer's open-file limit is set when it starts",
  "pgbouncer.listen_port": "PgBouncer listens on the pooler port",
};

/**
 * What applying `wanted` to a cluster running `running` on `host` changes, and how each change is
 * made: pure, so `tusk up` and `tusk config apply` can show it before anything happens. The number
 * of replicas is not part of it: `tusk scale` changes it, and `tusk up` only ever adds replicas.
 */
export function planConfigChange(running: TuskConfig, wanted: TuskConfig, host: HostFacts): ChangePlan {
  const changes: ConfigChange[] = [];
  const add = (key: string, from: unknown, to: unknown, how: ChangeHow, why: string) =>
    changes.push({ key, from: show(from), to: show(to), how, sentence: `${key}: ${show(from)} → ${show(to)}: ${why}` });

  for (const [key, why] of Object.entries(IDENTITY)) {
    const k = key as keyof TuskConfig;
    if (running[k] !== wanted[k]) add(key, running[k], wanted[k], "refused", `cannot change on an existing cluster (${why}); create a new cluster and move the data (tusk dump, tusk import)`);
  }
  const downUp = "cannot change while the cluster runs; `tusk down`, then `tusk up` applies it (data is kept)";
  for (const name of Object.keys({ ...running.ports, ...wanted.ports }) as (keyof TuskConfig["ports"])[]) {
    if (running.ports[name] !== wanted.ports[name]) add(`ports.${name}`, running.ports[name], wanted.ports[name], "refused", `a running process listens on it; ${downUp}`);
  }
  for (const key of ["listen_address", "s3", "read_only_max_lag"] as const) {
    if (show(running[key]) !== show(wanted[key])) add(key, running[key], wanted[key], "refused", `${BOUND_AT_START[key]}; ${downUp}`);
  }

  const before = effectiveSettings(running, host);
  const after = effectiveSettings(wanted, host);
  const pgBefore = asRecord(before.postgres);
  const pgAfter = asRecord(after.postgres);
  for (const name of [...new Set([...Object.keys(pgBefore), ...Object.keys(pgAfter)])].sort()) {
    if (pgBefore[name] === pgAfter[name]) continue;
    const restart = needsRestart(name);
    add(
      `postgresql.${name}`,
      pgBefore[name],
      pgAfter[name],
      restart ? "restart" : "reload",
      restart ? "takes effect after PostgreSQL restarts: a rolling restart, one node at a time" : "PostgreSQL reloads it on every node",
    );
  }
  const bouncerBefore = asRecord(before.pgbouncer);
  const bouncerAfter = asRecord(after.pgbouncer);
  for (const name of [...new Set([...Object.keys(bouncerBefore), ...Object.keys(bouncerAfter)])].sort()) {
    if (bouncerBefore[name] === bouncerAfter[name]) continue;
    const key = `pgbouncer.${name}`;
    if (key in BOUND_AT_START) add(key, bouncerBefore[name], bouncerAfter[name], "refused", `${BOUND_AT_START[key]}; ${downUp}`);
    else add(key, bouncerBefore[name], bouncerAfter[name], "reload", "PgBouncer reloads it (RELOAD); connected clients stay");
  }
  if (running.replication_mode !== wanted.replication_mode) add("replication_mode", running.replication_mode, wanted.replication_mode, "reload", "Patroni changes synchronous mode on its next loop");
  for (const key of Object.keys(wanted.backups) as (keyof TuskConfig["backups"])[]) {
    if (running.backups[key] !== wanted.backups[key]) add(`backups.${key}`, running.backups[key], wanted.backups[key], "reload", "the schedule and retention use it from the next job on");
  }
  for (const key of Object.keys(wanted.monitoring) as (keyof TuskConfig["monitoring"])[]) {
    if (running.monitoring[key] !== wanted.monitoring[key]) add(`monitoring.${key}`, running.monitoring[key], wanted.monitoring[key], "reload", "the collector restarts with it");
  }
  if (show(running.alerts) !== show(wanted.alerts)) add("alerts", "(rules and webhooks)", "(changed)", "reload", "alert rules are evaluated with it from the next round");
  return { changes, refused: changes.some((c) => c.how === "refused"), restart: changes.some((c) => c.how === "restart") };
}

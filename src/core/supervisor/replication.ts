import { readFileSync } from "node:fs";
import pg from "pg";
import type { TuskConfig } from "../config/config-file.js";
import type { NodeInfo } from "../cluster/nodes.js";
import { ROLES } from "../endpoints.js";
import { TuskError, type ExitCodeName } from "../errors.js";
import type { PatroniMember } from "../processes/patroni.js";
import { readSecret } from "../secrets.js";
import { loopbackTls } from "../tls/cluster-ca.js";
import type { StatePaths } from "../state-dir.js";
import type { SupervisorContext } from "./context.js";

/** One replica as pg_stat_replication on the primary shows it. */
export interface ReplicationRow {
  name: string;
  state: string;
  syncState: string;
  lagBytes: number | null;
  lagSeconds: number | null;
}

export async function replicationRows(primary: pg.Client): Promise<ReplicationRow[]> {
  const sql = readFileSync(new URL("./sql/replication.sql", import.meta.url), "utf8");
  const r = await primary.query(sql);
  return r.rows.map((x) => ({
    name: String(x.name),
    state: String(x.state),
    syncState: String(x.sync_state),
    lagBytes: x.lag_bytes === null ? null : Number(x.lag_bytes),
    lagSeconds: x.lag_seconds === null ? null : Number(x.lag_seconds),
  }));
}

export interface NodeStatus {
  name: string;
  role: "primary" | "sync standby" | "replica" | "unknown";
  /** Patroni's state: running, streaming, starting, stopped, … or "unreachable". */
  state: string;
  timeline: number | null;
  postgresPort: number;
  patroniPort: number;
  lagBytes: number | null;
  lagSeconds: number | null;
  /** pg_stat_replication's sync_state for replicas (sync, async, potential, quorum). */
  syncState: string | null;
  /** Whether the read-only endpoint sends new sessions here; null when HAProxy did not answer. */
  servesReads: boolean | null;
}

export interface ReplicationStatus {
  mode: TuskConfig["replication_mode"];
  primary: string;
  nodes: NodeStatus[];
}

/** The node Patroni names leader, if any answers. */
export function primaryOf(r: ReplicationStatus): NodeStatus | undefined {
  return r.nodes.find((n) => n.role === "primary");
}

/** Joins tusk's nodes, Patroni's members and the primary's pg_stat_replication into one row per node. */
/** A Patroni member's role as tusk names it. */
export const memberRole = (m: PatroniMember | undefined): NodeStatus["role"] => (!m ? "unknown" : m.role === "leader" ? "primary" : m.role === "sync_standby" ? "sync standby" : "replica");

export function nodeStatuses(nodes: NodeInfo[], members: PatroniMember[], rows: ReplicationRow[], readers?: ReadonlySet<string>): NodeStatus[] {
  return nodes.map((n) => {
    const m = members.find((x) => x.name === n.name);
    const row = rows.find((x) => x.name === n.name);
    const role = memberRole(m);
    const patroniLag = typeof m?.lag === "number" ? m.lag : null;
    return {
      name: n.name,
      role,
      state: m?.state ?? "unreachable",
      timeline: m?.timeline ?? null,
      postgresPort: n.ports.postgres,
      patroniPort: n.ports.patroni,
      lagBytes: role === "primary" ? 0 : (row?.lagBytes ?? patroniLag),
      lagSeconds: role === "primary" ? 0 : (row?.lagSeconds ?? null),
      syncState: role === "primary" ? null : (row?.syncState ?? null),
      servesReads: readers ? readers.has(n.name) : null,
    };
  });
}

/**
 * The nodes of other hosts as Patroni's members describe them (role, state, timeline, bytes behind
 * the leader): beside this host's own, they are what a switchover across hosts chooses from.
 */
export function otherHostsNodes(members: PatroniMember[], local: NodeStatus[]): NodeStatus[] {
  return members
    .filter((m) => !local.some((n) => n.name === m.name))
    .map((m) => {
      const role = memberRole(m);
      return {
        name: m.name,
        role,
        state: m.state,
        timeline: m.timeline ?? null,
        postgresPort: m.port,
        patroniPort: m.api_url ? Number(new URL(m.api_url).port) : 0,
        lagBytes: role === "primary" ? 0 : typeof m.lag === "number" ? m.lag : null,
        lagSeconds: role === "primary" ? 0 : null,
        syncState: role === "sync standby" ? "sync" : null,
        servesReads: null,
      };
    });
}

/** Patroni member states a replica passes through on its way to streaming. */
const TRANSITIONAL_STATES = new Set(["starting", "stopping", "stopped", "restarting", "creating replica"]);

/** A replica this far behind is not a switchover target (Patroni's maximum_lag_on_failover). */
export const SWITCHOVER_MAX_LAG_BYTES = 1_048_576;

export type CandidateChoice = { ok: true; name: string } | { ok: false; code: ExitCodeName; message: string; hint: string /** worth asking again in a moment */; transient?: boolean };

/**
 * Which replica a switchover promotes. In synchronous mode Patroni promotes only the synchronous
 * standby, so that is the candidate (a named node must be it); otherwise the named healthy,
 * caught-up replica, or the least lagging one.
 */
export function chooseCandidate(nodes: NodeStatus[], to: string | undefined, synchronous: boolean): CandidateChoice {
  const names = nodes.map((n) => n.name).join(", ");
  const healthy = (n: NodeStatus) =>
    n.role !== "primary" && n.role !== "unknown" && (n.state === "streaming" || n.state === "running") && n.lagBytes !== null && n.lagBytes <= SWITCHOVER_MAX_LAG_BYTES;
  const sync = nodes.find((n) => n.role === "sync standby");
  if (to !== undefined) {
    const n = nodes.find((x) => x.name === to);
    if (!n) return { ok: false, code: "Usage", message: `There is no node named "${to}".`, hint: `Nodes: ${names}.` };
    if (n.role === "primary") return { ok: false, code: "Usage", message: `${to} is already the primary.`, hint: "Name a replica, or leave out --to." };
    if (!healthy(n)) {
      return {
        ok: false,
        code: "IncompatibleState",
        message: `${to} is not a healthy, caught-up replica (state ${n.state}, ${n.lagBytes ?? "unknown"} bytes behind).`,
        hint: "Wait until it streams and has caught up (tusk status), or choose another node.",
        // A replica that is (re)starting, as Patroni's members last said, is worth a few more looks.
        transient: TRANSITIONAL_STATES.has(n.state),
      };
    }
    if (synchronous && sync && sync.name !== to) {
      return {
        ok: false,
        code: "IncompatibleState",
        message: `${to} is not the synchronous standby (${sync.name} is); in synchronous mode only the synchronous standby has every acknowledged commit.`,
        hint: `Switch over to ${sync.name}, or leave out --to.`,
      };
    }
  }
  if (synchronous) {
    if (!sync) {
      return {
        ok: false,
        code: "IncompatibleState",
        message: "No replica is the synchronous standby yet.",
        hint: "Patroni names one within a few seconds of a replica catching up; `tusk status` shows it.",
        transient: true,
      };
    }
    if (!healthy(sync))
      return {
        ok: false,
        code: "IncompatibleState",
        message: `The synchronous standby ${sync.name} is not healthy (state ${sync.state}).`,
        hint: "`tusk status` shows each replica's state and lag.",
        transient: true,
      };
    return { ok: true, name: sync.name };
  }
  if (to !== undefined) return { ok: true, name: to };
  const candidates = nodes.filter(healthy).sort((a, b) => (a.lagBytes ?? 0) - (b.lagBytes ?? 0));
  if (candidates.length === 0) {
    return {
      ok: false,
      code: "IncompatibleState",
      message: "There is no healthy, caught-up replica to switch over to.",
      hint: nodes.length > 1 ? "tusk status shows each replica's state and lag." : "Add one with `tusk scale --replicas 1`.",
    };
  }
  return { ok: true, name: candidates[0]!.name };
}

/** PgBouncer's admin console, as the superuser (admin_users), over loopback with TLS (required once PgBouncer listens beyond loopback). */
export async function poolerAdmin<T>(config: TuskConfig, paths: StatePaths, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    host: "127.0.0.1",
    port: config.ports.pooler,
    user: ROLES.superuser,
    password: readSecret(paths, "superuser"),
    database: "pgbouncer",
    connectionTimeoutMillis: 5000,
    ssl: loopbackTls(paths),
  });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * After a failover, disconnects the clients whose transaction is on a server connection to the old
 * primary (PgBouncer 1.24 KILL_CLIENT). A primary that froze never answers them: without this they
 * wait for their own timeout; cut, they reconnect and PgBouncer sends them to the new primary.
 * Idle clients keep their connections. Returns how many were cut.
 */
export async function cutClientsOf(c: pg.Client, oldPort: number, oldHost?: string): Promise<number> {
  const servers = (await c.query<{ addr: string; port: string; ptr: string }>("SHOW SERVERS")).rows.filter((s) => Number(s.port) === oldPort && (oldHost === undefined || s.addr === oldHost));
  const stuck = new Set(servers.map((s) => s.ptr));
  const clients = (await c.query<{ id: string; link: string }>("SHOW CLIENTS")).rows.filter((x) => x.link && stuck.has(x.link));
  for (const client of clients) await c.query(`KILL_CLIENT ${Number(client.id)}`);
  return clients.length;
}

/** How long PgBouncer may take to pause (in-flight transactions finish first). */
const PAUSE_TIMEOUT_MS = 15_000;

/** The application's pool paused: new transactions wait, in-flight ones finish. A pause that does not complete in time is undone. */
export async function pausePool(ctx: SupervisorContext): Promise<void> {
  const { config, paths } = ctx;
  try {
    await poolerAdmin(config, paths, (c) =>
      withTimeout(c.query(`PAUSE ${config.database}`), PAUSE_TIMEOUT_MS, `PgBouncer could not pause within ${PAUSE_TIMEOUT_MS / 1000} s: a transaction stayed open`),
    );
  } catch (e) {
    // PgBouncer keeps a pause asked for by a client that gave up waiting: undo it.
    await resumePool(ctx);
    throw e;
  }
}

export async function resumePool(ctx: SupervisorContext): Promise<void> {
  const { config, paths, log } = ctx;
  await poolerAdmin(config, paths, (c) => c.query(`RESUME ${config.database}`)).catch((e) => {
    if (!/is not paused/.test((e as Error).message)) log(`RESUME failed: ${(e as Error).message}`);
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new TuskError("Timeout", message)), ms)))]).finally(() => clearTimeout(timer));
}

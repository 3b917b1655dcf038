import { PATRONI_BIN } from "../install/components.js";
import { PATRONI_ROUTES } from "../endpoints.js";
import type { OsUser } from "../os-user.js";
import type { NodePaths } from "../cluster/nodes.js";
import { httpRequest, httpsRequest, type HttpResult } from "./http-probe.js";
import type { ProcessSpec } from "./managed-process.js";

/**
 * Patroni manages PostgreSQL: it runs initdb on first start, starts and restarts the postmaster,
 * holds the leader lock in etcd. Ready when GET /patroni says state "running" and role primary.
 * On SIGTERM Patroni shuts PostgreSQL down (fast, after a checkpoint) and exits; we allow it 60 s
 * before SIGKILL, after which the supervisor stops a surviving postmaster itself.
 */
export function patroniSpec(node: NodePaths, user: OsUser, name: string): ProcessSpec {
  return {
    name,
    command: PATRONI_BIN,
    args: [node.patroniConfig],
    uid: user.uid,
    gid: user.gid,
    env: { PATH: "/usr/bin:/bin", HOME: user.home, LANG: "C.UTF-8", LC_ALL: "C.UTF-8", PYTHONUNBUFFERED: "1" },
    cwd: node.patroniDir,
    logFile: node.patroniLog,
    pidFile: node.patroniPid,
    stopSteps: [{ signal: "SIGTERM", waitMs: 60_000 }],
  };
}

/** The fields of Patroni's GET /patroni that tusk reads. */
export interface PatroniNodeStatus {
  state?: string;
  role?: string;
  server_version?: number;
  pending_restart?: boolean;
  timeline?: number;
  postmaster_start_time?: string;
  patroni?: { version?: string };
  /** Set while the cluster is in maintenance mode (paused). */
  pause?: boolean;
  /** Set while the DCS is unreachable and failsafe mode keeps this primary running. */
  failsafe_mode_is_active?: boolean;
  /** When Patroni last reached the DCS (seconds since the epoch). */
  dcs_last_seen?: number;
  /** WAL positions as numbers: `location` on a primary, `received_location`/`replayed_location` on a replica. */
  xlog?: { location?: number; received_location?: number; replayed_location?: number };
}

/**
 * How this host reaches a node's Patroni API once the cluster is converted for the network: on the
 * host's address over TLS, verified against the cluster's CA, with this host's certificate (Patroni
 * demands one from every client there). Unset, it is plain HTTP on loopback (one machine).
 */
export interface PatroniRestTls {
  address: string;
  ca: string | Buffer;
  cert: string | Buffer;
  key: string | Buffer;
}

/** Per Patroni port: set when its patroni.yml is written (node-setup.ts), so it follows the file Patroni runs with. */
const restTls = new Map<number, PatroniRestTls>();

export function usePatroniRest(port: number, tls: PatroniRestTls | undefined): void {
  if (tls) restTls.set(port, tls);
  else restTls.delete(port);
}

/** One request to the Patroni API on `port`, over whichever transport it serves. */
function rest(port: number, path: string, init: { method?: string; body?: unknown; auth?: PatroniAuth; timeoutMs?: number } = {}): Promise<HttpResult> {
  const tls = restTls.get(port);
  if (!tls) return httpRequest(`http://127.0.0.1:${port}${path}`, init);
  const { address, ...files } = tls;
  return httpsRequest({ host: address, port, path, method: init.method ?? "GET", body: init.body, auth: init.auth, tls: files, timeoutMs: init.timeoutMs ?? 3000 });
}

/** GET a JSON document from Patroni; undefined when it does not answer. */
async function restJson<T>(port: number, path: string, timeoutMs = 2000): Promise<{ status: number; json: T } | undefined> {
  try {
    const r = await rest(port, path, { timeoutMs });
    return { status: r.status, json: JSON.parse(r.body) as T };
  } catch {
    return undefined;
  }
}

export async function patroniNode(port: number, timeoutMs = 2000): Promise<PatroniNodeStatus | undefined> {
  return (await restJson<PatroniNodeStatus>(port, PATRONI_ROUTES.node, timeoutMs))?.json;
}

/** One member in Patroni's GET /cluster. */
export interface PatroniMember {
  name: string;
  role: string; // "leader", "replica", "sync_standby", "standby_leader"
  state: string; // "running", "streaming", "starting", "stopped", …
  host: string;
  port: number;
  /** Its Patroni REST API, e.g. https://198.18.0.2:8008/patroni. */
  api_url?: string;
  timeline?: number;
  /** Set when a changed parameter takes effect only after PostgreSQL restarts. */
  pending_restart?: boolean;
  /** Bytes behind the leader ("unknown" when Patroni cannot tell). */
  lag?: number | string;
}

/** Patroni's GET /cluster: every member as this node sees them in the DCS. */
export interface PatroniClusterView {
  members: PatroniMember[];
}

export async function patroniCluster(port: number, timeoutMs = 2000): Promise<PatroniClusterView | undefined> {
  const r = await restJson<{ members?: PatroniMember[] }>(port, PATRONI_ROUTES.cluster, timeoutMs);
  return r?.status === 200 ? { members: r.json.members ?? [] } : undefined;
}

/** Planned switchover (POST /switchover): the leader steps down, the candidate is promoted. */
export async function patroniSwitchover(port: number, auth: PatroniAuth, leader: string, candidate: string): Promise<{ status: number; body: string }> {
  return rest(port, "/switchover", { method: "POST", auth, body: { leader, candidate }, timeoutMs: 60_000 });
}

/**
 * The same, posted to another host's Patroni (its member's `api_url`) with this host's client
 * certificate, the one this host's node on `localPort` uses: the leader's own API acts at once,
 * where another member's only writes the request into etcd for the leader's next loop.
 */
export async function patroniSwitchoverAt(apiUrl: string, localPort: number, auth: PatroniAuth, leader: string, candidate: string): Promise<{ status: number; body: string }> {
  const tls = restTls.get(localPort);
  if (!tls) return patroniSwitchover(localPort, auth, leader, candidate);
  const { address: _own, ...files } = tls;
  const url = new URL(apiUrl);
  return httpsRequest({ host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port), path: "/switchover", method: "POST", body: { leader, candidate }, auth, tls: files, timeoutMs: 60_000 });
}

/**
 * Reinitialize a replica (POST /reinitialize): Patroni deletes its data directory and copies the
 * leader again. `force` interrupts a running operation on that node.
 */
export async function patroniReinitialize(port: number, auth: PatroniAuth): Promise<void> {
  const r = await rest(port, "/reinitialize", { method: "POST", auth, body: { force: true }, timeoutMs: 30_000 });
  if (r.status >= 300) throw new Error(`Patroni refused to reinitialize (${r.status}): ${r.body.slice(0, 200)}`);
}

export function isPrimary(node: PatroniNodeStatus | undefined): boolean {
  return node?.state === "running" && (node.role === "master" || node.role === "primary");
}

export interface PatroniAuth {
  user: string;
  password: string;
}

/** Sets cluster-wide PostgreSQL parameters in etcd through Patroni; null removes one. */
export async function patchConfig(port: number, auth: PatroniAuth, patch: Record<string, unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const r = await rest(port, PATRONI_ROUTES.config, {
      method: "PATCH",
      auth,
      body: patch,
      timeoutMs: 10_000,
    });
    if (r.status < 300) return;
    // 503: the configuration key is not in etcd yet (just after bootstrap); it appears within a loop.
    if (r.status !== 503 || attempt >= 20) throw new Error(`Patroni refused the configuration change (${r.status}): ${r.body.slice(0, 200)}`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

/**
 * The cluster-wide parameters stored in etcd. Right after bootstrap Patroni has not yet written its
 * configuration key (GET /config is empty and PATCH answers 503), so this waits for it.
 */
export async function clusterConfig(port: number, timeoutMs = 30_000): Promise<Record<string, unknown> & { postgresql?: { parameters?: Record<string, unknown> } }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await restJson<{ ttl?: number; postgresql?: { parameters?: Record<string, unknown> } }>(port, PATRONI_ROUTES.config);
    if (r?.status === 200 && r.json.ttl !== undefined) return r.json;
    if (Date.now() > deadline) throw new Error("Patroni did not publish the cluster configuration in etcd within 30 s");
    await new Promise((res) => setTimeout(res, 500));
  }
}

export async function restartPostgres(port: number, auth: PatroniAuth): Promise<void> {
  const r = await rest(port, PATRONI_ROUTES.restart, { method: "POST", auth, body: {}, timeoutMs: 120_000 });
  if (r.status >= 300) throw new Error(`Patroni could not restart PostgreSQL (${r.status}): ${r.body}`);
}

/** Patroni rereads its YAML file (the node-local part: listen addresses, pg_hba, etcd is not reread in 3.0.2). */
export async function reloadPatroni(port: number, auth: PatroniAuth): Promise<void> {
  const r = await rest(port, PATRONI_ROUTES.reload, { method: "POST", auth, body: {}, timeoutMs: 10_000 });
  if (r.status >= 300) throw new Error(`Patroni could not reload its configuration (${r.status}): ${r.body}`);
}

/**
 * Maintenance mode (Patroni docs, "Pause/Resume mode"): while paused Patroni neither fails over nor
 * demotes, and a Patroni that stops leaves PostgreSQL running; the flag lives in etcd for the whole
 * cluster. Waits until the node named by `port` reports it.
 */
export async function setPaused(port: number, auth: PatroniAuth, pause: boolean, timeoutMs = 15_000): Promise<void> {
  await patchConfig(port, auth, { pause });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (((await patroniNode(port))?.pause ?? false) === pause) return;
    await new Promise((res) => setTimeout(res, 250));
  }
  throw new Error(`Patroni did not report pause=${pause} within ${timeoutMs / 1000} s`);
}

import { extensionBuilds } from "../install/components.js";
import { currentRelease } from "../install/release.js";
import { TUSK_VERSION } from "../state-dir.js";
import { clusterKv } from "./cluster-etcd.js";
import type { SupervisorContext } from "./context.js";

/** What a host runs, as its supervisor last published it. */
export interface HostVersions {
  tusk: string;
  release: string;
  /** PostgreSQL's server version (a data host's running node), Patroni's, etcd's, PgBouncer's, HAProxy's, where the host runs them. */
  engines: Record<string, string>;
  /** Extension builds installed for PostgreSQL (name → version): what a join checks against the cluster's. */
  extensions: Record<string, string>;
  /** When it was published (ISO 8601): at the supervisor's start, then once an hour. */
  at: string;
}

const prefix = (cluster: string) => `/tusk-hosts/${cluster}/`;

/**
 * Each host's supervisor publishes its versions into etcd (tusk's own v3 keys, no lease: a lost
 * host's last word stays until it is removed), so `tusk hosts` on any host lists every host's.
 */
export async function publishVersions(ctx: SupervisorContext, engines: Record<string, string | undefined>): Promise<void> {
  if (!ctx.network) return;
  const own = Object.fromEntries(Object.entries(engines).filter((e): e is [string, string] => typeof e[1] === "string"));
  const versions: HostVersions = { tusk: TUSK_VERSION, release: currentRelease().id, engines: own, extensions: ctx.network.role === "data" ? extensionBuilds() : {}, at: new Date().toISOString() };
  await clusterKv(ctx, 2000).put(`${prefix(ctx.config.cluster_name)}${ctx.network.name}`, JSON.stringify(versions));
}

/** Every host's published versions, by host name; empty when etcd does not answer. */
export async function readVersions(ctx: SupervisorContext): Promise<Map<string, HostVersions>> {
  const p = prefix(ctx.config.cluster_name);
  const entries = await clusterKv(ctx, 2000)
    .list(p)
    .catch(() => []);
  return new Map(entries.map((e) => [e.key.slice(p.length), JSON.parse(e.value) as HostVersions]));
}

/** A removed host's versions go with it. */
export async function forgetVersions(ctx: SupervisorContext, host: string): Promise<void> {
  await clusterKv(ctx, 2000).delete(`${prefix(ctx.config.cluster_name)}${host}`);
}

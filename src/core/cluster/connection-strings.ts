import { ROLES, SESSION_ENTRY_SUFFIX } from "../endpoints.js";
import type { TuskConfig } from "../config/config-file.js";
import { readSecret } from "../secrets.js";
import type { StatePaths } from "../state-dir.js";
import { isLoopback } from "../generate/pg-hba.js";
import { readHostNetwork, urlHost, type HostNetwork } from "../network/host-network.js";
import { clusterCa } from "../tls/cluster-ca.js";

export interface ConnectionStrings {
  /** PgBouncer, transaction pooling: the default for applications. */
  pooled: string;
  /** PgBouncer, session pooling: LISTEN/NOTIFY, advisory locks, session SET, temp tables. */
  pooledSession: string;
  /**
   * HAProxy: replicas within the lag limit, round-robin; the primary when none qualifies. Sessions
   * are read-only (default_transaction_read_only) even when they land on the primary.
   */
  readOnly: string;
  /**
   * The primary's PostgreSQL itself, unpooled, as the application role: HAProxy on `ports.direct`,
   * moved to the new primary by the supervisor on switchover and failover.
   */
  direct: string;
  /** The same endpoint as the owner role: for migrations. */
  migrations: string;
  /** Read-only statistics login (pg_monitor), on the same endpoint. */
  monitoring: string;
  /** With two data hosts or more: the same endpoints through every data host (libpq multi-host strings). */
  acrossHosts?: AcrossHosts;
}

/**
 * libpq multi-host strings over every data host: a client tries the hosts in order (3 s each) and
 * keeps the first that takes writes, so the string outlives the loss of any one host. Every data
 * host's PgBouncer routes to the primary wherever it runs and ends TLS with its own certificate:
 * `verify-full` against the cluster's CA (`tusk ca`). HAProxy's endpoints pass TLS through to the
 * node they pick, whose certificate names its own host, not the one dialled: `verify-ca` there.
 */
export interface AcrossHosts {
  /** The data hosts' addresses, in join order. */
  hosts: string[];
  /** The cluster's CA certificate on this machine (`tusk ca` prints it for other machines). */
  caFile: string;
  pooled: string;
  pooledSession: string;
  readOnly: string;
  direct: string;
  migrations: string;
}

function url(user: string, password: string, host: string, port: number, database: string, tls: boolean, options?: string): string {
  const params = [...(tls ? ["sslmode=require"] : []), ...(options ? [`options=${encodeURIComponent(options)}`] : [])];
  const query = params.length ? `?${params.join("&")}` : "";
  return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}${query}`;
}

export function connectionStrings(config: TuskConfig, paths: StatePaths): ConnectionStrings {
  const host = config.listen_address === "127.0.0.1" || config.listen_address === "*" || config.listen_address === "0.0.0.0" ? "127.0.0.1" : config.listen_address;
  const app = readSecret(paths, "app");
  // Beyond loopback the servers accept TLS connections only (pg_hba hostssl, PgBouncer require).
  const tls = !isLoopback(config.listen_address);
  const db = config.database;
  return {
    pooled: url(ROLES.app, app, host, config.ports.pooler, db, tls),
    pooledSession: url(ROLES.app, app, host, config.ports.pooler, `${db}${SESSION_ENTRY_SUFFIX}`, tls),
    readOnly: url(ROLES.app, app, host, config.ports.readonly, db, tls, "-c default_transaction_read_only=on"),
    direct: url(ROLES.app, app, host, config.ports.direct, db, tls),
    migrations: url(ROLES.owner, readSecret(paths, "owner"), host, config.ports.direct, db, tls),
    monitoring: url(ROLES.monitor, readSecret(paths, "monitor"), host, config.ports.direct, db, tls),
    ...(acrossHosts(config, paths, readHostNetwork(paths), app) ?? {}),
  };
}

function acrossHosts(config: TuskConfig, paths: StatePaths, network: HostNetwork | null, app: string): { acrossHosts: AcrossHosts } | undefined {
  const hosts = (network?.hosts ?? []).filter((h) => h.role === "data").map((h) => h.address);
  if (hosts.length < 2) return undefined;
  const caFile = clusterCa(paths).cert;
  const multi = (user: string, password: string, port: number, database: string, params: string[]) =>
    `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${hosts.map((h) => `${urlHost(h)}:${port}`).join(",")}/${encodeURIComponent(database)}?${params.join("&")}`;
  const common = (sslmode: string) => [`sslmode=${sslmode}`, `sslrootcert=${encodeURIComponent(caFile)}`, "connect_timeout=3"];
  const writes = (sslmode: string) => [...common(sslmode), "target_session_attrs=read-write"];
  const db = config.database;
  return {
    acrossHosts: {
      hosts,
      caFile,
      pooled: multi(ROLES.app, app, config.ports.pooler, db, writes("verify-full")),
      pooledSession: multi(ROLES.app, app, config.ports.pooler, `${db}${SESSION_ENTRY_SUFFIX}`, writes("verify-full")),
      readOnly: multi(ROLES.app, app, config.ports.readonly, db, [...common("verify-ca"), `options=${encodeURIComponent("-c default_transaction_read_only=on")}`]),
      direct: multi(ROLES.app, app, config.ports.direct, db, writes("verify-ca")),
      migrations: multi(ROLES.owner, readSecret(paths, "owner"), config.ports.direct, db, writes("verify-ca")),
    },
  };
}

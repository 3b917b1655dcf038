import { ROLES, SESSION_ENTRY_SUFFIX } from "../endpoints.js";
import type { TuskConfig } from "../config/config-file.js";
import { readSecret } from "../secrets.js";
import type { StatePaths } from "../state-dir.js";
import { isLoopback } from "../generate/pg-hba.js";

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
  };
}

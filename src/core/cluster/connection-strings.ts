import { ROLES, SESSION_ENTRY_SUFFIX } from "../endpoints.js";
import type { TuskConfig } from "../config/config-file.js";
import { readSecret } from "../secrets.js";
import type { StatePaths } from "../state-dir.js";

export interface ConnectionStrings {
  /** PgBouncer, transaction pooling: the default for applications. */
  pooled: string;
  /** PgBouncer, session pooling: LISTEN/NOTIFY, advisory locks, session SET, temp tables. */
  pooledSession: string;
  /** PostgreSQL itself, as the application role. */
  direct: string;
  /** PostgreSQL itself, as the owner role: for migrations. */
  migrations: string;
  /** Read-only statistics login (pg_monitor). */
  monitoring: string;
}

function url(user: string, password: string, host: string, port: number, database: string): string {
  return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`;
}

export function connectionStrings(config: TuskConfig, paths: StatePaths): ConnectionStrings {
  const host = config.listen_address === "127.0.0.1" || config.listen_address === "*" || config.listen_address === "0.0.0.0" ? "127.0.0.1" : config.listen_address;
  const app = readSecret(paths, "app");
  const db = config.database;
  return {
    pooled: url(ROLES.app, app, host, config.ports.pooler, db),
    pooledSession: url(ROLES.app, app, host, config.ports.pooler, `${db}${SESSION_ENTRY_SUFFIX}`),
    direct: url(ROLES.app, app, host, config.ports.postgres, db),
    migrations: url(ROLES.owner, readSecret(paths, "owner"), host, config.ports.postgres, db),
    monitoring: url(ROLES.monitor, readSecret(paths, "monitor"), host, config.ports.postgres, db),
  };
}

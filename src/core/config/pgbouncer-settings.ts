import type { SettingSpec } from "./postgres-settings.js";

/**
 * The PgBouncer 1.24 settings a user may override in tusk.yaml, described as data in the same shape as
 * PostgreSQL's (see PgBouncer's config.md). Settings tusk must own (listen address and port, auth,
 * files) are not here and so cannot be overridden.
 */
function spec(name: string, type: SettingSpec["type"], about: string, range: { min?: number; max?: number; unit?: string; values?: string[] } = {}): SettingSpec {
  return {
    name,
    type,
    about,
    unit: range.unit ?? null,
    min: range.min === undefined ? null : String(range.min),
    max: range.max === undefined ? null : String(range.max),
    values: range.values ?? null,
    context: "pgbouncer",
  };
}

const list: SettingSpec[] = [
  spec("pool_mode", "enum", "Default pooling mode of the application entry.", { values: ["session", "transaction", "statement"] }),
  spec("max_client_conn", "integer", "Maximum number of client connections allowed.", { min: 1, max: 100000 }),
  spec("default_pool_size", "integer", "Server connections per user/database pair.", { min: 1, max: 10000 }),
  spec("min_pool_size", "integer", "Keep at least this many server connections open.", { min: 0, max: 10000 }),
  spec("reserve_pool_size", "integer", "Extra server connections allowed when clients wait.", { min: 0, max: 10000 }),
  spec("reserve_pool_timeout", "real", "Seconds a client waits before the reserve pool is used.", { min: 0, max: 3600 }),
  spec("max_db_connections", "integer", "Maximum server connections per database (0 = unlimited).", { min: 0, max: 100000 }),
  spec("max_prepared_statements", "integer", "Protocol-level prepared statements tracked per connection (0 disables).", { min: 0, max: 100000 }),
  spec("query_wait_timeout", "integer", "Seconds a query may wait for a server connection.", { min: 0, max: 86400 }),
  spec("query_timeout", "integer", "Seconds a query may run (0 = no limit).", { min: 0, max: 86400 }),
  spec("client_idle_timeout", "integer", "Close idle client connections after this many seconds (0 = never).", { min: 0, max: 864000 }),
  spec("idle_transaction_timeout", "integer", "Close clients idle in a transaction this long (seconds).", { min: 0, max: 86400 }),
  spec("server_login_retry", "integer", "Wait this long before retrying a failed connection to PostgreSQL (seconds).", { min: 0, max: 3600 }),
  spec("server_idle_timeout", "integer", "Close server connections idle this long (seconds).", { min: 0, max: 86400 }),
  spec("server_lifetime", "integer", "Close server connections older than this (seconds).", { min: 0, max: 864000 }),
  spec("server_connect_timeout", "integer", "Seconds to wait for a server connection to be made.", { min: 1, max: 3600 }),
  spec("log_connections", "bool", "Log successful logins."),
  spec("log_disconnections", "bool", "Log disconnections with reasons."),
  spec("log_pooler_errors", "bool", "Log error messages the pooler sends to clients."),
  spec("stats_period", "integer", "Seconds between averages in SHOW STATS.", { min: 1, max: 3600 }),
  spec("tcp_keepalive", "bool", "Use TCP keepalive on sockets."),
];

export const PGBOUNCER_SETTINGS: ReadonlyMap<string, SettingSpec> = new Map(list.map((s) => [s.name, s]));

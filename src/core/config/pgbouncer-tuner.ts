import type { HostFacts } from "./host-facts.js";
import { setting, type TunedSetting } from "./tuner.js";

/**
 * PgBouncer settings derived from the host, each with its reason (PgBouncer config.md). The pool is
 * sized from the cores: more server connections than the CPU can run only queue inside PostgreSQL.
 */
export function tunePgbouncer(host: HostFacts, maxConnections: number): TunedSetting[] {
  const pool = Math.min(40, Math.max(10, host.cores * 4));
  const reserve = Math.max(2, Math.floor(pool / 4));
  const t = setting;
  return [
    t("pool_mode", "transaction", "A server connection is lent for one transaction: thousands of clients share a small pool. Session-mode features use the _session entry."),
    t("max_client_conn", 2000, "Accept up to 2,000 application connections (file-descriptor limit raised to match)."),
    t("default_pool_size", pool, `4 server connections per core (${host.cores} cores), at least 10: enough to keep the CPU busy while some wait on I/O.`),
    t("reserve_pool_size", reserve, "Extra connections lent when clients have waited reserve_pool_timeout: absorbs bursts."),
    t("reserve_pool_timeout", 3, "Seconds a client waits before the reserve pool helps."),
    t("max_db_connections", Math.floor((maxConnections - 20) / 2), "Transaction and session entries together stay below max_connections, leaving room for superuser, replication and monitoring."),
    t("max_prepared_statements", 200, "Protocol-level prepared statements (node-postgres named queries, postgres.js, JDBC) work in transaction mode (PgBouncer ≥ 1.21)."),
    t("query_wait_timeout", 60, "A query waiting a minute for a server connection fails with an error instead of hanging."),
    t("server_login_retry", 1, "After a failed connection to PostgreSQL (a restart, a failover), retry after 1 s instead of the default 15 s, which would add 15 s to every outage."),
    t("server_idle_timeout", 300, "Close server connections idle for 5 minutes."),
    t("server_lifetime", 3600, "Recycle server connections hourly, releasing memory they accumulated."),
    t("log_connections", "0", "Connection churn from applications would flood the log."),
    t("log_disconnections", "0", "As log_connections."),
    t("log_pooler_errors", "1", "Errors sent to clients are logged."),
    t("stats_period", 15, "Averages in SHOW STATS over 15 s, the metrics collection interval."),
    t("tcp_keepalive", "1", "Detect dead peers on idle connections."),
  ];
}

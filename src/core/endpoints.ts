/**
 * Every port default, API route and well-known name in one place, imported by the supervisor, the
 * CLI, the dashboard and the tests: no route string or default port is written twice. It imports
 * nothing, so the browser loads it as it is (the API serves it beside the dashboard's app.js).
 */
export const DEFAULT_STATE_DIR = "/var/lib/tusk";
export const STATE_DIR_ENV = "TUSK_STATE_DIR";

export const DEFAULT_PORTS = {
  postgres: 5432,
  pooler: 6432,
  /** HAProxy: reads spread over replicas within the lag limit, the primary when none qualifies. */
  readonly: 6433,
  /** HAProxy: PostgreSQL itself, unpooled, on whichever node is primary (the supervisor routes it). */
  direct: 6434,
  patroni: 8008,
  etcd_client: 2379,
  etcd_peer: 2380,
  api: 8432,
  /** pgBackRest's TLS server on the first host of a cluster over several machines: the repository of every data host. */
  backup_server: 8433,
} as const;
export type PortName = keyof typeof DEFAULT_PORTS;

/** The supervisor's HTTP API (bound to loopback, bearer-token protected). */
export const API_PREFIX = "/v1";
export const ROUTES = {
  health: `${API_PREFIX}/health`,
  status: `${API_PREFIX}/status`,
  shutdown: `${API_PREFIX}/shutdown`,
  config: `${API_PREFIX}/config`,
  scale: `${API_PREFIX}/scale`,
  switchover: `${API_PREFIX}/switchover`,
  /** Join tokens for other hosts; the first converts the cluster for the network. */
  hostTokens: `${API_PREFIX}/hosts/tokens`,
  /** The cluster's hosts: role, etcd membership, reachability, certificate expiry. */
  hosts: `${API_PREFIX}/hosts`,
  host: `${API_PREFIX}/hosts/:name`,
  /** The join endpoint (on the host's address, TLS): the CA's certificate (public; checked against the token's fingerprint), and a join. */
  joinCa: `${API_PREFIX}/join/ca`,
  join: `${API_PREFIX}/join`,
  /** On the join endpoint, with the host's current certificate (mutual TLS): a renewed certificate for a host of the cluster. */
  joinCertificate: `${API_PREFIX}/join/certificate`,
  /** This host's certificates and when they end; POST …/renew renews them now. */
  certificates: `${API_PREFIX}/certificates`,
  certificatesRenew: `${API_PREFIX}/certificates/renew`,
  series: `${API_PREFIX}/metrics/series`,
  queries: `${API_PREFIX}/queries`,
  querySeries: `${API_PREFIX}/queries/:queryid/series`,
  tables: `${API_PREFIX}/tables`,
  indexes: `${API_PREFIX}/indexes`,
  locks: `${API_PREFIX}/locks`,
  alerts: `${API_PREFIX}/alerts`,
  rules: `${API_PREFIX}/alerts/rules`,
  silences: `${API_PREFIX}/alerts/silences`,
  backups: `${API_PREFIX}/backups`,
  drills: `${API_PREFIX}/drills/restore`,
  drillHistory: `${API_PREFIX}/drills`,
  clones: `${API_PREFIX}/clones`,
  restore: `${API_PREFIX}/restore`,
  history: `${API_PREFIX}/history`,
  openapi: `${API_PREFIX}/openapi.json`,
  /** Prometheus's conventional path, outside the versioned prefix. */
  prometheus: "/metrics",
} as const;

/** A route with its `:name` parameters filled in (encoded), e.g. routeTo(ROUTES.querySeries, { queryid }). */
export function routeTo(route: string, params: Record<string, string>): string {
  return route.replace(/:([a-z]+)/gi, (_, name: string) => encodeURIComponent(params[name] ?? ""));
}

/** Patroni REST API paths used by the supervisor (Patroni docs, "REST API"). */
export const PATRONI_ROUTES = {
  node: "/patroni",
  cluster: "/cluster",
  config: "/config",
  restart: "/restart",
  reload: "/reload",
} as const;

/** Role names tusk creates. */
export const ROLES = {
  superuser: "postgres",
  replication: "replicator",
  owner: "app_owner",
  app: "app",
  monitor: "tusk_monitor",
  /** What Patroni's pg_rewind connects as: not a superuser, so it can be admitted from other hosts. */
  rewind: "tusk_rewind",
} as const;
export type RoleKey = keyof typeof ROLES;

/** Suffix of the PgBouncer entry that pools in session mode for the same database. */
export const SESSION_ENTRY_SUFFIX = "_session";

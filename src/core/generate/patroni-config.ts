import { stringify } from "yaml";
import { PG_BIN_DIR, PGBACKREST_BIN } from "../install/components.js";
import { archiveCommand, restoreWalCommand, s3HostPort } from "./pgbackrest-config.js";
import { ROLES } from "../endpoints.js";
import type { TuskConfig } from "../config/config-file.js";
import type { TunedSetting } from "../config/tuner.js";
import type { StatePaths } from "../state-dir.js";
import { pgHbaRules } from "./pg-hba.js";
import { tlsFiles } from "../tls/server-certificate.js";
import { clusterCa } from "../tls/cluster-ca.js";
import { isJoinedDataHost, urlHost, type HostNetwork } from "../network/host-network.js";
import { nodePaths, type NodeInfo, type NodePaths } from "../cluster/nodes.js";

/**
 * Patroni's leader-election timing and failover safety (Patroni docs, "Dynamic Configuration
 * Settings"), with reasons. The rule loop_wait + 2 × retry_timeout ≤ ttl keeps a primary from losing
 * the lock while it can still reach etcd. ARCHITECTURE.md has the safety argument.
 */
export const PATRONI_TIMING: TunedSetting[] = [
  {
    name: "ttl",
    value: "6",
    reason:
      "Leader lock lifetime in seconds. A lost primary is replaced about this long after its last renewal, plus Patroni's fixed 2 s check of the lost member: the target is a node-loss outage under 10 s. Patroni 3.0.2 accepts it although its documentation names 20 as the minimum. A stall of the primary's PostgreSQL shorter than the ttl (4 s tested) does not fail it over; etcd stalls are covered by failsafe mode.",
    source: "tuned",
  },
  { name: "loop_wait", value: "1", reason: "Seconds between HA cycles: a crashed postmaster is noticed within a second, and a replica races for an expired lock at once.", source: "tuned" },
  {
    name: "retry_timeout",
    value: "2",
    reason: "Seconds to retry etcd and PostgreSQL before giving up on a cycle: 1 + 2 × 2 = 5 ≤ ttl, so the lock cannot expire while the primary is still retrying.",
    source: "tuned",
  },
  { name: "maximum_lag_on_failover", value: "1048576", reason: "A replica more than 1 MB behind is not promoted.", source: "tuned" },
  { name: "primary_start_timeout", value: "10", reason: "A crashed primary gets 10 s to come back by crash recovery (about 4 s measured) before a replica takes over.", source: "tuned" },
  {
    name: "failsafe_mode",
    value: "true",
    reason: "If etcd itself is unreachable, the primary keeps serving as long as it can reach every other member's Patroni: an etcd stall does not take writes down.",
    source: "tuned",
  },
];

/** How commits wait for replicas (tusk.yaml `replication_mode`). */
export function synchronousSettings(mode: TuskConfig["replication_mode"]): { synchronous_mode: boolean; synchronous_mode_strict: boolean } {
  return { synchronous_mode: mode !== "async", synchronous_mode_strict: mode === "strict" };
}

/** The cluster-wide keys of Patroni's configuration in etcd that tusk converges (besides parameters). */
export function dcsSettings(config: TuskConfig): Record<string, number | boolean> {
  const timing = Object.fromEntries(PATRONI_TIMING.map((s) => [s.name, s.value === "true" ? true : Number(s.value)]));
  return { ...timing, ...synchronousSettings(config.replication_mode) };
}

export interface PatroniSecrets {
  superuser: string;
  replication: string;
  rewind: string;
  restApi: string;
}

/**
 * Where the backup repository is reached, when not in this host's files: the object store when it
 * is the only repository, else the first host's for a joined data host.
 */
function repositoryHost(config: TuskConfig, network: HostNetwork | null | undefined): { host: string; port: number } | undefined {
  if (config.s3?.only) return s3HostPort(config.s3);
  const first = network?.hosts[0];
  return first && isJoinedDataHost(network ?? null) ? { host: first.address, port: config.ports.backup_server } : undefined;
}

/** Where Patroni keeps its clusters' keys in etcd: NAMESPACE + cluster_name + "/". */
export const PATRONI_NAMESPACE = "/tusk/";

/**
 * Bootstrapping from a backup instead of initdb (Patroni docs, "Custom bootstrap"): Patroni runs the
 * restore command into the empty data directory, keeps the recovery settings pgBackRest wrote, starts
 * PostgreSQL, and takes the leader lock once recovery has promoted it.
 */
export interface RestoreBootstrap {
  command: string;
}
export const PATRONI_REST_USER = "tusk";

/** PostgreSQL parameters that stay local to a node (paths), as opposed to cluster-wide in etcd. */
export function localParameters(config: TuskConfig, paths: StatePaths, node: NodePaths): Record<string, string> {
  const tls = tlsFiles(paths);
  return {
    archive_command: archiveCommand(config, paths, PGBACKREST_BIN, node),
    unix_socket_directories: node.socketDir,
    log_directory: node.postgresLogDir,
    ssl: "on",
    ssl_cert_file: tls.cert,
    ssl_key_file: tls.key,
  };
}

/** Patroni tells the supervisor at once when a node's role changes (run/supervisor.sock). */
export interface CallbackCommand {
  /** node binary and the callback script, with the socket path; Patroni appends action, role and scope. */
  command: string;
}

/** Patroni's YAML configuration for one node. Cluster-wide settings are bootstrapped into etcd. */
export function patroniConfig(
  config: TuskConfig,
  paths: StatePaths,
  node: NodeInfo,
  parameters: Record<string, string>,
  secrets: PatroniSecrets,
  callback: CallbackCommand,
  restore?: RestoreBootstrap,
  network: HostNetwork | null = null,
): string {
  const np = nodePaths(paths, node.name);
  const listenHosts = config.listen_address === "127.0.0.1" ? "127.0.0.1" : `127.0.0.1,${config.listen_address}`;
  const tls = tlsFiles(paths);
  // Converted for the network: Patroni reaches etcd on the hosts' addresses with mutual TLS (its
  // client certificate is the server certificate, which carries clientAuth), and other hosts reach
  // this node's PostgreSQL on the host's address (the leader's connect_address is where replicas
  // stream from and pg_rewind reads).
  const etcd = network
    ? { hosts: network.hosts.map((h) => `${urlHost(h.address)}:${config.ports.etcd_client}`), protocol: "https", cacert: clusterCa(paths).cert, cert: tls.cert, key: tls.key }
    : { hosts: [`127.0.0.1:${config.ports.etcd_client}`], protocol: "http" };
  const pgHost = network ? urlHost(network.address) : "127.0.0.1";
  const doc = {
    scope: config.cluster_name,
    namespace: PATRONI_NAMESPACE,
    name: node.name,
    log: { level: "INFO", format: "%(asctime)s %(levelname)s: %(message)s" },
    // Converted for the network: the other hosts' Patroni reach this one's API (failsafe mode, the
    // leader race, switchover) on the host's address, over TLS with a client certificate of the
    // cluster's CA both ways; Patroni's own requests present the same certificate (request.py reads
    // restapi's certfile, keyfile and cafile).
    restapi: network
      ? {
          listen: `${pgHost}:${node.ports.patroni}`,
          connect_address: `${pgHost}:${node.ports.patroni}`,
          certfile: tls.cert,
          keyfile: tls.key,
          cafile: clusterCa(paths).cert,
          verify_client: "required",
          authentication: { username: PATRONI_REST_USER, password: secrets.restApi },
        }
      : {
          listen: `127.0.0.1:${node.ports.patroni}`,
          connect_address: `127.0.0.1:${node.ports.patroni}`,
          authentication: { username: PATRONI_REST_USER, password: secrets.restApi },
        },
    // v2, not etcd3: see processes/etcd.ts for the lock-safety reason.
    etcd,
    bootstrap: {
      dcs: {
        ...dcsSettings(config),
        postgresql: { use_pg_rewind: true, use_slots: true, parameters },
      },
      initdb: [{ encoding: "UTF8" }, { locale: "C.UTF-8" }, "data-checksums", { "auth-local": "peer" }, { "auth-host": "scram-sha-256" }],
      ...(restore ? { method: "tusk_restore", tusk_restore: { command: restore.command, no_params: true, keep_existing_recovery_conf: true } } : {}),
    },
    postgresql: {
      listen: `${listenHosts}:${node.ports.postgres}`,
      connect_address: `${pgHost}:${node.ports.postgres}`,
      data_dir: np.dataDir,
      bin_dir: PG_BIN_DIR,
      pgpass: np.pgpass,
      use_unix_socket: true,
      authentication: {
        superuser: { username: ROLES.superuser, password: secrets.superuser },
        replication: { username: ROLES.replication, password: secrets.replication },
        rewind: { username: ROLES.rewind, password: secrets.rewind },
      },
      parameters: localParameters(config, paths, np),
      pg_hba: pgHbaRules(config.listen_address, network?.hosts.filter((h) => h.role === "data").map((h) => h.address) ?? []),
      // A new replica copies the primary with pg_basebackup (fast checkpoint); a replica that falls
      // behind the primary's WAL fetches it from the backup repository.
      create_replica_methods: ["basebackup"],
      basebackup: [{ checkpoint: "fast" }],
      recovery_conf: { restore_command: restoreWalCommand(config, paths, PGBACKREST_BIN, np, repositoryHost(config, network)) },
      callbacks: { on_role_change: callback.command, on_start: callback.command },
    },
    watchdog: { mode: "off" },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
  };
  return `# Generated by tusk from tusk.yaml; edits are overwritten on the next \`tusk up\`.\n${stringify(doc)}`;
}

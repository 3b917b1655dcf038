import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { asRecord } from "../config/effective-settings.js";
import { FIRST_NODE, nodePaths, type NodeInfo } from "../cluster/nodes.js";
import { clearRemotePrimary } from "../cluster/remote-primary.js";
import { localParameters, PATRONI_REST_USER, patroniConfig } from "../generate/patroni-config.js";
import { hasLocalRepository, hostTls, pgbackrestConf, type BackupLinks } from "../generate/pgbackrest-config.js";
import { hostCertificateName, isJoinedDataHost } from "../network/host-network.js";
import { ensureServerCertificate } from "../tls/server-certificate.js";
import { ensureEtcdCertificate } from "../tls/etcd-certificate.js";
import { usePatroniRest, type PatroniAuth, type PatroniRestTls } from "../processes/patroni.js";
import { clusterCa } from "../tls/cluster-ca.js";
import { SERVER_CERTIFICATE_NAME, tlsFiles } from "../tls/server-certificate.js";
import { ensureSecret } from "../secrets.js";
import { ensureDir, StatePaths, writeAtomic } from "../state-dir.js";
import { callbackSocket, CALLBACK_SCRIPT } from "./callback-server.js";
import { pgOwner, type SupervisorContext } from "./context.js";

/** The state directory's folders and every node's, owned by who runs in them; pgBackRest's file; the server certificate. */
export async function prepareStateDir(ctx: SupervisorContext): Promise<void> {
  const { paths, config } = ctx;
  const pg = pgOwner(ctx);
  ensureDir(paths.root, 0o755); // postgres and etcd must traverse it to reach their directories
  ensureDir(paths.runDir, 0o755);
  ensureDir(paths.logDir, 0o755);
  for (const node of ctx.nodes.all) prepareNodeDirs(ctx, node);
  ensureDir(paths.pgbouncerDir, 0o700, pg);
  ensureDir(paths.haproxyDir, 0o700, pg);
  ensureDir(paths.etcdDataDir, 0o700, { uid: ctx.etcdOsUser.uid, gid: ctx.etcdOsUser.gid });
  for (const dir of [paths.pgbackrestDir, join(paths.pgbackrestDir, "spool"), join(paths.runDir, "pgbackrest"), join(paths.logDir, "pgbackrest")]) ensureDir(dir, 0o700, pg);
  ensureDir(paths.backupRepo, 0o750, pg);
  writePgbackrestConfig(ctx);
  clearRemotePrimary(paths); // until this supervisor sees the leader on another host
  await ensureServerCertificate(paths, config.listen_address, config.cluster_name, ctx.pgUser);
  if (ctx.network) await ensureEtcdCertificate(paths, config.cluster_name, ctx.network.address, ctx.etcdOsUser);
}

/** pgbackrest.conf: the settings in force, and how pgBackRest reaches the other hosts (`backupLinks`). */
export function writePgbackrestConfig(ctx: SupervisorContext): void {
  writeAtomic(ctx.paths.pgbackrestConfig, pgbackrestConf(ctx.config, ctx.paths, ctx.settings.pgbackrest, backupLinks(ctx)), 0o600, pgOwner(ctx));
}

/**
 * How this host's pgBackRest reaches the others once hosts joined. The first host's repository is
 * the cluster's, served by its TLS server to the data hosts' certificates, so WAL reaches one
 * repository whichever host's node is primary (a repository per host would break at the first
 * failover: archive-push into the new primary's empty repository fails). A data host archives
 * there, and runs a TLS server of its own for the first host's certificate ("tusk server"):
 * backups run on the repository's host (pgBackRest requires it) and reach a primary on a data host
 * through it. None on one machine, and on a witness. With S3 as the only repository every host
 * reaches the object store itself: the first host serves no repository, and a data host's server
 * remains for the first host's backups.
 */
export function backupLinks(ctx: SupervisorContext): BackupLinks | undefined {
  const { network, config, paths } = ctx;
  const first = network?.hosts[0];
  if (network?.role !== "data" || !first) return undefined;
  const tls = hostTls(paths);
  const port = config.ports.backup_server;
  const server = (clients: string[]) => ({ address: network.address, port, clients });
  if (isJoinedDataHost(network)) {
    if (!hasLocalRepository(ctx.config)) return { tls, server: server([SERVER_CERTIFICATE_NAME]) };
    const config = new StatePaths(first.stateDir ?? paths.root).pgbackrestConfig;
    return { tls, repository: { host: first.address, port, config }, server: server([SERVER_CERTIFICATE_NAME]) };
  }
  if (!hasLocalRepository(config)) return { tls };
  const joined = network.hosts.filter((h) => h.role === "data" && h.name !== network.name).map((h) => hostCertificateName(h.name));
  // The first host's own certificate keeps the list non-empty before any data host joined.
  return { tls, server: server([SERVER_CERTIFICATE_NAME, ...joined]) };
}

/** Whether this host runs pgBackRest's TLS server (a data host of a converted cluster). */
export const runsBackupServer = (ctx: SupervisorContext): boolean => backupLinks(ctx)?.server !== undefined;

export function prepareNodeDirs(ctx: SupervisorContext, node: NodeInfo): void {
  const pg = pgOwner(ctx);
  const np = nodePaths(ctx.paths, node.name);
  if (node.name !== FIRST_NODE) ensureDir(dirname(dirname(np.dataDir)), 0o755); // nodes/: postgres traverses it
  ensureDir(np.postgresLogDir, 0o700, pg);
  ensureDir(np.socketDir, 0o755, pg);
  ensureDir(dirname(np.dataDir), 0o700, pg);
  ensureDir(np.patroniDir, 0o700, pg);
  ensureDir(ctx.paths.runDir, 0o755);
  for (const dir of [ctx.paths.pgbackrestDir, dirname(np.spoolDir), np.spoolDir, join(ctx.paths.runDir, "pgbackrest"), np.lockDir]) ensureDir(dir, 0o700, pg);
}

/** A node's patroni.yml; `restore` makes its first start restore from a backup instead of running initdb. */
export function writePatroniConfig(ctx: SupervisorContext, node: NodeInfo, restore?: { command: string }): void {
  const { config, paths } = ctx;
  const secrets = {
    superuser: ensureSecret(paths, "superuser"),
    replication: ensureSecret(paths, "replication"),
    rewind: ensureSecret(paths, "rewind"),
    restApi: ensureSecret(paths, "patroni_rest"),
  };
  const callback = { command: `${process.execPath} ${CALLBACK_SCRIPT} ${callbackSocket(paths)}` };
  writeAtomic(nodePaths(paths, node.name).patroniConfig, patroniConfig(config, paths, node, clusterParameters(ctx), secrets, callback, restore, ctx.network), 0o600, pgOwner(ctx));
  usePatroniRest(node.ports.patroni, patroniRestTls(ctx));
}

/** How this host's supervisor reaches its nodes' Patroni API: on the address over TLS once converted (patroni-config.ts). */
export function patroniRestTls(ctx: SupervisorContext): PatroniRestTls | undefined {
  if (!ctx.network) return undefined;
  const tls = tlsFiles(ctx.paths);
  return { address: ctx.network.address, ca: readFileSync(clusterCa(ctx.paths).cert), cert: readFileSync(tls.cert), key: readFileSync(tls.key) };
}

/** The parameters kept in etcd for the whole cluster: all but the node-local ones (paths, TLS files). */
export function clusterParameters(ctx: SupervisorContext): Record<string, string> {
  const local = localParameters(ctx.config, ctx.paths, nodePaths(ctx.paths, FIRST_NODE));
  return Object.fromEntries(Object.entries(asRecord(ctx.settings.postgres)).filter(([k]) => !(k in local)));
}

export function patroniAuth(ctx: SupervisorContext): PatroniAuth {
  return { user: PATRONI_REST_USER, password: ensureSecret(ctx.paths, "patroni_rest") };
}

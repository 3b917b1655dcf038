import type { TuskConfig } from "../config/config-file.js";
import type { TunedSetting } from "../config/tuner.js";
import type { RemotePgNode } from "../cluster/remote-primary.js";
import type { StatePaths } from "../state-dir.js";
import { clusterCa } from "../tls/cluster-ca.js";
import { tlsFiles } from "../tls/server-certificate.js";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import type { S3Repository } from "../config/s3-repository.js";

/**
 * The off-machine repository is pgBackRest's repo2; the local one stays repo1. With `backups.s3.only`
 * repo1 is not configured at all (pgBackRest's repository keys may leave gaps), so a backup label's
 * repository number means the same on every cluster.
 */
export const S3_REPO = 2;

/** Whether the cluster keeps a repository of its own (repo1): not when S3 is its only one. */
export const hasLocalRepository = (config: TuskConfig): boolean => !config.s3?.only;

/** The repositories a backup goes to, the first being the one drills, restores and the schedule read. */
export function repositories(config: TuskConfig): number[] {
  if (!config.s3) return [1];
  return config.s3.only ? [S3_REPO] : [1, S3_REPO];
}

/** The repository whose backups count: the local one, or S3 when it is the only one. */
export const primaryRepository = (config: TuskConfig): number => repositories(config)[0]!;

/** The object store's host and port (HTTPS: 443 unless the endpoint names another). */
export function s3HostPort(s3: S3Repository): { host: string; port: number } {
  const [host, port] = s3.endpoint.split(":");
  return { host: host!, port: Number(port ?? 443) };
}

/** Where the cluster's backups live in the bucket unless tusk.yaml says otherwise. */
export function s3Path(config: TuskConfig, s3: S3Repository): string {
  return s3.path ?? `/tusk/${config.cluster_name}`;
}

/**
 * repo2 on S3: same retention as repo1 (tusk expires sets per repository by its own policy). The
 * secret key is copied from its file into this file, which only the postgres user can read.
 */
function s3RepoLines(config: TuskConfig, s3: S3Repository, settings: TunedSetting[]): string[] {
  const { host, port } = s3HostPort(s3);
  const r = `repo${S3_REPO}`;
  return [
    `${r}-type=s3`,
    `${r}-path=${s3Path(config, s3)}`,
    `${r}-s3-bucket=${s3.bucket}`,
    `${r}-s3-endpoint=${host}`,
    ...(port !== 443 ? [`${r}-storage-port=${port}`] : []),
    `${r}-s3-region=${s3.region}`,
    `${r}-s3-uri-style=${s3.uri_style}`,
    `${r}-s3-key=${s3.access_key_id}`,
    `${r}-s3-key-secret=${readFileSync(s3.secret_access_key_file, "utf8").trim()}`,
    ...(s3.ca_file ? [`${r}-storage-ca-file=${s3.ca_file}`] : []),
    ...settings.filter((s) => s.name.startsWith("repo1-")).map((s) => `${r}-${s.name.slice("repo1-".length)}=${s.value}`),
  ];
}

/** TLS files of a host: its certificate and key (issued by the cluster's CA), and the CA. */
export interface HostTls {
  cert: string;
  key: string;
  ca: string;
}

/** This host's TLS files, as pgBackRest names them to its peers on the other hosts. */
export const hostTls = (paths: StatePaths): HostTls => ({ ...tlsFiles(paths), ca: clusterCa(paths).cert });

/** pgBackRest on another host, reached through its TLS server: its address and port, and pgbackrest.conf's path there. */
export interface BackupPeer {
  host: string;
  port: number;
  /**
   * The server reads its options from the file the client names (`repo1-host-config`,
   * `pg1-host-config`), which defaults to /etc/pgbackrest/pgbackrest.conf, not the client's file.
   */
  config: string;
}

/**
 * How a host's pgBackRest reaches the others once hosts joined (pgBackRest's TLS server):
 * - `repository`: the local repository is on another host (a joined data host's: the first host's),
 *   so archive-push and archive-get go there over TLS and WAL reaches the one repository whichever
 *   host's node is primary; without it, the repository is here (or, with S3 only, nowhere);
 * - `server`: this host runs pgBackRest's TLS server on its address for the certificates named in
 *   `clients` (their CN, checked against the cluster's CA): the first host serves the repository to
 *   the data hosts, a data host serves its node to the first host's backups.
 */
export interface BackupLinks {
  tls: HostTls;
  repository?: BackupPeer;
  server?: { address: string; port: number; clients: string[] };
}

function repositoryLines(paths: StatePaths, links: BackupLinks | undefined): string[] {
  if (links?.repository) {
    const {
      tls,
      repository: { host, port, config },
    } = links;
    return [
      "repo1-host-type=tls",
      `repo1-host=${host}`,
      `repo1-host-port=${port}`,
      `repo1-host-config=${config}`,
      `repo1-host-cert-file=${tls.cert}`,
      `repo1-host-key-file=${tls.key}`,
      `repo1-host-ca-file=${tls.ca}`,
    ];
  }
  return [`repo1-path=${paths.backupRepo}`];
}

/** `pgbackrest server`'s own section: read by that command alone. */
function serverLines(config: TuskConfig, links: BackupLinks | undefined): string[] {
  if (!links?.server) return [];
  const {
    tls,
    server: { address, port, clients },
  } = links;
  return [
    "",
    "[global:server]",
    `tls-server-address=${address}`,
    `tls-server-port=${port}`,
    `tls-server-cert-file=${tls.cert}`,
    `tls-server-key-file=${tls.key}`,
    `tls-server-ca-file=${tls.ca}`,
    ...clients.map((cn) => `tls-server-auth=${cn}=${config.cluster_name}`),
  ];
}

/**
 * pgbackrest.conf for one cluster: the [global] section holds the repositories and tuned settings,
 * the stanza (named after the cluster) says where PostgreSQL is. pgBackRest runs as the postgres OS
 * user and reaches PostgreSQL over the Unix socket with peer authentication. The tuned repo1-*
 * settings apply to the S3 repository too, and to it alone when it is the only one.
 */
export function pgbackrestConf(config: TuskConfig, paths: StatePaths, settings: TunedSetting[], links?: BackupLinks): string {
  const local = hasLocalRepository(config);
  return [
    "# Generated by tusk; edits are overwritten on the next `tusk up`.",
    "[global]",
    ...(local ? repositoryLines(paths, links) : []),
    `spool-path=${join(paths.pgbackrestDir, "spool")}`,
    `lock-path=${join(paths.runDir, "pgbackrest")}`,
    `log-path=${join(paths.logDir, "pgbackrest")}`,
    ...settings.filter((s) => local || !s.name.startsWith("repo1-")).map((s) => `${s.name}=${s.value}`),
    ...(config.s3 ? s3RepoLines(config, config.s3, settings) : []),
    ...serverLines(config, links),
    "",
    `[${config.cluster_name}]`,
    `pg1-path=${paths.dataDir}`,
    `pg1-port=${config.ports.postgres}`,
    `pg1-socket-path=${paths.postgresSocketDir}`,
    "pg1-user=postgres",
    "",
  ].join("\n");
}

/**
 * The options that make pgBackRest's archive commands act for one node: pgbackrest.conf's pg1-path
 * is node pg1's, and pgBackRest refuses to run from another data directory ("PostgreSQL working
 * directory … is not the same as option pg1-path"); and each node gets its own spool and lock
 * directory, so two nodes' asynchronous queues and archive locks never meet.
 */
export interface ArchiveNode {
  dataDir: string;
  spoolDir: string;
  lockDir: string;
}

function nodeOptions(config: TuskConfig, paths: StatePaths, node: ArchiveNode): string {
  return `--config=${paths.pgbackrestConfig} --stanza=${config.cluster_name} --pg1-path=${node.dataDir} --spool-path=${node.spoolDir} --lock-path=${node.lockDir}`;
}

/**
 * archive_command for one node: asynchronous push into this cluster's repository. It runs in UTC
 * (PostgreSQL runs it through the shell): pgBackRest logs in local time without a zone, and tusk
 * reads the archive-push logs for WAL dropped past `archive_queue_max` (wal-drops.ts).
 */
export function archiveCommand(config: TuskConfig, paths: StatePaths, bin: string, node: ArchiveNode): string {
  return `TZ=UTC ${bin} ${nodeOptions(config, paths, node)} archive-push %p`;
}

/**
 * restore_command for one node: a replica that falls behind the primary's WAL fetches it from the
 * repository. With the repository on another host (or the object store), a probe of its port (half
 * a second) comes first: PostgreSQL runs restore_command while it promotes (timeline history files),
 * and with the repository's host lost, pgBackRest's own wait for it held a promotion past 90 s
 * (measured here).
 */
export function restoreWalCommand(config: TuskConfig, paths: StatePaths, bin: string, node: ArchiveNode, repositoryHost?: { host: string; port: number }): string {
  const get = `${bin} ${nodeOptions(config, paths, node)} archive-get %f "%p"`;
  if (!repositoryHost) return get;
  return `timeout 0.5 bash -c '</dev/tcp/${repositoryHost.host}/${repositoryHost.port}' 2>/dev/null && ${get}`;
}

/**
 * pgBackRest's pg1-* options for a primary on another host, as a backup on the repository's host
 * reaches it: through that host's TLS server (its pgbackrest.conf named, since the server reads the
 * file the client names), with this host's certificate; the data directory and socket are that
 * host's. They override the stanza's local pg1-* lines.
 */
export function remotePrimaryOptions(node: RemotePgNode, serverPort: number, tls: HostTls): string[] {
  return [
    `--pg1-host=${node.host}`,
    "--pg1-host-type=tls",
    `--pg1-host-port=${serverPort}`,
    `--pg1-host-config=${node.config}`,
    `--pg1-host-cert-file=${tls.cert}`,
    `--pg1-host-key-file=${tls.key}`,
    `--pg1-host-ca-file=${tls.ca}`,
    `--pg1-path=${node.dataDir}`,
    `--pg1-port=${node.pgPort}`,
    `--pg1-socket-path=${node.socketDir}`,
  ];
}

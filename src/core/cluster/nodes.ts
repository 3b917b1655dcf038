import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { TuskConfig } from "../config/config-file.js";
import { isJoinedDataHost, readHostNetwork } from "../network/host-network.js";
import { writeAtomic, type StatePaths } from "../state-dir.js";

/**
 * The PostgreSQL nodes of a cluster on this machine. Node pg1 is the one `tusk up` first created
 * (ports from tusk.yaml, the original directories); replicas pg2, pg3… get their own data directory,
 * ports and Patroni, recorded in nodes.json. Roles move between nodes on switchover and failover; a
 * node's name, ports and directories never do.
 */
export interface NodeInfo {
  name: string;
  ports: { postgres: number; patroni: number };
}

export interface NodePaths {
  dataDir: string;
  patroniDir: string;
  patroniConfig: string;
  pgpass: string;
  socketDir: string;
  postgresLogDir: string;
  patroniLog: string;
  patroniPid: string;
  /** pgBackRest's asynchronous archive queues for this node's PostgreSQL (never shared between nodes). */
  spoolDir: string;
  /**
   * pgBackRest's lock files for this node's archive commands. Shared, two replicas fetching WAL at
   * once failed on the archive lock ([050]) and one waited out archive-timeout (60 s) inside
   * restore_command, which held up its promotion by a minute.
   */
  lockDir: string;
}

export const FIRST_NODE = "pg1";

export function nodePaths(paths: StatePaths, name: string): NodePaths {
  if (name === FIRST_NODE) {
    return {
      dataDir: paths.dataDir,
      patroniDir: paths.patroniDir,
      patroniConfig: paths.patroniConfig,
      pgpass: paths.pgpass,
      socketDir: paths.postgresSocketDir,
      postgresLogDir: paths.postgresLogDir,
      patroniLog: paths.log("patroni"),
      patroniPid: paths.pidFile("patroni"),
      spoolDir: join(paths.pgbackrestDir, "spool"),
      lockDir: join(paths.runDir, "pgbackrest"),
    };
  }
  const root = join(paths.root, "nodes", name);
  return {
    dataDir: join(root, "data"),
    patroniDir: join(root, "patroni"),
    patroniConfig: join(root, "patroni", "patroni.yml"),
    pgpass: join(root, "patroni", "pgpass"),
    socketDir: join(paths.runDir, `postgresql-${name}`),
    postgresLogDir: join(paths.logDir, `postgresql-${name}`),
    patroniLog: paths.log(`patroni-${name}`),
    patroniPid: paths.pidFile(`patroni-${name}`),
    spoolDir: join(paths.pgbackrestDir, "spool", name),
    lockDir: join(paths.runDir, "pgbackrest", name),
  };
}

/** Where replicas are recorded: [{ name, ports }] for pg2 onwards. */
function nodesFile(paths: StatePaths): string {
  return join(paths.root, "nodes.json");
}

function readReplicaNodes(paths: StatePaths): NodeInfo[] {
  const file = nodesFile(paths);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as NodeInfo[]) : [];
}

/** This machine's first node: pg1, or on a data host that joined a cluster, the node named after the host (Patroni's member names are the cluster's). */
function firstNodeName(paths: StatePaths): string {
  const network = readHostNetwork(paths);
  return network && isJoinedDataHost(network) ? network.name : FIRST_NODE;
}

export function readNodes(config: TuskConfig, paths: StatePaths): NodeInfo[] {
  const first: NodeInfo = { name: firstNodeName(paths), ports: { postgres: config.ports.postgres, patroni: config.ports.patroni } };
  return [first, ...readReplicaNodes(paths)];
}

/** Every node's name, without reading tusk.yaml (for cleaning up after a dead supervisor). */
export function nodeNames(paths: StatePaths): string[] {
  return [firstNodeName(paths), ...readReplicaNodes(paths).map((n) => n.name)];
}

export function writeReplicaNodes(paths: StatePaths, replicas: NodeInfo[]): void {
  writeAtomic(nodesFile(paths), `${JSON.stringify(replicas, null, 2)}\n`, 0o644);
}

/** The next free node name: pg2, pg3… */
export function nextNodeName(nodes: NodeInfo[]): string {
  const used = new Set(nodes.map((n) => n.name));
  for (let i = 2; ; i++) if (!used.has(`pg${i}`)) return `pg${i}`;
}

/** The current primary as the supervisor last saw it (run/primary.json); pg1 until told otherwise. */
export interface PrimaryInfo {
  name: string;
  port: number;
  dataDir: string;
  socketDir: string;
}

function primaryFile(paths: StatePaths): string {
  return join(paths.runDir, "primary.json");
}

export function readPrimary(config: TuskConfig, paths: StatePaths): PrimaryInfo {
  const file = primaryFile(paths);
  if (existsSync(file)) {
    try {
      return JSON.parse(readFileSync(file, "utf8")) as PrimaryInfo;
    } catch {
      /* being replaced: fall through */
    }
  }
  const p = nodePaths(paths, FIRST_NODE);
  return { name: FIRST_NODE, port: config.ports.postgres, dataDir: p.dataDir, socketDir: p.socketDir };
}

export function writePrimary(paths: StatePaths, node: NodeInfo): void {
  const p = nodePaths(paths, node.name);
  const info: PrimaryInfo = { name: node.name, port: node.ports.postgres, dataDir: p.dataDir, socketDir: p.socketDir };
  writeAtomic(primaryFile(paths), `${JSON.stringify(info)}\n`, 0o644);
}

/** Forgets the last primary: the next start makes pg1 the primary (after an in-place restore). */
export function clearPrimary(paths: StatePaths): void {
  rmSync(primaryFile(paths), { force: true });
}

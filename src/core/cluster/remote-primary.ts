import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { StatePaths, writeAtomic } from "../state-dir.js";
import { nodePaths } from "./nodes.js";

/**
 * The primary as this host's supervisor last saw it, when it is a node of another host
 * (run/remote-primary.json; absent while the primary is one of this host's nodes). The first host
 * takes the backups (pgBackRest runs them on the repository's host) and reaches such a primary
 * through that host's pgBackRest TLS server.
 */
export interface RemotePrimary {
  /** Its Patroni member name. */
  name: string;
  /** Its host's address and PostgreSQL's port there. */
  host: string;
  port: number;
  /** Its host's state directory (its data directory, socket and pgbackrest.conf are named from it). */
  stateDir: string;
}

/** Where pgBackRest on the repository's host finds a remote primary's files, on that host. */
export interface RemotePgNode {
  host: string;
  pgPort: number;
  dataDir: string;
  socketDir: string;
  config: string;
}

const file = (paths: StatePaths) => join(paths.runDir, "remote-primary.json");

export function readRemotePrimary(paths: StatePaths): RemotePrimary | undefined {
  if (!existsSync(file(paths))) return undefined;
  try {
    return JSON.parse(readFileSync(file(paths), "utf8")) as RemotePrimary;
  } catch {
    return undefined; // being replaced: the next read has it
  }
}

export function writeRemotePrimary(paths: StatePaths, primary: RemotePrimary): void {
  writeAtomic(file(paths), `${JSON.stringify(primary)}\n`, 0o644);
}

export function clearRemotePrimary(paths: StatePaths): void {
  rmSync(file(paths), { force: true });
}

/** A remote primary's files as named on its host. */
export function remotePgNode(primary: RemotePrimary): RemotePgNode {
  const there = new StatePaths(primary.stateDir);
  const { dataDir, socketDir } = nodePaths(there, primary.name);
  return { host: primary.host, pgPort: primary.port, dataDir, socketDir, config: there.pgbackrestConfig };
}

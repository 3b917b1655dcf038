import { join } from "node:path";
import { PGBACKREST_BIN } from "../install/components.js";
import { run, tail, type RunResult } from "../exec.js";
import { TuskError } from "../errors.js";
import type { TuskConfig } from "../config/config-file.js";
import type { OsUser } from "../os-user.js";
import type { StatePaths } from "../state-dir.js";
import { FIRST_NODE, readPrimary } from "../cluster/nodes.js";
import { readRemotePrimary, remotePgNode } from "../cluster/remote-primary.js";
import { hostTls, remotePrimaryOptions } from "../generate/pgbackrest-config.js";

/** The parts of `pgbackrest info --output=json` tusk reads (pgBackRest keeps this format stable). */
export interface PgbackrestInfo {
  name: string;
  status: { code: number; message: string };
  archive: { id: string; min: string | null; max: string | null }[];
  backup: {
    label: string;
    type: "full" | "diff" | "incr";
    timestamp: { start: number; stop: number };
    info: { size: number; delta: number; repository: { size: number; delta: number } };
    archive: { start: string | null; stop: string | null };
    lsn?: { start: string; stop: string };
    error?: boolean;
    /** Which repository holds it (1 local, 2 the S3 repository). */
    database?: { id: number; "repo-key"?: number };
  }[];
}

/** Whether `info` read the stanza: "ok" or "no valid backup". Another status lists no backup whatever the repository holds. */
export function infoReadable(info: PgbackrestInfo): boolean {
  return info.status.code === OK || info.status.code === NO_BACKUP;
}

export type BackupType = "full" | "diff" | "incr";

/** Commands that take pgBackRest's pg1-* options (the ones that reach PostgreSQL or its files). */
const REACHES_POSTGRES = new Set(["backup", "check", "stanza-create", "stanza-upgrade", "archive-push"]);

/** pgBackRest's exit code for "unable to acquire lock". */
const LOCK_CONFLICT = 50;
/** `info` status codes: the stanza is valid, with or without a backup yet. */
const OK = 0;
const NO_BACKUP = 2;

/**
 * pgBackRest for one cluster, run as the postgres OS user with the cluster's generated config.
 * Timing contract: stanza-create and check take seconds; backup and restore take as long as the
 * data needs (progress is reported per file); pgBackRest's own lock makes concurrent backups fail
 * fast rather than queue.
 */
export class Pgbackrest {
  constructor(
    private readonly config: TuskConfig,
    private readonly paths: StatePaths,
    private readonly user: OsUser,
  ) {}

  /**
   * The configuration names node pg1; after a failover, the commands that reach PostgreSQL are
   * pointed at the current primary: another local node, or a node of another host (through that
   * host's pgBackRest TLS server; archive-push stays local, as pgBackRest requires). The others
   * (info, expire, verify) reject pg options.
   */
  private base(command: string): string[] {
    return [`--config=${this.paths.pgbackrestConfig}`, `--stanza=${this.config.cluster_name}`, ...(REACHES_POSTGRES.has(command) ? this.primaryOptions(command) : [])];
  }

  private primaryOptions(command: string): string[] {
    const remote = command === "archive-push" ? undefined : readRemotePrimary(this.paths);
    if (remote) return remotePrimaryOptions(remotePgNode(remote), this.config.ports.backup_server, hostTls(this.paths));
    const primary = readPrimary(this.config, this.paths);
    return primary.name === FIRST_NODE ? [] : [`--pg1-path=${primary.dataDir}`, `--pg1-port=${primary.port}`, `--pg1-socket-path=${primary.socketDir}`];
  }

  /**
   * A backup's output goes to a file rather than a pipe: when the supervisor running it dies, a pipe
   * would break under pgBackRest and end it, while this way it finishes and the next supervisor
   * adopts it.
   */
  async run(command: string, args: string[] = [], onLine?: (line: string) => void): Promise<RunResult> {
    const repo = args.find((a) => a.startsWith("--repo="))?.slice("--repo=".length) ?? "1";
    const outputFile = command === "backup" ? join(this.paths.runDir, `pgbackrest-backup-repo${repo}.out`) : undefined;
    return run(PGBACKREST_BIN, [...this.base(command), ...args, command], { uid: this.user.uid, gid: this.user.gid, cwd: this.paths.pgbackrestDir, onLine, outputFile });
  }

  /**
   * Runs a command and fails with a TuskError if it fails. pgBackRest's asynchronous archive-push
   * worker (started by archive_command, detached) may hold a lock for a moment after PostgreSQL
   * stops or while it drains its queue; lock conflicts (code 50) are retried for up to 30 s.
   */
  async mustRun(command: string, args: string[] = [], onLine?: (line: string) => void): Promise<RunResult> {
    let r = await this.run(command, args, onLine);
    const deadline = Date.now() + 30_000;
    while (r.code === LOCK_CONFLICT && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 500));
      r = await this.run(command, args, onLine);
    }
    if (r.code !== 0) {
      throw new TuskError("ProcessFailed", `pgbackrest ${command} failed (code ${r.code}).`, {
        detail: tail(r.stderr || r.stdout, 8),
        hint: `See ${this.paths.logDir}/pgbackrest for the whole log.`,
      });
    }
    return r;
  }

  /** Creates the stanza in the repository when it is missing, then checks that WAL archiving works. */
  async ensureStanza(): Promise<void> {
    const info = await this.info();
    // Any status but "ok" or "no backup yet" (a new stanza, or a repository added since) needs
    // stanza-create, which leaves a valid stanza as it is.
    if (!info || !infoReadable(info)) await this.mustRun("stanza-create");
    await this.mustRun("check");
  }

  /** Runs a backup into one repository, reporting the fraction done (0–1) as pgBackRest copies each file. */
  async backup(type: BackupType, onProgress: (fraction: number) => void, repo = 1): Promise<void> {
    await this.mustRun("backup", [`--type=${type}`, `--repo=${repo}`, "--log-level-console=detail"], (line) => {
      const m = /\((?:[\d.]+\s*[KMGT]?B|bundle [^)]*?), ([\d.]+)%\)/.exec(line) ?? /, ([\d.]+)%\)/.exec(line);
      if (m?.[1]) onProgress(Number(m[1]) / 100);
    });
  }

  /** Pushes one WAL file synchronously, without the asynchronous queue of a running cluster. */
  async archivePush(walFile: string): Promise<void> {
    const r = await run(PGBACKREST_BIN, [...this.base("archive-push"), "--no-archive-async", "archive-push", walFile], { uid: this.user.uid, gid: this.user.gid, cwd: this.paths.pgbackrestDir });
    if (r.code !== 0) {
      throw new TuskError("ProcessFailed", `pgbackrest archive-push ${walFile} failed (code ${r.code}).`, { detail: tail(r.stderr || r.stdout, 8) });
    }
  }

  async info(): Promise<PgbackrestInfo | undefined> {
    const r = await this.mustRun("info", ["--output=json"]);
    const list = JSON.parse(r.stdout) as PgbackrestInfo[];
    return list.find((s) => s.name === this.config.cluster_name);
  }
}

import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { TuskError } from "./errors.js";
import { DEFAULT_STATE_DIR, STATE_DIR_ENV } from "./endpoints.js";

/** Bumped when the layout of a state directory changes incompatibly. */
export const STATE_FORMAT = 1;
export const TUSK_VERSION = "0.1.0";

/**
 * Where every piece of a cluster's state lives. One state directory holds one cluster; tests make
 * their own so they run beside a user's cluster.
 */
export class StatePaths {
  constructor(readonly root: string) {}
  get marker() {
    return join(this.root, "tusk-state.json");
  }
  get configFile() {
    return join(this.root, "tusk.yaml");
  }
  get secretsDir() {
    return join(this.root, "secrets");
  }
  secret(name: string) {
    return join(this.secretsDir, `${name}.secret`);
  }
  get runDir() {
    return join(this.root, "run");
  }
  get logDir() {
    return join(this.root, "log");
  }
  log(name: string) {
    return join(this.logDir, `${name}.log`);
  }
  pidFile(name: string) {
    return join(this.runDir, `${name}.pid`);
  }
  get keeperPid() {
    return this.pidFile("keeper");
  }

  /** The backup schedule the supervisor keeps, so that the next one catches up what fell due meanwhile. */
  get scheduleFile() {
    return join(this.runDir, "schedule.json");
  }
  get supervisorPid() {
    return this.pidFile("supervisor");
  }
  get postgresLogDir() {
    return join(this.logDir, "postgresql");
  }
  get postgresSocketDir() {
    return join(this.runDir, "postgresql");
  }
  get dataDir() {
    return join(this.root, "postgresql", "data");
  }
  get etcdDataDir() {
    return join(this.root, "etcd");
  }
  get patroniDir() {
    return join(this.root, "patroni");
  }
  get patroniConfig() {
    return join(this.patroniDir, "patroni.yml");
  }
  get pgpass() {
    return join(this.patroniDir, "pgpass");
  }
  get tlsDir() {
    return join(this.root, "tls");
  }
  /** Present in a clone's state directory until its first start: what to restore, from where. */
  get restoreSpec() {
    return join(this.root, "restore.json");
  }
  /**
   * Present when the next start must clear the cluster's keys in etcd before Patroni starts: after an
   * in-place restore put the previous data directory back.
   */
  get resetDcs() {
    return join(this.root, "reset-dcs");
  }
  /** Scratch instances of restore drills (each removed after its drill). */
  get scratchDir() {
    return join(this.root, "scratch");
  }
  get pgbackrestDir() {
    return join(this.root, "pgbackrest");
  }
  get pgbackrestConfig() {
    return join(this.pgbackrestDir, "pgbackrest.conf");
  }
  /** The local backup repository: beside the data directory, never inside it. */
  get backupRepo() {
    return join(this.root, "backups");
  }
  get pgbouncerDir() {
    return join(this.root, "pgbouncer");
  }
  get pgbouncerIni() {
    return join(this.pgbouncerDir, "pgbouncer.ini");
  }
  /** PgBouncer's client authentication rules (auth_hba_file). */
  get pgbouncerHba() {
    return join(this.pgbouncerDir, "hba.conf");
  }
  get pgbouncerUsers() {
    return join(this.pgbouncerDir, "userlist.txt");
  }
  /** The read-only endpoint's HAProxy: its configuration and stats socket. */
  get haproxyDir() {
    return join(this.root, "haproxy");
  }
  get haproxyConfig() {
    return join(this.haproxyDir, "haproxy.cfg");
  }
  get haproxyStatsSocket() {
    return join(this.haproxyDir, "stats.sock");
  }
}

export function resolveStateDir(flag: string | undefined): string {
  return flag ?? process.env[STATE_DIR_ENV] ?? DEFAULT_STATE_DIR;
}

interface Marker {
  format: number;
  createdBy: string;
  createdAt: string;
}

/**
 * Refuses a state directory written by an incompatible tusk, and stamps a new one.
 * Returns whether the directory is new.
 */
export function claimStateDir(paths: StatePaths): boolean {
  if (existsSync(paths.marker)) {
    let marker: Marker;
    try {
      marker = JSON.parse(readFileSync(paths.marker, "utf8")) as Marker;
    } catch {
      throw new TuskError("IncompatibleState", `${paths.marker} is unreadable, so ${paths.root} cannot be trusted as a tusk state directory.`, {
        hint: "Restore that file from a backup, or point --state-dir at another directory.",
      });
    }
    if (marker.format !== STATE_FORMAT) {
      throw new TuskError("IncompatibleState", `${paths.root} was written by tusk ${marker.createdBy} (state format ${marker.format}); this tusk ${TUSK_VERSION} reads format ${STATE_FORMAT} only.`, {
        hint: `Run the tusk version that created it, or choose another --state-dir. Nothing in ${paths.root} was changed.`,
      });
    }
    return false;
  }
  mkdirSync(paths.root, { recursive: true, mode: 0o755 });
  writeAtomic(paths.marker, `${JSON.stringify({ format: STATE_FORMAT, createdBy: TUSK_VERSION, createdAt: new Date().toISOString() }, null, 2)}\n`, 0o644);
  return true;
}

/** Writes a file via rename so readers never see half of it. */
export function writeAtomic(path: string, content: string, mode = 0o600, owner?: { uid: number; gid: number }): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  if (owner) chownSync(tmp, owner.uid, owner.gid);
  renameSync(tmp, path);
}

/** Creates a directory (and parents) owned by `owner` with `mode`. */
export function ensureDir(path: string, mode: number, owner?: { uid: number; gid: number }): void {
  mkdirSync(path, { recursive: true, mode });
  chmodSync(path, mode);
  if (owner) chownSync(path, owner.uid, owner.gid);
}

import pg from "pg";
import { formatWallClock } from "../time/wall-clock.js";
import { ROLES } from "../endpoints.js";
import { readSecret } from "../secrets.js";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { clusterCa } from "../tls/cluster-ca.js";
import { join } from "node:path";
import { stringify } from "yaml";
import { TuskError } from "../errors.js";
import { Cluster } from "../cluster/cluster.js";
import { ensureRestoreSpace } from "./restore-space.js";
import { freePortSet } from "../cluster/free-ports.js";
import { withSuperuser } from "../provision/provision.js";
import { readCatalog } from "./catalog.js";
import { listRestorePoints } from "./restore-points.js";
import { Pgbackrest } from "./pgbackrest.js";
import { ensureS3Reachable } from "./s3.js";
import { S3_REPO } from "../generate/pgbackrest-config.js";
import type { RestoreSpec, RestoreTarget } from "./restore-spec.js";
import type { Progress } from "../progress.js";
import { postgresUser } from "../os-user.js";
import type { SupervisorStatus } from "../supervisor/status.js";

const CLONE_NAME = /^[a-z][a-z0-9_]{0,40}$/;

/** Clones live beside their source: STATE_DIR-clones/NAME. */
export function cloneDir(source: Cluster, name: string): string {
  return join(`${source.paths.root}-clones`, name);
}

/**
 * A transaction with an xid, committed now on the primary: through the superuser's client when this
 * host's node is the primary, else as the application role through this host's PgBouncer, which
 * routes to the primary on another host (the superuser is never admitted over the network).
 */
async function commitNow(source: Cluster, superuser: pg.Client): Promise<void> {
  if (!(await superuser.query<{ r: boolean }>("SELECT pg_is_in_recovery() AS r")).rows[0]!.r) {
    await superuser.query("SELECT txid_current()");
    return;
  }
  const { config, paths } = source;
  // A converted cluster's PgBouncer takes TLS only; its certificate names the host's address, not
  // loopback, so the CA is checked and the name is not (libpq's verify-ca).
  const ssl = { ca: readFileSync(clusterCa(paths).cert, "utf8"), checkServerIdentity: () => undefined };
  const app = new pg.Client({ host: "127.0.0.1", port: config.ports.pooler, user: ROLES.app, password: readSecret(paths, "app"), database: config.database, ssl, connectionTimeoutMillis: 10_000 });
  await app.connect();
  try {
    await app.query("SELECT txid_current()");
  } finally {
    await app.end();
  }
}

/**
 * Checks a restore target against what the repository can reach, before anything is written:
 * a time inside the restorable window, a restore point tusk recorded, an LSN after the oldest backup.
 */
export async function checkTarget(source: Cluster, target: RestoreTarget): Promise<void> {
  const pgbackrest = new Pgbackrest(source.config, source.paths, postgresUser());
  const catalog = await withSuperuser(source.config, source.paths, async (client) => {
    // Recovery to a time stops at the first commit after it; on a database idle since then there
    // is none and recovery would end "before the recovery target was reached". A transaction with
    // an xid commits now, after any target in the window.
    const archivedThrough = new Date().toISOString();
    await commitNow(source, client);
    // check closes the current WAL segment and waits until it is in the repository, so "latest", a
    // time a few seconds ago, or a restore point just created are archived before the window is
    // read. pg_stat_archiver may lag behind the repository for a moment, so everything written
    // before the check began counts as archived.
    await pgbackrest.mustRun("check");
    const read = await readCatalog(pgbackrest, client, source.paths);
    if (read.window.to && read.window.to < archivedThrough) read.window.to = archivedThrough;
    return read;
  });
  if (catalog.backups.length === 0) {
    throw new TuskError("OutsideWindow", "There is no backup to restore from yet.", { hint: "Take one with `tusk backup`." });
  }
  const window = `${formatWallClock(catalog.window.from!)} to ${formatWallClock(catalog.window.to!)}`;
  if (target.kind === "time") {
    const t = Date.parse(target.time);
    if (Number.isNaN(t)) throw new TuskError("Usage", `"${target.time}" is not a time.`, { hint: "Give a time such as '2026-04-18 14:30:00+00'." });
    if (t < Date.parse(catalog.window.from!) || t > Date.parse(catalog.window.to!)) {
      throw new TuskError("OutsideWindow", `${formatWallClock(t)} is outside the restorable window (${window}).`, {
        hint: "Choose a time inside the window; `tusk backups` shows it.",
      });
    }
  }
  if (target.kind === "name" && !listRestorePoints(source.paths).some((p) => p.name === target.name)) {
    const known = listRestorePoints(source.paths).map((p) => p.name);
    throw new TuskError("OutsideWindow", `There is no restore point named "${target.name}".`, {
      hint: known.length ? `Known restore points: ${known.join(", ")}.` : "Create one with `tusk restore-point NAME`.",
    });
  }
  if (target.kind === "lsn") {
    if (!/^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/.test(target.lsn)) throw new TuskError("Usage", `"${target.lsn}" is not an LSN.`, { hint: "An LSN looks like 0/3000060." });
    const oldest = catalog.backups
      .map((b) => b.lsnStop)
      .filter((x): x is string => x !== null)
      .sort(compareLsn)[0];
    if (oldest && compareLsn(target.lsn, oldest) < 0) {
      throw new TuskError("OutsideWindow", `LSN ${target.lsn} is before the end of the oldest backup (${oldest}).`, { hint: "Choose a later LSN." });
    }
    if (catalog.archiver && compareLsn(target.lsn, catalog.archiver.currentLsn) > 0) {
      throw new TuskError("OutsideWindow", `LSN ${target.lsn} is beyond the current WAL position (${catalog.archiver.currentLsn}).`, { hint: "Choose an LSN that has been written." });
    }
  }
}

/**
 * A time as pgBackRest's backup-set selection and PostgreSQL's recovery_target_time both read it:
 * "YYYY-MM-DD HH:MM:SS.mmm+00" (pgBackRest rejects ISO 8601's "T" and "Z").
 */
export function pgbackrestTime(d: Date): string {
  return `${d.toISOString().replace("T", " ").replace("Z", "")}+00`;
}

export function compareLsn(a: string, b: string): number {
  const n = (x: string) => {
    const [hi, lo] = x.split("/");
    return BigInt(`0x${hi}`) * 2n ** 32n + BigInt(`0x${lo}`);
  };
  const d = n(a) - n(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/**
 * `tusk restore --into NAME`: a new, separate cluster (own state directory, ports and endpoints)
 * restored from the source's latest backup and WAL to the target. The source keeps running.
 */
export async function createClone(source: Cluster, name: string, target: RestoreTarget, progress: Progress, repo?: number): Promise<{ clone: Cluster; status: SupervisorStatus }> {
  if (!CLONE_NAME.test(name)) {
    throw new TuskError("Usage", `"${name}" is not a usable clone name.`, { hint: "Use a lower-case name of letters, digits and _, starting with a letter." });
  }
  await source.status(); // the source must be running: its repository and WAL are read
  const dir = cloneDir(source, name);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new TuskError("AlreadyExists", `A clone named "${name}" already exists (${dir}).`, {
      hint: `Choose another name, or remove it with \`tusk --state-dir ${dir} destroy\`.`,
    });
  }
  if (repo === S3_REPO) await ensureS3Reachable(source.config);
  await checkTarget(source, target);
  if (target.kind === "time") target = { kind: "time", time: pgbackrestTime(new Date(Date.parse(target.time))) };
  const dataBytes = (await source.status()).dataSizeBytes ?? 0;
  mkdirSync(dir, { recursive: true });
  ensureRestoreSpace(dir, dataBytes, "the source");
  chmodSync(dir, 0o755);
  // The restored data holds the source's roles and password verifiers, so the clone keeps its secrets.
  cpSync(source.paths.secretsDir, join(dir, "secrets"), { recursive: true });
  const ports = await freePortSet();
  writeFileSync(
    join(dir, "tusk.yaml"),
    stringify({ cluster_name: name, database: source.config.database, listen_address: source.config.listen_address, ports, postgresql: source.config.postgresql, pgbouncer: source.config.pgbouncer }),
  );
  const spec: RestoreSpec = { sourceStateDir: source.paths.root, sourceConfig: source.paths.pgbackrestConfig, sourceStanza: source.config.cluster_name, target, repo };
  const clone = new Cluster(dir);
  writeFileSync(clone.paths.restoreSpec, `${JSON.stringify(spec, null, 2)}\n`, { mode: 0o600 });
  const status = await clone.up(progress);
  return { clone, status };
}

import type { TuskConfig } from "../config/config-file.js";
import { postgresUser } from "../os-user.js";
import { ensureS3Reachable, s3Failure } from "./s3.js";
import { TuskError } from "../errors.js";
import { hasLocalRepository, primaryRepository, repositories, S3_REPO } from "../generate/pgbackrest-config.js";
import type { Progress } from "../progress.js";
import { withSuperuser } from "../provision/provision.js";
import { OperationQueue } from "../supervisor/operation-queue.js";
import type { StatePaths } from "../state-dir.js";
import { readCatalog, summarize, type BackupCatalog } from "./catalog.js";
import { recordBaseline } from "./drill-baseline.js";
import { Pgbackrest, type BackupType } from "./pgbackrest.js";
import { retention, type RetentionDecision } from "./policy.js";
import { createRestorePoint, listRestorePoints, type RestorePoint } from "./restore-points.js";

/** A cluster as the backup operations need it; both the CLI's Cluster and the supervisor are one. */
export interface BackupTarget {
  config: TuskConfig;
  paths: StatePaths;
}

/** A cluster that must be running for an operation: `status()` fails with a clear error when it is not. */
export interface RunningTarget extends BackupTarget {
  status(): Promise<unknown>;
}

export function pgbackrestFor(target: BackupTarget): Pgbackrest {
  return new Pgbackrest(target.config, target.paths, postgresUser());
}

/**
 * The repository a restore names (`--from local|s3`), checked against the cluster's; undefined when
 * none is named (pgBackRest then takes the first repository holding a backup for the target).
 */
export function repositoryFrom(config: TuskConfig, from: string | undefined): number | undefined {
  if (from === undefined) return undefined;
  if (from === "local") {
    if (!hasLocalRepository(config)) throw new TuskError("Usage", "--from local: this cluster's only repository is S3 (backups.s3.only).", { hint: "Restore from s3, or leave --from out." });
    return 1;
  }
  if (from === "s3") {
    if (!config.s3) throw new TuskError("Usage", "--from s3: this cluster has no S3 repository.", { hint: "Configure backups.s3 in tusk.yaml, or restore from the local repository." });
    return S3_REPO;
  }
  throw new TuskError("Usage", `--from must be "local" or "s3", not "${from}".`);
}

/**
 * Takes a backup into every repository (the local one first, then the off-machine one), then records
 * the drill baseline (row counts and a restore point) for the first repository's set.
 */
export async function backupNow(target: BackupTarget, type: BackupType, onProgress: (fraction: number, repo: number) => void, repos = repositories(target.config)): Promise<string> {
  // While the object store is down pgBackRest stalls on it for every WAL segment, so a backup
  // would wait minutes for its WAL before failing; say so at once instead.
  if (repos.includes(S3_REPO)) await ensureS3Reachable(target.config);
  const pgbackrest = pgbackrestFor(target);
  for (const repo of repos) {
    try {
      await pgbackrest.backup(type, (f) => onProgress(f, repo), repo);
    } catch (e) {
      throw repo === S3_REPO ? s3Failure(target.config, e as TuskError) : e;
    }
  }
  const latest = summarize(await pgbackrest.info(), primaryRepository(target.config)).pop()!;
  await recordBaseline(target, latest.label);
  return latest.label;
}

/** Expires, in each repository, the backup sets the retention policy no longer keeps (with what depends on them). */
export async function applyRetention(target: BackupTarget, now = new Date()): Promise<RetentionDecision> {
  const pgbackrest = pgbackrestFor(target);
  const info = await pgbackrest.info();
  let local: RetentionDecision | undefined;
  for (const repo of repositories(target.config)) {
    const decision = retention(summarize(info, repo), target.config.backups, now);
    local ??= decision;
    for (const { label } of decision.expire) await pgbackrest.mustRun("expire", [`--repo=${repo}`, `--set=${label}`]);
  }
  await pgbackrest.mustRun("expire"); // WAL retention: continuous WAL for the daily window only
  return local!;
}

/** The CLI's backup: checks the cluster runs, shows progress, applies retention afterwards. */
export async function takeBackup(cluster: RunningTarget, type: BackupType, progress: Progress): Promise<BackupCatalog> {
  await cluster.status();
  return new OperationQueue(cluster.paths).run("backup", `${type} backup (tusk backup)`, (report) => backupAndExpire(cluster, type, progress, report));
}

/** A backup's progress as the CLI, status and the dashboard show it: "43.0% (S3 repository)". */
export const backupProgress = (fraction: number, repo: number) => `${(fraction * 100).toFixed(1)}%${repo === S3_REPO ? " (S3 repository)" : ""}`;

async function backupAndExpire(cluster: RunningTarget, type: BackupType, progress: Progress, report: (progress: string) => void): Promise<BackupCatalog> {
  const step = progress.step(`${type[0]!.toUpperCase()}${type.slice(1)} backup with pgBackRest`);
  try {
    await backupNow(cluster, type, (f, repo) => {
      step.update(backupProgress(f, repo));
      report(backupProgress(f, repo));
    });
    step.done();
  } catch (e) {
    step.fail();
    throw e;
  }
  await applyRetention(cluster);
  return backupCatalog(cluster);
}

export async function backupCatalog(cluster: RunningTarget): Promise<BackupCatalog & { restorePoints: RestorePoint[] }> {
  await cluster.status();
  return withSuperuser(cluster.config, cluster.paths, async (client) => ({ ...(await readCatalog(pgbackrestFor(cluster), client, cluster.paths)), restorePoints: listRestorePoints(cluster.paths) }));
}

export async function restorePoint(cluster: RunningTarget, name: string): Promise<RestorePoint> {
  await cluster.status();
  return withSuperuser(cluster.config, cluster.paths, (client) => createRestorePoint(cluster.paths, client, name));
}

import type { Cluster } from "../cluster/cluster.js";
import type { TuskConfig } from "../config/config-file.js";
import { postgresUser } from "../os-user.js";
import type { Progress } from "../progress.js";
import { superuserClient } from "../provision/provision.js";
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

export function pgbackrestFor(target: BackupTarget): Pgbackrest {
  return new Pgbackrest(target.config, target.paths, postgresUser());
}

/** Takes a backup, then records the drill baseline (row counts and a restore point) for it. */
export async function backupNow(target: BackupTarget, type: BackupType, onProgress: (fraction: number) => void): Promise<string> {
  const pgbackrest = pgbackrestFor(target);
  await pgbackrest.backup(type, onProgress);
  const latest = summarize(await pgbackrest.info()).pop()!;
  await recordBaseline(target, latest.label);
  return latest.label;
}

/** Expires the backup sets the retention policy no longer keeps (with what depends on them). */
export async function applyRetention(target: BackupTarget, now = new Date()): Promise<RetentionDecision> {
  const pgbackrest = pgbackrestFor(target);
  const decision = retention(summarize(await pgbackrest.info()), target.config.backups, now);
  for (const { label } of decision.expire) await pgbackrest.mustRun("expire", [`--set=${label}`]);
  await pgbackrest.mustRun("expire"); // WAL retention: continuous WAL for the daily window only
  return decision;
}

/** The CLI's backup: checks the cluster runs, shows progress, applies retention afterwards. */
export async function takeBackup(cluster: Cluster, type: BackupType, progress: Progress): Promise<BackupCatalog> {
  await cluster.status();
  const step = progress.step(`${type[0]!.toUpperCase()}${type.slice(1)} backup with pgBackRest`);
  try {
    await backupNow(cluster, type, (f) => step.update(`${(f * 100).toFixed(1)}%`));
    step.done();
  } catch (e) {
    step.fail();
    throw e;
  }
  await applyRetention(cluster);
  return backupCatalog(cluster);
}

export async function backupCatalog(cluster: Cluster): Promise<BackupCatalog & { restorePoints: RestorePoint[] }> {
  await cluster.status();
  const client = await superuserClient(cluster.config, cluster.paths);
  try {
    return { ...(await readCatalog(pgbackrestFor(cluster), client)), restorePoints: listRestorePoints(cluster.paths) };
  } finally {
    await client.end();
  }
}

export async function restorePoint(cluster: Cluster, name: string): Promise<RestorePoint> {
  await cluster.status();
  const client = await superuserClient(cluster.config, cluster.paths);
  try {
    return await createRestorePoint(cluster.paths, client, name);
  } finally {
    await client.end();
  }
}

import type { Cluster } from "../cluster/cluster.js";
import { postgresUser } from "../os-user.js";
import type { Progress } from "../progress.js";
import { superuserClient } from "../provision/provision.js";
import { readCatalog, summarize, type BackupCatalog } from "./catalog.js";
import { recordBaseline } from "./drill-baseline.js";
import { Pgbackrest, type BackupType } from "./pgbackrest.js";
import { createRestorePoint, listRestorePoints, type RestorePoint } from "./restore-points.js";

/** Backup operations on a running cluster; each first checks that it runs (a clear error if not). */
export function pgbackrestFor(cluster: Cluster): Pgbackrest {
  return new Pgbackrest(cluster.config, cluster.paths, postgresUser());
}

export async function takeBackup(cluster: Cluster, type: BackupType, progress: Progress): Promise<BackupCatalog> {
  await cluster.status();
  const step = progress.step(`${type[0]!.toUpperCase()}${type.slice(1)} backup with pgBackRest`);
  try {
    await pgbackrestFor(cluster).backup(type, (f) => step.update(`${(f * 100).toFixed(1)}%`));
    step.done();
    const latest = summarize(await pgbackrestFor(cluster).info()).pop();
    if (latest) await recordBaseline(cluster, latest.label);
  } catch (e) {
    step.fail();
    throw e;
  }
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

import { readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import type { Cluster } from "../cluster/cluster.js";
import { connectionStrings } from "../cluster/connection-strings.js";
import { exitCodeName, TuskError } from "../errors.js";
import { postgresUser } from "../os-user.js";
import type { Progress } from "../progress.js";
import type { SupervisorStatus } from "../supervisor/status.js";
import { checkTarget, pgbackrestTime } from "./clone.js";
import { Pgbackrest } from "./pgbackrest.js";
import { ensureS3Reachable } from "./s3.js";
import { S3_REPO } from "../generate/pgbackrest-config.js";
import { ensureRestoreSpace } from "./restore-space.js";
import { clearPrimary, FIRST_NODE, nodePaths, readNodes, readPrimary } from "../cluster/nodes.js";
import type { RestoreSpec, RestoreTarget } from "./restore-spec.js";
import { OperationQueue } from "../supervisor/operation-queue.js";

const WAL_SEGMENT = /^[0-9A-F]{24}$/;

/**
 * WAL a stopped cluster wrote but had not archived: its last, unfinished segment (and any still
 * queued). Recovery to the latest state must replay it, or the writes of the last seconds before
 * the stop would be lost.
 */
function unarchivedSegments(dataDir: string): string[] {
  const wal = join(dataDir, "pg_wal");
  const done = new Set(
    readdirSync(join(wal, "archive_status"))
      .filter((f) => f.endsWith(".done"))
      .map((f) => f.slice(0, -5)),
  );
  return readdirSync(wal)
    .filter((f) => WAL_SEGMENT.test(f) && !done.has(f))
    .sort()
    .map((f) => join(wal, f));
}

/** The application role through the pooler, as users connect: the restored cluster serves them. */
async function verifyServing(cluster: Cluster): Promise<void> {
  const client = new pg.Client({ connectionString: connectionStrings(cluster.config, cluster.paths).pooled, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query("SELECT count(*) FROM pg_class");
  } finally {
    await client.end();
  }
}

/**
 * `tusk restore --yes` without --into: replaces the cluster's data with a restore from its own
 * repository, behind the same ports, roles and connection strings. The data it replaces is set aside,
 * not deleted, until the restored cluster runs and serves the application role; if the restore fails,
 * the previous data is put back and started again. It is an operation of the cluster's queue: refused
 * while a backup, a drill, a switchover … runs, and while it runs they are refused. `operationId`: the
 * queue's record when the supervisor already admitted it (the API's restore), else it is admitted here.
 */
export async function restoreInPlace(cluster: Cluster, target: RestoreTarget, progress: Progress, repo?: number, operationId?: number): Promise<SupervisorStatus> {
  const queue = new OperationQueue(cluster.paths);
  if (operationId === undefined) return queue.run("restore", "restore in place", () => restoreNow(cluster, target, progress, repo), 0);
  try {
    const status = await restoreNow(cluster, target, progress, repo);
    queue.finish(operationId, "done");
    return status;
  } catch (e) {
    queue.finish(operationId, "failed", (e as Error).message);
    throw e;
  }
}

async function restoreNow(cluster: Cluster, target: RestoreTarget, progress: Progress, repo?: number): Promise<SupervisorStatus> {
  const before = await cluster.status(); // must be running: the target is checked against its repository
  if (repo === S3_REPO) await ensureS3Reachable(cluster.config);
  await checkTarget(cluster, target);
  if (target.kind === "time") target = { kind: "time", time: pgbackrestTime(new Date(Date.parse(target.time))) };
  const dataDir = cluster.paths.dataDir;
  ensureRestoreSpace(join(dataDir, ".."), before.dataSizeBytes ?? 0, "the cluster");

  const primaryDataDir = readPrimary(cluster.config, cluster.paths).dataDir;
  await cluster.down(progress);
  const pgbackrest = new Pgbackrest(cluster.config, cluster.paths, postgresUser());
  if (target.kind === "latest") {
    const segments = unarchivedSegments(primaryDataDir);
    const step = progress.step(`Archiving the last ${segments.length} WAL segment(s) the cluster wrote before it stopped`);
    for (const segment of segments) await pgbackrest.archivePush(segment);
    step.done();
  }
  // The restore goes into node pg1; replicas copy the restored primary afresh when they start.
  for (const node of readNodes(cluster.config, cluster.paths).filter((n) => n.name !== FIRST_NODE)) {
    rmSync(nodePaths(cluster.paths, node.name).dataDir, { recursive: true, force: true });
  }
  clearPrimary(cluster.paths);
  const replaced = `${dataDir}.replaced-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  renameSync(dataDir, replaced);
  const spec: RestoreSpec = { sourceStateDir: cluster.paths.root, sourceConfig: cluster.paths.pgbackrestConfig, sourceStanza: cluster.config.cluster_name, target, repo };
  writeFileSync(cluster.paths.restoreSpec, `${JSON.stringify(spec, null, 2)}\n`, { mode: 0o600 });

  try {
    const status = await cluster.up(progress);
    const step = progress.step("Checking that the restored cluster serves the application role through the pooler");
    await verifyServing(cluster);
    step.done();
    const cleanup = progress.step(`Deleting the replaced data (${replaced})`);
    rmSync(replaced, { recursive: true, force: true });
    cleanup.done();
    return status;
  } catch (e) {
    const err = e instanceof TuskError ? e : new TuskError("ProcessFailed", (e as Error).message);
    const step = progress.step("The restore failed: putting the previous data back and starting it");
    if (cluster.supervisorPid() !== undefined) await cluster.down(undefined).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    renameSync(replaced, dataDir);
    rmSync(cluster.paths.restoreSpec, { force: true });
    writeFileSync(cluster.paths.resetDcs, "", { mode: 0o600 });
    try {
      await cluster.up(progress);
      step.done();
    } catch (restartError) {
      step.fail();
      throw new TuskError("ProcessFailed", `The restore failed (${err.message}), and the previous data, put back in ${dataDir}, did not start: ${(restartError as Error).message}`, {
        hint: `Nothing was deleted. See ${cluster.paths.logDir}.`,
      });
    }
    throw new TuskError(exitCodeName(err.exitCode), `The restore failed: ${err.message} The previous data is back in service, unchanged.`, { hint: err.hint, detail: err.detail });
  }
}

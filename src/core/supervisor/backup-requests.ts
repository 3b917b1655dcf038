import { appendFileSync, closeSync, openSync } from "node:fs";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { TuskConfig } from "../config/config-file.js";
import { readCatalog, summarize, type BackupCatalog } from "../backup/catalog.js";
import { checkTarget, createClone } from "../backup/clone.js";
import { runDrill, type DrillResult } from "../backup/drill.js";
import { applyRetention, backupNow, backupProgress } from "../backup/operations.js";
import type { BackupType, Pgbackrest } from "../backup/pgbackrest.js";
import type { RestoreTarget } from "../backup/restore-spec.js";
import { Cluster } from "../cluster/cluster.js";
import { isAlive, sleep } from "../processes/pid-file.js";
import { reportingProgress } from "../progress.js";
import { withSuperuser } from "../provision/provision.js";
import type { StatePaths } from "../state-dir.js";
import type { BackupScheduler } from "./backup-scheduler.js";
import type { Exclusive, OperationQueue, OperationRecord } from "./operation-queue.js";

/** Runs work as an operation of the cluster's queue (the supervisor's conflict-checked entry). */

/**
 * Backups, clones, restores and drills asked for through the API, each an operation of the queue:
 * what `GET|POST /v1/backups`, `POST /v1/clones`, `POST /v1/restore` and `POST /v1/drills/restore` do.
 */
export class BackupRequests {
  constructor(
    private readonly cluster: { readonly config: TuskConfig; readonly paths: StatePaths },
    private readonly backups: Pgbackrest,
    private readonly scheduler: BackupScheduler,
    private readonly queue: OperationQueue,
    private readonly exclusive: Exclusive,
    private readonly log: (line: string) => void,
  ) {}

  /** Every backup in every repository, the restorable window and archiving health. */
  async backupCatalog(): Promise<BackupCatalog> {
    return withSuperuser(this.cluster.config, this.cluster.paths, (client) => readCatalog(this.backups, client, this.cluster.paths));
  }

  /** A backup now (API): the scheduled path's backup and retention, one at a time. */
  async backup(type: BackupType): Promise<BackupCatalog> {
    return this.exclusive("backup", `${type} backup (API)`, async (report) => {
      await this.scheduler.running(`${type} backup (API)`, async () => {
        await backupNow(this.cluster, type, (f, repo) => report(backupProgress(f, repo)));
        await applyRetention(this.cluster, new Date());
      });
      return this.backupCatalog();
    });
  }

  /** A clone (API): a new, separate cluster restored from this one's backups, as `tusk restore --into NAME` builds it. */
  async clone(name: string, target: RestoreTarget, repo: number | undefined): Promise<{ name: string; stateDir: string; ports: Record<string, number> }> {
    return this.exclusive("clone", `clone ${name}`, async (report) => {
      const { clone } = await createClone(new Cluster(this.cluster.paths.root), name, target, reportingProgress(report), repo);
      return { name, stateDir: clone.paths.root, ports: { ...clone.config.ports } };
    });
  }

  /**
   * A restore in place (API). It stops this supervisor, so it cannot run inside it: the target is
   * checked here (a bad one is refused at once), then a detached process runs the core's restore
   * (backup/restore-in-place-main.ts), writing its progress to log/restore.log.
   */
  async restoreInPlace(target: RestoreTarget, repo: number | undefined): Promise<{ log: string; pid: number }> {
    return this.exclusive("restore", "restore in place (API: checking the target)", async () => {
      await checkTarget(new Cluster(this.cluster.paths.root), target);
      const args = [this.cluster.paths.root, JSON.stringify(target), repo === undefined ? "" : String(repo)];
      const logFile = this.cluster.paths.log("restore");
      const out = openSync(logFile, "a");
      appendFileSync(logFile, `${new Date().toISOString()} restore in place requested through the API: ${JSON.stringify(target)}${repo === undefined ? "" : ` from repository ${repo}`}\n`);
      // The restore runs in the child; the queue holds it as running there until the child ends it.
      const { record } = this.queue.begin("restore", "restore in place (API)");
      const child = spawn(process.execPath, [RESTORE_IN_PLACE_MAIN, ...args, String(record.id)], { detached: true, stdio: ["ignore", out, out], cwd: "/" });
      child.unref();
      closeSync(out);
      this.queue.movedTo(record.id, child.pid ?? process.pid);
      this.log(`restore in place requested through the API (pid ${child.pid}); progress in ${logFile}`);
      return { log: logFile, pid: child.pid ?? 0 };
    });
  }

  /** A restore drill now (API). */
  async restoreDrill(): Promise<DrillResult> {
    return this.exclusive("restore drill", "restore drill (API)", (report) => this.scheduler.running("restore drill (API)", () => runDrill(this.cluster, reportingProgress(report))));
  }

  /**
   * A backup left running by a supervisor that died: its record moves to this supervisor, which
   * watches the pgBackRest process every 2 s, and when that ends the record says whether a new backup
   * is in the repository. (Moved to pgBackRest's PID instead, any reader of the queue would report it
   * interrupted in the moment between pgBackRest's end and this watch's next look.)
   */
  async followAdopted(record: OperationRecord, pid: number): Promise<void> {
    this.queue.movedTo(record.id, process.pid);
    this.log(`operations: adopted the ${record.detail} (#${record.id}): pgBackRest (pid ${pid}) is still running it`);
    while (isAlive(pid)) await sleep(2000);
    const made = await this.madeBy(record);
    this.queue.finish(record.id, made ? "done" : "failed", made ? `finished under a new supervisor (${made})` : "pgBackRest ended without a new backup in the repository");
    this.log(`operations: the adopted ${record.detail} (#${record.id}) ${made ? `finished: ${made}` : "ended without a new backup"}`);
  }

  /**
   * A backup whose supervisor died and whose pgBackRest has ended as well: it may have finished
   * while no supervisor ran. Done when the repository holds it; false leaves the record to be
   * reported interrupted.
   */
  async settleEnded(record: OperationRecord): Promise<boolean> {
    const made = await this.madeBy(record);
    if (!made) return false;
    this.queue.finish(record.id, "done", `finished while no supervisor ran (${made})`);
    this.log(`operations: the ${record.detail} (#${record.id}) finished while no supervisor ran: ${made}`);
    return true;
  }

  /** The label of the newest backup in the repository if it began with `record`'s operation. */
  private async madeBy(record: OperationRecord): Promise<string | undefined> {
    const newest = summarize(await this.backups.info().catch(() => undefined), "all").pop();
    return newest !== undefined && Date.parse(newest.startedAt) >= Date.parse(record.startedAt) - 5000 ? newest.label : undefined;
  }
}

/** The restore in place, for work that must outlive this supervisor (it stops it). */
const RESTORE_IN_PLACE_MAIN = fileURLToPath(new URL("../backup/restore-in-place-main.js", import.meta.url));

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gapBackupDue, gapOpen, lastWalDrop } from "../backup/wal-drops.js";
import type { TuskConfig } from "../config/config-file.js";
import { summarize } from "../backup/catalog.js";
import { runDrill } from "../backup/drill.js";
import { applyRetention, backupNow, backupProgress } from "../backup/operations.js";
import { infoReadable, type Pgbackrest } from "../backup/pgbackrest.js";
import { nextOccurrence, resumeSchedule, scheduledType, type SavedSchedule } from "../backup/policy.js";
import { primaryRepository } from "../generate/pgbackrest-config.js";
import { reportingProgress } from "../progress.js";
import { writeAtomic, type StatePaths } from "../state-dir.js";
import { admit, type OperationKind, type OperationQueue } from "./operation-queue.js";
import type { ScheduleStatus } from "./status.js";

/**
 * Backups and restore drills on the policy's clock (local time), as operations of the cluster's
 * queue: a job that conflicts with one running now is tried again at the next tick (15 s). The
 * schedule is kept in STATE_DIR/run/schedule.json: a job that fell due while no supervisor ran is
 * caught up at the first tick after start (policy.ts, resumeSchedule). WAL that pgBackRest dropped
 * to stay under `backups.archive_queue_max` (wal-drops.ts) leaves a gap in the archive: a full backup
 * is taken at the next tick, tried again every minute while the repository is still away. `status`
 * is what `tusk status` shows of it.
 */
export class BackupScheduler {
  readonly status: ScheduleStatus = { nextBackupAt: null, nextBackupType: null, nextDrillAt: null, running: null, lastError: null };
  private timer: NodeJS.Timeout | undefined;
  /** The newest backup's end as last read (null: none or unknown): which WAL drops a backup already covers. */
  private newestEndedAt: string | null = null;
  /** When the backup that closes a gap in the archive was last tried. */
  private lastGapAttempt: number | null = null;

  /** The repository whose newest backup the schedule follows. */
  private get repo(): number {
    return primaryRepository(this.target.config);
  }

  constructor(
    private readonly target: { config: TuskConfig; paths: StatePaths },
    private readonly backups: Pgbackrest,
    private readonly queue: OperationQueue,
    /** Whether the cluster serves (ready or degraded): jobs wait otherwise. */
    private readonly serving: () => boolean,
    /** After each job: the backup figures changed. */
    private readonly changed: () => void,
    private readonly log: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    const now = new Date();
    const policy = this.target.config.backups;
    // Only a readable repository says whether a backup is overdue: "ok" or "no valid backup".
    // Another status (a permission or disk problem, seen when the archive directory was unreadable)
    // lists no backup although the repository holds some.
    const info = await this.backups.info().catch((e: Error) => {
      this.log(`schedule: the repository could not be read: ${e.message}`);
      return undefined;
    });
    const readable = info !== undefined && infoReadable(info);
    if (info && !readable) this.log(`schedule: the repository could not be read: ${info.status.message} (status ${info.status.code})`);
    const newest = readable ? summarize(info, this.repo).pop() : undefined;
    this.newestEndedAt = newest?.endedAt ?? null;
    const resumed = resumeSchedule(policy, this.saved(), readable ? (newest?.endedAt ?? null) : undefined, now);
    for (const line of resumed.missed) this.log(`schedule: ${line}: catching it up now`);
    this.log(
      `schedule: next backup at ${resumed.nextBackupAt.toISOString()} (${resumed.backupWhy}; the newest backup: ${newest ? `${newest.label}, ended ${newest.endedAt}` : readable ? "none" : "unknown"})`,
    );
    this.status.nextBackupAt = resumed.nextBackupAt.toISOString();
    this.status.nextBackupType = scheduledType(policy, resumed.nextBackupAt, newest ? [newest] : []);
    this.status.nextDrillAt = resumed.nextDrillAt.toISOString();
    this.save();
    this.timer = setInterval(() => void this.tick(), 15_000);
  }

  private saved(): SavedSchedule | undefined {
    try {
      return JSON.parse(readFileSync(this.target.paths.scheduleFile, "utf8")) as SavedSchedule;
    } catch {
      return undefined; // never started, or a state directory from before the schedule was kept
    }
  }

  /** Kept on disk whenever it changes: the next supervisor catches up what falls due while none runs. */
  private save(): void {
    const saved: SavedSchedule = { nextBackupAt: this.status.nextBackupAt, nextDrillAt: this.status.nextDrillAt };
    writeAtomic(this.target.paths.scheduleFile, `${JSON.stringify(saved)}\n`, 0o644);
  }

  /** The policy changed (tusk.yaml applied live): the next backup and drill follow it. */
  async reschedule(now = new Date()): Promise<void> {
    const policy = this.target.config.backups;
    this.status.nextBackupAt = nextOccurrence(policy.time, now).toISOString();
    this.status.nextBackupType = scheduledType(policy, new Date(this.status.nextBackupAt), summarize(await this.backups.info(), this.repo));
    this.status.nextDrillAt = nextOccurrence(policy.drill_time, now, policy.drill_day).toISOString();
    this.save();
  }

  /** When the newest backup ended; the last known end while the repository cannot be read (the object store away). */
  private async newestBackupEnd(): Promise<string | null> {
    const info = await this.backups.info().catch(() => undefined);
    return info && infoReadable(info) ? (summarize(info, this.repo).pop()?.endedAt ?? null) : this.newestEndedAt;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Marks `name` as running while `work` runs (an API request for the same kind of job), for status. */
  async running<T>(name: string, work: () => Promise<T>): Promise<T> {
    this.status.running = name;
    try {
      return await work();
    } finally {
      this.status.running = null;
      this.changed();
    }
  }

  private async tick(): Promise<void> {
    if (!this.serving() || this.status.running) return;
    const now = new Date();
    const policy = this.target.config.backups;
    const job = async (kind: OperationKind, name: string, work: (report: (progress: string) => void) => Promise<void>) => {
      this.log(`scheduled ${name} starting`);
      try {
        await this.running(name, () => this.queue.run(kind, `${name} (scheduled)`, work));
        this.status.lastError = null;
        this.log(`scheduled ${name} done`);
      } catch (e) {
        this.status.lastError = `${name} at ${now.toISOString()}: ${(e as Error).message}`;
        this.log(`scheduled ${name} failed: ${(e as Error).message}`);
      }
    };
    const admitted = (kind: OperationKind) => admit(kind, this.queue.running()).verdict === "run";
    const drop = lastWalDrop(join(this.target.paths.logDir, "pgbackrest"), this.target.config.cluster_name);
    if (gapBackupDue(drop, this.newestEndedAt, this.lastGapAttempt, now.getTime())) {
      if (!admitted("backup")) return;
      this.lastGapAttempt = now.getTime();
      this.newestEndedAt = await this.newestBackupEnd();
      if (!gapOpen(drop, this.newestEndedAt)) return;
      this.log(`WAL segment ${drop!.segment} was dropped at ${drop!.at} (backups.archive_queue_max): point-in-time recovery has a gap until a backup after it`);
      await job("backup", "full backup closing the archive's gap", async (report) => {
        await backupNow(this.target, "full", (f, repo) => report(backupProgress(f, repo)));
      });
      this.newestEndedAt = await this.newestBackupEnd();
    } else if (this.status.nextBackupAt && now >= new Date(this.status.nextBackupAt)) {
      if (!admitted("backup")) return;
      const type = scheduledType(policy, now, summarize(await this.backups.info(), this.repo));
      this.status.nextBackupAt = nextOccurrence(policy.time, now).toISOString();
      this.save();
      await job("backup", `${type} backup`, async (report) => {
        await backupNow(this.target, type, (f, repo) => report(backupProgress(f, repo)));
        await applyRetention(this.target, now);
      });
      const sets = summarize(await this.backups.info(), this.repo);
      this.newestEndedAt = sets.at(-1)?.endedAt ?? this.newestEndedAt;
      this.status.nextBackupType = scheduledType(policy, new Date(this.status.nextBackupAt), sets);
    } else if (this.status.nextDrillAt && now >= new Date(this.status.nextDrillAt)) {
      if (!admitted("restore drill")) return;
      this.status.nextDrillAt = nextOccurrence(policy.drill_time, now, policy.drill_day).toISOString();
      this.save();
      await job("restore drill", "restore drill", async (report) => {
        const result = await runDrill(this.target, reportingProgress(report));
        if (!result.ok)
          throw new Error(
            `failed checks: ${result.checks
              .filter((c) => !c.ok)
              .map((c) => c.name)
              .join(", ")}`,
          );
      });
    }
  }
}

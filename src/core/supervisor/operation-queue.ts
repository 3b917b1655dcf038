import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TuskError } from "../errors.js";
import { isAlive, processStartTime } from "../processes/pid-file.js";
import { writeAtomic, type StatePaths } from "../state-dir.js";

/**
 * Long operations on a cluster — backups, restores, clones, drills, switchovers, scaling, repairs,
 * settings changes —
 * go through one queue with a declared conflict table: what may run together, what waits for what is
 * running, and what is refused with the reason. The queue is kept in STATE_DIR/run/operations.json,
 * so that the process that runs an operation (the supervisor, or the detached restore in place) and
 * the next supervisor after a crash see the same thing: an operation whose process is gone is marked
 * "interrupted" and reported (adopting one still running belongs to crash survival).
 */
export type OperationKind = "backup" | "restore drill" | "clone" | "restore" | "switchover" | "scale" | "repair" | "settings" | "migration" | "network";
export const OPERATION_KINDS: readonly OperationKind[] = ["backup", "restore drill", "clone", "restore", "switchover", "scale", "repair", "settings", "migration", "network"];

export type OperationState = "running" | "done" | "failed" | "interrupted";

/** Runs `work` as an operation of the queue (run, wait or refuse by the conflict table), as the supervisor offers it to its parts. */
export type Exclusive = <T>(kind: OperationKind, detail: string, work: (report: (progress: string) => void) => Promise<T>) => Promise<T>;

export interface OperationRecord {
  id: number;
  kind: OperationKind;
  /** What exactly: "full backup (scheduled)", "switchover to pg2" … */
  detail: string;
  state: OperationState;
  /** The process doing the work: when it is gone and the record still says running, it was interrupted. */
  pid: number;
  /** That process's start time (/proc/PID/stat), so a PID reused after a reboot is not taken for it. */
  pidStart?: string;
  startedAt: string;
  endedAt?: string;
  /** Why it failed, or what interrupted it. */
  note?: string;
  /** How far a running operation has come, as its work reports it ("43% of the local repository"). */
  progress?: string;
}

type Verdict = "together" | "wait" | "refuse";

const ALL_WAIT: Record<OperationKind, Verdict> = {
  backup: "wait",
  "restore drill": "wait",
  clone: "wait",
  restore: "refuse",
  switchover: "wait",
  scale: "wait",
  repair: "wait",
  settings: "wait",
  migration: "wait",
  network: "wait",
};
/** Beside a schema migration: what reads or copies data goes on; what would cut its transaction waits. */
const BESIDE_MIGRATION = { migration: "together" } as const;

/**
 * CONFLICTS[asked][running]: what happens to an operation asked for while another runs. A restore in
 * place replaces the data under everything else, so it is refused while anything runs and refuses
 * everything while it runs; the same operation twice is refused (one backup, one switchover … at a
 * time); the rest wait for the running one, since on one machine they compete for the same cores and
 * disk, and a switchover under a backup would fail the backup. A schema migration runs from a client
 * and shows as the holder of tusk's migration advisory lock (migrations/lock.ts): a switchover or a
 * rolling restart waits for it (either would cut its transaction), a restore in place is refused,
 * and what only reads or copies data goes on beside it. Converting the cluster for the network
 * restarts every process in turn: it waits for everything and everything waits for it.
 */
export const CONFLICTS: Record<OperationKind, Record<OperationKind, Verdict>> = {
  backup: { ...ALL_WAIT, ...BESIDE_MIGRATION, backup: "refuse" },
  "restore drill": { ...ALL_WAIT, ...BESIDE_MIGRATION, "restore drill": "refuse" },
  clone: { ...ALL_WAIT, ...BESIDE_MIGRATION },
  restore: {
    backup: "refuse",
    "restore drill": "refuse",
    clone: "refuse",
    restore: "refuse",
    switchover: "refuse",
    scale: "refuse",
    repair: "refuse",
    settings: "refuse",
    migration: "refuse",
    network: "refuse",
  },
  switchover: { ...ALL_WAIT, switchover: "refuse" },
  scale: { ...ALL_WAIT, ...BESIDE_MIGRATION, scale: "refuse" },
  repair: { ...ALL_WAIT, ...BESIDE_MIGRATION, repair: "refuse" },
  settings: { ...ALL_WAIT, settings: "refuse" },
  migration: { ...ALL_WAIT, backup: "together", "restore drill": "together", clone: "together", scale: "together", repair: "together", migration: "refuse" },
  network: { ...ALL_WAIT, network: "refuse" },
};

export type Admission = { verdict: "run" } | { verdict: "wait"; behind: OperationRecord } | { verdict: "refuse"; reason: string; hint: string };

/** Whether an operation of `kind` may start while `running` run: the conflict table, pure. */
export function admit(kind: OperationKind, running: readonly OperationRecord[]): Admission {
  let behind: OperationRecord | undefined;
  for (const r of running) {
    const verdict = CONFLICTS[kind][r.kind];
    if (verdict === "refuse") {
      const reason =
        r.kind === "restore"
          ? `The cluster is being restored in place (since ${r.startedAt}); a ${kind} now would act on data about to be replaced.`
          : kind === "restore"
            ? `A ${r.detail} is in progress; a restore in place would replace the data under it.`
            : `A ${r.detail} is already in progress (since ${r.startedAt}).`;
      return {
        verdict: "refuse",
        reason,
        hint: r.kind === "restore" ? "Wait until the restore has finished (`tusk status`), then ask again." : "Wait for it to finish (`tusk status` shows it), then try again.",
      };
    }
    if (verdict === "wait") behind ??= r;
  }
  return behind ? { verdict: "wait", behind } : { verdict: "run" };
}

/**
 * Records left "running" by a process that is gone (a crash, a kill, a reboot) become "interrupted",
 * with what was seen: `lockHeld` tells whether pgBackRest's lock for that kind of work was still held
 * (a backup whose pgBackRest process outlived its supervisor). Pure, given `alive`.
 */
export function reconcile(records: readonly OperationRecord[], alive: (r: OperationRecord) => boolean, lockHeld: (kind: OperationKind) => boolean, now: Date): OperationRecord[] {
  return records.map((r) => {
    if (r.state !== "running" || alive(r)) return r;
    const held = lockHeld(r.kind);
    return {
      ...r,
      state: "interrupted",
      endedAt: now.toISOString(),
      progress: undefined,
      note: `its process (pid ${r.pid}) stopped before it finished${r.progress ? ` (it had reached ${r.progress})` : ""}${held ? "; pgBackRest's lock was still held by a process of its own" : ""}`,
    };
  });
}

interface QueueFile {
  next: number;
  records: OperationRecord[];
}

const KEEP_ENDED = 50;

/** The very process that runs an operation is still there (same PID, same start time). */
const processAlive = (r: OperationRecord) => isAlive(r.pid) && (!r.pidStart || processStartTime(r.pid) === r.pidStart);

/** The queue's file, read and written whole (small; replaced atomically). */
export class OperationQueue {
  private readonly file: string;
  private readonly finished = new Map<number, Promise<void>>();

  constructor(
    paths: StatePaths,
    private readonly log: (line: string) => void = () => undefined,
    /** Operations running outside the queue's file: a schema migration, seen through its advisory lock. */
    private readonly outside: () => Promise<OperationRecord[]> = async () => [],
  ) {
    this.file = join(paths.runDir, "operations.json");
  }

  private read(): QueueFile {
    if (!existsSync(this.file)) return { next: 1, records: [] };
    try {
      return JSON.parse(readFileSync(this.file, "utf8")) as QueueFile;
    } catch (e) {
      this.log(`operations: ${this.file} is unreadable (${(e as Error).message}); starting an empty queue`);
      return { next: 1, records: [] };
    }
  }

  private write(q: QueueFile): void {
    const running = q.records.filter((r) => r.state === "running");
    const ended = q.records.filter((r) => r.state !== "running").slice(-KEEP_ENDED);
    writeAtomic(this.file, `${JSON.stringify({ next: q.next, records: [...ended, ...running].sort((a, b) => a.id - b.id) }, null, 2)}\n`, 0o644);
  }

  /** Records still "running" whose process is gone (a supervisor killed, or replaced, while they ran). */
  orphaned(): OperationRecord[] {
    return this.read().records.filter((r) => r.state === "running" && !processAlive(r));
  }

  /** Marks what a dead process left running as interrupted; returns those records (for the log and status). */
  reconcile(lockHeld: (kind: OperationKind) => boolean): OperationRecord[] {
    const q = this.read();
    const records = reconcile(q.records, processAlive, lockHeld, new Date());
    const interrupted = records.filter((r, i) => r.state === "interrupted" && q.records[i]!.state === "running");
    if (interrupted.length) {
      this.write({ ...q, records });
      for (const r of interrupted) this.log(`operations: ${r.detail} (#${r.id}) was interrupted: ${r.note}`);
    }
    return interrupted;
  }

  /** The operations running now; one whose process is gone (a killed `tusk backup`) is marked interrupted first. */
  running(): OperationRecord[] {
    const q = this.read();
    const records = reconcile(q.records, processAlive, () => false, new Date());
    if (records.some((r, i) => r !== q.records[i])) this.write({ ...q, records });
    return records.filter((r) => r.state === "running");
  }

  /** Running operations and the most recent ended ones, newest first. */
  view(recent = 10): { running: OperationRecord[]; recent: OperationRecord[] } {
    const records = this.read().records;
    return {
      running: records.filter((r) => r.state === "running"),
      recent: records
        .filter((r) => r.state !== "running")
        .slice(-recent)
        .reverse(),
    };
  }

  /** Records an operation as running in process `pid`; `end` records how it ended. */
  begin(kind: OperationKind, detail: string, pid = process.pid): { record: OperationRecord; end: (state: "done" | "failed", note?: string) => void } {
    const q = this.read();
    const record: OperationRecord = { id: q.next, kind, detail, state: "running", pid, pidStart: processStartTime(pid), startedAt: new Date().toISOString() };
    this.write({ next: q.next + 1, records: [...q.records, record] });
    return { record, end: (state, note) => this.finish(record.id, state, note) };
  }

  private update(id: number, change: Partial<OperationRecord>): void {
    const q = this.read();
    this.write({ ...q, records: q.records.map((r) => (r.id === id ? { ...r, ...change } : r)) });
  }

  /** The operation `id` continues in process `pid` (a detached child took it over). */
  movedTo(id: number, pid: number): void {
    this.update(id, { pid, pidStart: processStartTime(pid) });
  }

  /** Records how operation `id` ended (also from another process than the one that began it). */
  finish(id: number, state: "done" | "failed", note?: string): void {
    this.update(id, { state, endedAt: new Date().toISOString(), progress: undefined, ...(note ? { note } : {}) });
  }

  /**
   * Runs `work` as an operation: at once when the conflict table allows it, after the running one it
   * conflicts with when it must wait (up to `waitMs`), or not at all (IncompatibleState, with the
   * reason) when it is refused.
   */
  async run<T>(kind: OperationKind, detail: string, work: (report: (progress: string) => void) => Promise<T>, waitMs = 30 * 60_000): Promise<T> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const a = admit(kind, [...this.running(), ...(await this.outside())]);
      if (a.verdict === "refuse") throw new TuskError("IncompatibleState", a.reason, { hint: a.hint });
      if (a.verdict === "run") break;
      if (Date.now() > deadline)
        throw new TuskError("IncompatibleState", `The ${detail} waited ${Math.round(waitMs / 1000)} s for the ${a.behind.detail} (#${a.behind.id}) to finish; it still runs.`, {
          hint: "`tusk status` shows what is running; ask again once it has finished.",
        });
      this.log(`operations: ${detail} waits for the ${a.behind.detail} (#${a.behind.id})`);
      // The one it waits for ends in this process (a promise), or elsewhere (poll the file).
      await Promise.race([this.finished.get(a.behind.id) ?? new Promise<void>((r) => setTimeout(r, 1000)), new Promise<void>((r) => setTimeout(r, 5000))]);
    }
    const { record, end } = this.begin(kind, detail);
    let settle!: () => void;
    this.finished.set(
      record.id,
      new Promise<void>((r) => {
        settle = r;
      }),
    );
    // Progress goes to the file at most once a second (every process reading status sees it); the
    // latest line of a burst is written when the second is up, so a new step is never lost.
    let lastReport = 0;
    let pending: string | undefined;
    let flush: NodeJS.Timeout | undefined;
    const write = () => {
      flush = undefined;
      lastReport = Date.now();
      if (pending !== undefined) this.update(record.id, { progress: pending });
      pending = undefined;
    };
    const report = (progress: string) => {
      pending = progress;
      if (Date.now() - lastReport >= 1000) write();
      else flush ??= setTimeout(write, 1000 - (Date.now() - lastReport));
    };
    try {
      const result = await work(report);
      end("done");
      return result;
    } catch (e) {
      end("failed", (e as Error).message);
      throw e;
    } finally {
      clearTimeout(flush);
      this.finished.delete(record.id);
      settle();
    }
  }
}

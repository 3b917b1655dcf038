import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { isAlive, processStartedAt, processStartTime, removePidFile, stopEscalating, writePidFile, type StopStep } from "./pid-file.js";

/**
 * How one managed process (etcd, Patroni, PgBouncer) is started, checked and stopped.
 *
 * Contract: `start()` spawns the process as its OS user with output appended to its log file and its
 * PID recorded (with start time) in its PID file. `ready()` resolves true once it serves (each
 * service defines its own probe). `stop()` escalates through `stopSteps` on a clock and then
 * SIGKILL; it resolves once the process is gone. The supervisor restarts a process that exits
 * while it should be running, backing off 1 s, 2 s, 4 s … up to 30 s.
 */
export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  uid: number;
  gid: number;
  env: NodeJS.ProcessEnv;
  cwd: string;
  logFile: string;
  pidFile: string;
  stopSteps: StopStep[];
  /** Open-files limit for the process (PgBouncer with thousands of clients). */
  maxOpenFiles?: number;
}

export class ManagedProcess {
  private child: ChildProcess | undefined;
  /** A process a previous supervisor started, taken over by PID and start time (see `adopt`). */
  private adopted: { pid: number; start: string | undefined } | undefined;
  private exitListeners: ((code: number | null, signal: NodeJS.Signals | null) => void)[] = [];
  restarts = 0;
  startedAt: Date | undefined;
  lastExit: { code: number | null; signal: NodeJS.Signals | null; at: Date } | undefined;

  constructor(readonly spec: ProcessSpec) {}

  get pid(): number | undefined {
    if (this.adopted) {
      const { pid, start } = this.adopted;
      return isAlive(pid) && (start === undefined || processStartTime(pid) === start) ? pid : undefined;
    }
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  /**
   * Takes over a process that is already running (started by a supervisor that died or was
   * replaced): it is watched through /proc by PID and start time, and stopped by signals like one
   * started here. When it exits, `start()` starts a new one as usual.
   */
  adopt(pid: number): void {
    this.adopted = { pid, start: processStartTime(pid) };
    this.startedAt = processStartedAt(pid);
  }

  /** Whether the process running now was adopted rather than started here. */
  get wasAdopted(): boolean {
    return this.adopted !== undefined && this.running;
  }

  get running(): boolean {
    return this.pid !== undefined;
  }

  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.exitListeners.push(listener);
  }

  start(): void {
    const { spec } = this;
    this.adopted = undefined;
    const log = openSync(spec.logFile, "a");
    // prlimit sets the limit and then execs the command, so the PID stays the service's own.
    const [command, args] = spec.maxOpenFiles ? ["prlimit", [`--nofile=${spec.maxOpenFiles}:${spec.maxOpenFiles}`, "--", spec.command, ...spec.args]] : [spec.command, spec.args];
    const child = spawn(command, args as string[], {
      uid: spec.uid,
      gid: spec.gid,
      env: spec.env,
      cwd: spec.cwd,
      stdio: ["ignore", log, log],
    });
    closeSync(log);
    this.child = child;
    this.startedAt = new Date();
    if (child.pid !== undefined) writePidFile(spec.pidFile, child.pid);
    let ended = false;
    const ended_ = (code: number | null, signal: NodeJS.Signals | null) => {
      if (ended) return;
      ended = true;
      this.lastExit = { code, signal, at: new Date() };
      removePidFile(spec.pidFile);
      for (const l of this.exitListeners) l(code, signal);
    };
    child.on("exit", ended_);
    // A spawn failure (missing binary) emits "error" and may never emit "exit".
    child.on("error", () => ended_(127, null));
  }

  async stop(onStep?: (s: StopStep) => void): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    await stopEscalating(pid, this.spec.stopSteps, onStep);
  }
}

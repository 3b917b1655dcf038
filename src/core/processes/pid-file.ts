import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";

/**
 * PID files record the PID and the process's start time (field 22 of /proc/PID/stat), so a PID
 * reused by an unrelated process after a reboot or crash is never signalled.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces; fields after the closing paren are fixed.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19];
  } catch {
    return undefined;
  }
}

/** When a process started, from its start time in clock ticks after boot (/proc/stat's btime; 100 ticks a second on Linux). */
export function processStartedAt(pid: number): Date | undefined {
  const ticks = Number(processStartTime(pid));
  const btime = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1];
  if (!Number.isFinite(ticks) || btime === undefined) return undefined;
  return new Date((Number(btime) + ticks / 100) * 1000);
}

/** The process's command line as its arguments (empty once it is gone). */
export function processArgs(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return []; // gone
  }
}

export function isAlive(pid: number): boolean {
  const state = (() => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    } catch {
      return undefined;
    }
  })();
  return state !== undefined && state !== "Z" && state !== "X";
}

export function writePidFile(path: string, pid: number): void {
  writeFileSync(path, `${pid} ${processStartTime(pid) ?? "0"}\n`, { mode: 0o644 });
}

/** The PID recorded in `path` if that very process is still running. */
export function livePidFromFile(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const [pidText, start] = readFileSync(path, "utf8").trim().split(" ");
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (!isAlive(pid)) return undefined;
  if (start && start !== "0" && processStartTime(pid) !== start) return undefined;
  return pid;
}

export function removePidFile(path: string): void {
  rmSync(path, { force: true });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits up to `timeoutMs` for the process to exit. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

export interface StopStep {
  signal: NodeJS.Signals;
  waitMs: number;
}

/**
 * Stops a process by escalating through signals on a clock: each signal gets its wait, then the next
 * is sent. Returns the signal that ended it (or undefined if it was already gone).
 */
export async function stopEscalating(pid: number, steps: readonly StopStep[], onStep?: (s: StopStep) => void): Promise<NodeJS.Signals | undefined> {
  if (!isAlive(pid)) return undefined;
  for (const step of steps) {
    onStep?.(step);
    try {
      process.kill(pid, step.signal);
    } catch {
      return step.signal; // already gone
    }
    if (await waitForExit(pid, step.waitMs)) return step.signal;
  }
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    /* gone */
  }
  await waitForExit(pid, 5000);
  return "SIGKILL";
}

/** Whether a pgBackRest process runs `command` (backup, restore …) with this cluster's configuration. */
export function pgbackrestRunning(configFile: string, command: string): boolean {
  return pgbackrestPid(configFile, command) !== undefined;
}

/** The PID of a pgBackRest process running `command` with this configuration file (the first found). */
export function pgbackrestPid(configFile: string, command: string): number | undefined {
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    } catch {
      continue; // exited meanwhile
    }
    if (args.some((a) => a.endsWith("pgbackrest")) && args.includes(`--config=${configFile}`) && args.includes(command)) return Number(pid);
  }
  return undefined;
}

import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { run } from "../exec.js";
import { PG_BIN_DIR } from "../install/components.js";
import type { OsUser } from "../os-user.js";
import type { StatePaths } from "../state-dir.js";
import { FIRST_NODE, nodeNames, nodePaths } from "../cluster/nodes.js";
import { basename, join } from "node:path";
import { isAlive, livePidFromFile, processArgs, stopEscalating, type StopStep } from "./pid-file.js";

/** The PID of the postmaster running on `dataDir` (its postmaster.pid names a live process), if any. */
export function livePostmaster(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined; // no postmaster.pid: PostgreSQL is not running there
  }
}

/**
 * A postmaster without its Patroni (Patroni was killed): fast, then immediate shutdown via pg_ctl.
 * Checked by the data directory's postmaster.pid and the process's command line.
 */
export async function stopOrphanPostmaster(dataDir: string, user: OsUser, log: (line: string) => void): Promise<void> {
  const pid = livePostmaster(dataDir);
  if (pid === undefined) return;
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  if (!cmdline.includes("postgres")) return;
  for (const mode of ["fast", "immediate"]) {
    log(`stopping the postmaster (pid ${pid}) with pg_ctl -m ${mode}`);
    await run(`${PG_BIN_DIR}/pg_ctl`, ["stop", "-D", dataDir, "-m", mode, "-t", "30", "-w"], { uid: user.uid, gid: user.gid, cwd: "/" });
    if (!isAlive(pid)) return;
  }
}

/**
 * Stops what a supervisor that died left running, newest layer first, each by the PID (and start
 * time) in its PID file: HAProxy, PgBouncer, every node's Patroni, etcd, then any postmaster left without
 * its Patroni.
 */
export async function stopLeftovers(paths: StatePaths, user: OsUser, log: (line: string) => void, steps: (name: string) => readonly StopStep[]): Promise<void> {
  for (const { name, pid } of liveLeftovers(paths)) {
    log(`stopping ${name} (pid ${pid}) left by a previous supervisor`);
    await stopEscalating(pid, steps(name));
  }
  for (const n of nodeNames(paths)) await stopOrphanPostmaster(nodePaths(paths, n).dataDir, user, log);
}

/**
 * The services of this state directory whose PID file names their live process (same start time,
 * and a command line that is that service's for this state directory), newest layer first: what a
 * supervisor that is gone left serving. A PID reused by another process is not listed.
 */
export function liveLeftovers(paths: StatePaths): { name: string; pid: number }[] {
  const patronis = nodeNames(paths).map((n) => ({ name: n === FIRST_NODE ? "patroni" : `patroni-${n}`, command: "patroni", pidFile: nodePaths(paths, n).patroniPid }));
  const found: { name: string; pid: number }[] = [];
  for (const { name, command, pidFile } of [
    { name: "haproxy", command: "haproxy", pidFile: paths.pidFile("haproxy") },
    { name: "pgbouncer", command: "pgbouncer", pidFile: paths.pidFile("pgbouncer") },
    ...patronis.reverse(),
    { name: "etcd", command: "etcd", pidFile: paths.pidFile("etcd") },
  ]) {
    const pid = livePidFromFile(pidFile);
    if (pid !== undefined && isServiceOf(command, pid, paths.root)) found.push({ name, pid });
  }
  return found;
}

/** Whether process `pid` runs `command` for the state directory `root` (the command, and a path under `root` among its arguments). */
export function isServiceOf(command: string, pid: number, root: string): boolean {
  const args = processArgs(pid);
  const name = basename(command);
  return args.some((a) => basename(a) === name) && args.some((a) => a.includes(`${root}/`));
}

/**
 * The PID in `pidFile` if it is tusk's own `script` (the supervisor's or the keeper's entry point)
 * running for the state directory `root`: a PID file that survived a reboot may name anyone.
 */
export function liveTuskPid(pidFile: string, script: string, root: string): number | undefined {
  const pid = livePidFromFile(pidFile);
  if (pid === undefined) return undefined;
  const args = processArgs(pid);
  return args[1]?.endsWith(`/${script}`) && args[2] === root ? pid : undefined;
}

/** Whether `pid` is a postmaster serving `dataDir` (`postgres -D dataDir …`). */
function isPostmasterOf(pid: number, dataDir: string): boolean {
  const args = processArgs(pid);
  return basename(args[0] ?? "") === "postgres" && args[args.indexOf("-D") + 1] === dataDir;
}

/**
 * Removes PostgreSQL's lock files (postmaster.pid, and each socket's .s.PGSQL.PORT.lock) that no
 * running postmaster of `dataDir` holds. After a reboot the PID in them may name an unrelated live
 * process, and PostgreSQL then refuses to start ("Is another postmaster running?"). Returns what was
 * removed.
 */
export function removeStaleLocks(dataDir: string, socketDir: string): string[] {
  const pidFile = join(dataDir, "postmaster.pid");
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && isPostmasterOf(pid, dataDir)) return []; // it runs
  }
  const stale = [
    pidFile,
    ...(existsSync(socketDir)
      ? readdirSync(socketDir)
          .filter((f) => /^\.s\.PGSQL\.\d+(\.lock)?$/.test(f))
          .map((f) => join(socketDir, f))
      : []),
  ].filter((f) => existsSync(f));
  for (const f of stale) rmSync(f, { force: true });
  return stale;
}

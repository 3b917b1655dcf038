import { existsSync, readFileSync } from "node:fs";
import { run } from "../exec.js";
import { PG_BIN_DIR } from "../install/components.js";
import type { OsUser } from "../os-user.js";
import type { StatePaths } from "../state-dir.js";
import { FIRST_NODE, nodeNames, nodePaths } from "../cluster/nodes.js";
import { isAlive, livePidFromFile, stopEscalating, type StopStep } from "./pid-file.js";

/**
 * A postmaster without its Patroni (Patroni was killed): fast, then immediate shutdown via pg_ctl.
 * Checked by the data directory's postmaster.pid and the process's command line.
 */
export async function stopOrphanPostmaster(dataDir: string, user: OsUser, log: (line: string) => void): Promise<void> {
  const pidFile = `${dataDir}/postmaster.pid`;
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
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
  const nodes = nodeNames(paths);
  const patronis = nodes.map((n) => ({ name: n === FIRST_NODE ? "patroni" : `patroni-${n}`, pidFile: nodePaths(paths, n).patroniPid }));
  for (const { name, pidFile } of [
    { name: "haproxy", pidFile: paths.pidFile("haproxy") },
    { name: "pgbouncer", pidFile: paths.pidFile("pgbouncer") },
    ...patronis.reverse(),
    { name: "etcd", pidFile: paths.pidFile("etcd") },
  ]) {
    const pid = livePidFromFile(pidFile);
    if (pid === undefined) continue;
    log(`stopping ${name} (pid ${pid}) left by a previous supervisor`);
    await stopEscalating(pid, steps(name));
  }
  for (const n of nodes) await stopOrphanPostmaster(nodePaths(paths, n).dataDir, user, log);
}

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { nodePaths } from "../cluster/nodes.js";
import { StatePaths } from "../state-dir.js";

/** Faults injected into one node of a cluster on this machine: failover drills, tests, the benchmark. */
export function pidOf(file: string): number {
  return Number(readFileSync(file, "utf8").trim().split(/\s+/)[0]);
}

/** The postmaster of a node and every process it started. */
export function postgresProcesses(dataDir: string): number[] {
  const postmaster = pidOf(join(dataDir, "postmaster.pid"));
  const children = readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1] === String(postmaster);
      } catch {
        return false;
      }
    });
  return [postmaster, ...children.map(Number)];
}

export function killPostmaster(stateDir: string, node: string): void {
  process.kill(postgresProcesses(nodePaths(new StatePaths(stateDir), node).dataDir)[0]!, "SIGKILL");
}

/**
 * Freezes a node as if it stopped answering: its Patroni and every PostgreSQL process get SIGSTOP,
 * so nothing on it renews the leader lock or answers clients, and nothing restarts them. Returns
 * the function that thaws it (SIGCONT).
 */
export function freezeNode(stateDir: string, node: string): () => void {
  const np = nodePaths(new StatePaths(stateDir), node);
  const frozen = [pidOf(np.patroniPid), ...postgresProcesses(np.dataDir)];
  for (const pid of frozen) process.kill(pid, "SIGSTOP");
  let thawed = false;
  return () => {
    if (thawed) return;
    thawed = true;
    for (const pid of frozen) {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        /* gone */
      }
    }
  };
}

/**
 * After `node` thaws from a freeze, Patroni demotes it and starts PostgreSQL again as a replica.
 * This stops the node's Patroni the moment that new postmaster appears and lets it go once
 * `release()` says so (at most `maxHoldMs` later): held until PostgreSQL's WAL receiver streams
 * from the new primary, Patroni then checks for a rewind against the new timeline the receiver
 * reports (the race a returning primary sometimes loses by itself). Resolves once Patroni runs
 * again; rejects if no new postmaster appears.
 */
export async function holdPatroniOnRestart(stateDir: string, node: string, oldPostmaster: number, release: () => Promise<boolean>, maxHoldMs = 30_000, timeoutMs = 60_000): Promise<void> {
  const np = nodePaths(new StatePaths(stateDir), node);
  const patroni = pidOf(np.patroniPid);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let postmaster: number | undefined;
    try {
      postmaster = pidOf(join(np.dataDir, "postmaster.pid"));
      process.kill(postmaster, 0);
    } catch {
      postmaster = undefined; // not written yet, or being replaced
    }
    if (postmaster !== undefined && postmaster !== oldPostmaster) break;
    if (Date.now() > deadline) throw new Error(`${node}: no new postmaster within ${timeoutMs / 1000} s`);
    await sleep(10);
  }
  process.kill(patroni, "SIGSTOP");
  try {
    const until = Date.now() + maxHoldMs;
    while (Date.now() < until && !(await release().catch(() => false))) await sleep(100);
  } finally {
    process.kill(patroni, "SIGCONT");
  }
}

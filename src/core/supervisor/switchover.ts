import { TuskError } from "../errors.js";
import { recordRoleChange } from "../cluster/history.js";
import { patroniSwitchover, patroniSwitchoverAt } from "../processes/patroni.js";
import { sleep } from "../processes/pid-file.js";
import type { SupervisorContext } from "./context.js";
import { patroniAuth } from "./node-setup.js";
import { chooseCandidate, otherHostsNodes, pausePool, resumePool, type ReplicationStatus } from "./replication.js";
import { announceSwitchover, hostsToPause } from "./switchover-pause.js";
import type { Routing } from "./routing.js";

export interface SwitchoverResult {
  from: string;
  to: string;
  pausedMs: number;
  totalMs: number;
}

/**
 * Planned switchover: PgBouncer pauses the application's pool (in-flight transactions finish, new
 * ones wait), Patroni hands the lock to the candidate, PgBouncer follows it and resumes. Clients see
 * a pause, not an error.
 */
export async function switchover(ctx: SupervisorContext, routing: Routing, replication: () => Promise<ReplicationStatus>, to: string | undefined): Promise<SwitchoverResult> {
  routing.plannedMove = true;
  try {
    return await switchoverNow(ctx, routing, replication, to);
  } finally {
    routing.plannedMove = false;
  }
}

async function switchoverNow(ctx: SupervisorContext, routing: Routing, replication: () => Promise<ReplicationStatus>, to: string | undefined): Promise<SwitchoverResult> {
  const { config, nodes, paths, log } = ctx;
  const started = Date.now();
  // This host's nodes, and once hosts joined the other hosts' as Patroni's members describe them.
  const view = async () => {
    const local = (await replication()).nodes;
    return [...local, ...(ctx.network ? otherHostsNodes(routing.members, local) : [])];
  };
  let candidates = await view();
  if (candidates.length < 2) throw new TuskError("IncompatibleState", "There is no replica to switch over to.", { hint: "Add one with `tusk scale --replicas 1`, or join a data host." });
  // Right after a role change Patroni takes up to loop_wait to name the new synchronous standby.
  let choice = chooseCandidate(candidates, to, config.replication_mode !== "async");
  while (!choice.ok && choice.transient && Date.now() - started < 15_000) {
    await sleep(500);
    await routing.followLeader();
    candidates = await view();
    choice = chooseCandidate(candidates, to, config.replication_mode !== "async");
  }
  if (!choice.ok) throw new TuskError(choice.code, choice.message, { hint: choice.hint });
  const from = candidates.find((n) => n.role === "primary")?.name ?? nodes.primary;
  const local = nodes.has(choice.name);
  log(`switchover from ${from} to ${choice.name}${local ? "" : " (a node of another host)"}: pausing the pool`);
  // The other data hosts' pools pause too (switchover-pause.ts); they resume by themselves once
  // the candidate is writable, or when the announcement ends.
  const others = ctx.network ? await announceSwitchover(ctx, { from, to: choice.name }, hostsToPause(ctx.network, routing.members)) : undefined;
  let pausedAt = Date.now();
  try {
    await withPoolPaused(ctx, () => {
      pausedAt = Date.now();
      return handOver(ctx, routing, from, choice.name);
    });
  } finally {
    await others?.end();
  }
  const totalMs = Date.now() - started;
  const pausedMs = Date.now() - pausedAt;
  log(`switchover to ${choice.name} done in ${totalMs} ms (pool paused ${pausedMs} ms)`);
  const timeline = routing.members.find((m) => m.name === choice.name)?.timeline ?? null;
  recordRoleChange(paths, { at: new Date().toISOString(), kind: "switchover", from, to: choice.name, timeline, outageMs: pausedMs });
  return { from, to: choice.name, pausedMs, totalMs };
}

/**
 * Patroni hands the lock from `from` to `to`; returns once this host routes writes to `to` and it
 * has left recovery. Patroni checks the candidate against the synchronous standby it has in
 * etcd, which follows pg_stat_replication by a loop: a standby that has just come back is refused
 * for a moment ("candidate name does not match with sync_standby", seen in CI), so that answer is
 * retried.
 */
async function handOver(ctx: SupervisorContext, routing: Routing, from: string, to: string): Promise<void> {
  const { nodes, paths } = ctx;
  // Posted to the leader's own API, which acts at once (another member's waits for the leader's
  // next loop: a second more, measured across hosts).
  const leader = routing.members.find((m) => m.name === from);
  const local = nodes.node(from)?.ports.patroni;
  const post = () =>
    local !== undefined || !leader?.api_url
      ? patroniSwitchover(local ?? nodes.primaryNode.ports.patroni, patroniAuth(ctx), from, to)
      : patroniSwitchoverAt(leader.api_url, nodes.primaryNode.ports.patroni, patroniAuth(ctx), from, to);
  const asked = Date.now();
  let r = await post();
  while (r.status === 412 && /sync_standby/.test(r.body) && Date.now() - asked < 5000) {
    await sleep(500);
    r = await post();
  }
  if (r.status >= 300) throw new TuskError("ProcessFailed", `Patroni refused the switchover (${r.status}): ${r.body.slice(0, 200)}`);
  const deadline = Date.now() + 60_000;
  while (routing.writesTo !== to) {
    if (Date.now() > deadline) throw new TuskError("Timeout", `${to} did not become the primary within 60 s.`, { hint: `See ${paths.logDir}.` });
    await routing.followLeader();
    if (routing.writesTo !== to) await sleep(100);
  }
  // Patroni names the new leader as soon as it asks PostgreSQL to promote; until recovery has
  // ended, a resumed client's write would fail as read-only (another host's node is asked as the
  // rewind role).
  await routing.waitForWritable(to, deadline);
}

/** Runs `work` with the pool paused (new transactions wait, none fail), resuming whatever happens. */
export async function withPoolPaused<T>(ctx: SupervisorContext, work: () => Promise<T>): Promise<T> {
  await pausePool(ctx);
  try {
    return await work();
  } finally {
    await resumePool(ctx);
  }
}

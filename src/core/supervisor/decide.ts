import { DIVERGED_AFTER_MS } from "./divergence.js";
import type { ClusterState } from "./cluster-state.js";
import { isPrimary, type PatroniMember } from "../processes/patroni.js";

/**
 * One thing the supervisor decided, with the sentence that explains it (logged when it changes, and
 * shown by `tusk status`). Kinds that only wait or report have handlers that do nothing.
 */
export type Decision =
  | { kind: "restart-child"; child: string; sentence: string }
  | { kind: "await-back-off"; child: string; sentence: string }
  | { kind: "route-writes"; from: string; to: string; sentence: string }
  | { kind: "rewind-replica"; node: string; timeline: number; sentence: string }
  | { kind: "reinitialize-replica"; node: string; timeline: number; sentence: string }
  | { kind: "await-repair"; node: string; sentence: string }
  | { kind: "await-postgres"; sentence: string }
  | { kind: "hold-writes"; node: string; sentence: string }
  | { kind: "release-writes"; node: string; sentence: string }
  | { kind: "await-etcd"; sentence: string }
  | { kind: "report-pending-restart"; nodes: string[]; sentence: string }
  | { kind: "promote-etcd-learner"; member: string; name: string; sentence: string }
  | { kind: "serve-remote-node"; member: PatroniMember; sentence: string }
  | { kind: "none"; sentence: string };

export type DecisionKind = Decision["kind"];

/** What the supervisor wants of the cluster besides "every supervised process runs". */
export interface DesiredState {
  /** Whether a settings change in flight restarts nodes itself (no pending restart is reported meanwhile). */
  settingsChangeRunning: boolean;
}

/** Decisions that leave the cluster as it should be: the phase stays "ready". */
const HEALTHY: ReadonlySet<DecisionKind> = new Set<DecisionKind>([
  "none",
  "await-repair",
  "report-pending-restart",
  "rewind-replica",
  "reinitialize-replica",
  "promote-etcd-learner",
  "serve-remote-node",
]);

/** Whether the cluster is serving as it should (phase "ready") rather than "degraded". */
export function healthy(decisions: readonly Decision[]): boolean {
  return decisions.every((d) => HEALTHY.has(d.kind));
}

/** The sentence `tusk status` shows: every decision's, in order. */
export function explain(decisions: readonly Decision[]): string {
  return decisions.map((d) => d.sentence).join("; ");
}

/**
 * The supervision decision, pure: from one observation and what is desired, what to do now, each
 * with the sentence that explains it.
 */
export function decide(state: ClusterState, desired: DesiredState): Decision[] {
  const { at, primary } = state;
  const decisions: Decision[] = childDecisions(state.children, at);
  const leader = state.members.find((m) => m.role === "leader" && m.state === "running");
  decisions.push(...routingDecisions(state));
  const pgRunning = primary?.state === "running";
  const role = primary?.role === "master" ? "primary" : primary?.role;
  if (!pgRunning) decisions.push({ kind: "await-postgres", sentence: `PostgreSQL is ${primary?.state ?? "unreachable through Patroni"}; Patroni restarts it` });
  const hold = writeHold(state);
  if (hold) decisions.push(hold);
  if (pgRunning && state.etcdSilentSince !== null && decisions.length === 0) {
    const silent = `etcd has not answered for ${Math.round((at - state.etcdSilentSince) / 1000)} s, so Patroni cannot renew the leader lock`;
    const sentence = primary?.failsafe_mode_is_active
      ? `${silent}; failsafe mode keeps PostgreSQL ${role} while every member's Patroni answers; no failover or switchover can happen until etcd is back`
      : `${silent}; PostgreSQL is ${role}, and Patroni keeps it so for retry_timeout, then failsafe mode if every member answers`;
    decisions.push({ kind: "await-etcd", sentence });
  }
  const repair = state.operations.find((o) => o.kind === "repair");
  if (repair) {
    decisions.push({ kind: "await-repair", node: repair.detail.replace(/^repair of /, ""), sentence: `${repair.detail} under way` });
  } else if (state.diverged[0] && leader?.timeline !== undefined) {
    decisions.push(repairDecision(state, state.diverged[0], leader.name, leader.timeline));
  }
  const pending = state.members.filter((m) => m.pending_restart).map((m) => m.name);
  if (pending.length > 0 && !desired.settingsChangeRunning) {
    decisions.push({
      kind: "report-pending-restart",
      nodes: pending,
      sentence: `${pending.join(", ")} ${pending.length === 1 ? "has" : "have"} settings waiting for a restart: \`tusk config apply\` restarts them one node at a time`,
    });
  }
  const promotion = etcdPromotion(state.etcdMembers);
  if (promotion) decisions.push(promotion);
  if (healthy(decisions)) {
    // Reports and repairs beside a serving cluster: the sentence still starts with how it serves.
    const serving = state.routedToHost
      ? `all processes are up; PgBouncer and the direct endpoint send writes to ${state.routedTo} on ${state.routedToHost} (another host); PostgreSQL here is ${role}`
      : `all processes are up and PostgreSQL is ${role}`;
    decisions.unshift({ kind: "none", sentence: `${decisions.length === 0 ? "no action: " : ""}${serving}` });
  }
  return decisions;
}

/** How long the pool holds new transactions for a leader that restarts in place, at most. */
export const MAX_WRITE_HOLD_MS = 30_000;

/**
 * The leader on this host restarting in place (its postmaster crashed): Patroni keeps the leader
 * key, runs crash recovery, starts PostgreSQL read-only ("starting as readonly because i had the
 * session lock") and promotes it a loop later. PgBouncer would hand new transactions to it in
 * between, and every write would fail as read-only (17–67 errors per crash in the failover
 * benchmark). So the pool holds new transactions (PAUSE) from the moment the leader's postmaster is
 * gone, or Patroni reports it not running as primary, until it has left recovery, for at most 30 s.
 * A node whose postmaster still runs but whose Patroni does not answer (a frozen node) is a
 * failover's business: its in-flight transactions would keep a PAUSE waiting. Nothing is held
 * while a switchover or settings change runs: they pause the pool themselves.
 */
export function writeHold(state: ClusterState): Decision | undefined {
  const { primary, routedTo } = state;
  const leader = state.members.find((m) => m.role === "leader");
  const moving = state.operations.some((o) => o.kind === "switchover" || o.kind === "settings" || o.kind === "restore");
  const local = state.routedToHost === null && leader?.name === routedTo && !moving;
  const down = !state.postmasterAlive || (primary !== undefined && !isPrimary(primary));
  const held = state.writesHeldSince;
  const what = state.postmasterAlive ? `PostgreSQL is ${primary?.state ?? "not answering"}${primary ? ` as ${primary.role}` : ""}` : "its postmaster is gone";
  const hold: Decision = { kind: "hold-writes", node: routedTo, sentence: `${routedTo} keeps the leader key while ${what}: PgBouncer holds new transactions until it takes writes again` };
  if (held === null) return local && down ? hold : undefined;
  // A switchover or settings change pauses the pool itself and resumes it at its end.
  if (moving) return undefined;
  if (state.at - held > MAX_WRITE_HOLD_MS)
    return { kind: "release-writes", node: routedTo, sentence: `${routedTo} has not taken writes for ${MAX_WRITE_HOLD_MS / 1000} s: PgBouncer lets the held transactions through (they may fail)` };
  // Patroni failed the leader over meanwhile: the hold goes on until the routing follows the new
  // leader (within a second), then until that node takes writes, as routing's own pause would.
  if (leader && leader.name !== routedTo && state.routedToHost === null && state.localNodes.includes(leader.name)) return undefined;
  if (!local || state.primaryWritable === true) return { kind: "release-writes", node: routedTo, sentence: `${routedTo} takes writes again: PgBouncer lets the held transactions through` };
  return hold; // held already: the handler leaves the pause as it is
}

/** What routing decides from Patroni's members: where writes go, and which other hosts' nodes HAProxy serves. */
export type RoutingState = Pick<ClusterState, "members" | "routedTo" | "routedToHost" | "localNodes" | "remoteServed">;

/**
 * Writes follow Patroni's running leader, this host's node or another host's; every running node of
 * another host joins HAProxy's backends (the read-only endpoint serves its reads, the direct
 * endpoint reaches it when it leads).
 */
export function routingDecisions(state: RoutingState): Decision[] {
  const decisions: Decision[] = [];
  const leader = state.members.find((m) => m.role === "leader" && m.state === "running");
  if (leader && leader.name !== state.routedTo) {
    const remote = !state.localNodes.includes(leader.name);
    decisions.push({
      kind: "route-writes",
      from: state.routedTo,
      to: leader.name,
      sentence: remote
        ? `Patroni names ${leader.name}, a node of another host (${leader.host}), leader while writes go to ${state.routedTo}: routing PgBouncer (over TLS) and the direct endpoint to it`
        : `Patroni names ${leader.name} leader while writes go to ${state.routedTo}: routing PgBouncer and the direct endpoint to ${leader.name}`,
    });
  }
  for (const m of state.members) {
    if (state.localNodes.includes(m.name) || state.remoteServed.includes(m.name) || !m.host) continue;
    if (m.state !== "running" && m.state !== "streaming") continue;
    decisions.push({ kind: "serve-remote-node", member: m, sentence: `${m.name}, a node of another host (${m.host}), joins HAProxy's read-only and direct backends` });
  }
  return decisions;
}

/**
 * etcd keeps a majority of its voters: with an odd number of them, one more host may be lost than
 * with the even number below it, so a learner (a joined host receiving the log) is promoted when
 * that makes the voters odd — three out of one voter and two hosts joined. Otherwise it waits as a
 * learner: the next join promotes it first, since etcd 3.4 holds one learner at a time (host-join.ts).
 * etcd itself refuses the promotion until the learner has the leader's log; the watch tries again.
 */
export function etcdPromotion(members: ClusterState["etcdMembers"]): Decision | undefined {
  const voters = members.filter((m) => !m.learner).length;
  const learner = members.find((m) => m.learner);
  if (!learner || voters === 0 || voters % 2 === 1) return undefined;
  const survives = Math.floor(voters / 2);
  return {
    kind: "promote-etcd-learner",
    member: learner.id,
    name: learner.name,
    sentence: `etcd has ${voters} voters and ${learner.name} as a learner: promoting it once it has the leader's log makes ${voters + 1} voters, which keep a majority when ${survives === 1 ? "any one host is" : `any ${survives} hosts are`} lost`,
  };
}

/** A child that exited is restarted once its back-off is over. */
function childDecisions(children: ClusterState["children"], at: number): Decision[] {
  return children
    .filter((child) => !child.running)
    .map((child) =>
      child.restartAfter === null || child.restartAfter <= at
        ? { kind: "restart-child", child: child.name, sentence: `restarting ${child.name}, which exited${child.restarts > 0 ? ` (it has been restarted ${child.restarts} time(s))` : ""}` }
        : { kind: "await-back-off", child: child.name, sentence: `waiting to restart ${child.name} (back-off, ${Math.ceil((child.restartAfter - at) / 1000)} s left)` },
    );
}

/** What a witness host (etcd alone) observes: its etcd process and its membership. */
export interface WitnessState {
  readonly at: number;
  readonly children: ClusterState["children"];
  /** etcd's own view of itself; undefined when it does not answer. */
  readonly etcd: { learner: boolean; leaderKnown: boolean } | undefined;
}

/** The witness's decision, pure: restart etcd if it exited; otherwise say how it takes part. */
export function decideWitness(state: WitnessState): Decision[] {
  const decisions = childDecisions(state.children, state.at);
  if (decisions.length > 0) return decisions;
  if (!state.etcd?.leaderKnown) return [{ kind: "await-etcd", sentence: "etcd runs but sees no leader: the other hosts are unreachable from here" }];
  return [
    {
      kind: "none",
      sentence: state.etcd.learner
        ? "no action: witness host; etcd follows the cluster as a learner (no vote until the next host joins: two voters would survive no loss, three survive one)"
        : "no action: witness host; etcd votes in the cluster's quorum",
    },
  ];
}

/** What a joined data host (etcd, one PostgreSQL node under Patroni, the endpoints) observes. */
export interface DataHostState extends WitnessState, RoutingState {
  /** Its node's name and Patroni's report of it; undefined when Patroni does not answer. */
  readonly node: string;
  readonly patroni: { role: string; state: string; timeline?: number } | undefined;
}

/** The joined data host's decision, pure: restart what exited; otherwise say what its node is and whether etcd votes. */
export function decideDataHost(state: DataHostState): Decision[] {
  const decisions = childDecisions(state.children, state.at);
  if (decisions.length > 0) return decisions;
  if (!state.etcd?.leaderKnown) return [{ kind: "await-etcd", sentence: "etcd runs but sees no leader: the other hosts are unreachable from here" }];
  const p = state.patroni;
  if (!p || (p.state !== "running" && p.state !== "streaming"))
    return [{ kind: "await-postgres", sentence: `PostgreSQL ${state.node} is ${p?.state ?? "unreachable through Patroni"}; Patroni starts it` }];
  const routing = routingDecisions(state);
  if (!healthy(routing)) return routing;
  const role = p.role === "master" || p.role === "primary" ? "the cluster's primary" : `a replica (${p.role === "sync_standby" ? "synchronous standby" : p.role})`;
  const vote = state.etcd.learner ? "etcd follows as a learner" : "etcd votes";
  const writes = state.routedToHost ? `${state.routedTo} on ${state.routedToHost}` : state.routedTo;
  return [
    { kind: "none", sentence: `no action: data host; PostgreSQL ${state.node} is ${role}, timeline ${p.timeline ?? "unknown"}; ${vote}; PgBouncer and the direct endpoint send writes to ${writes}` },
    ...routing,
  ];
}

/**
 * A replica that holds WAL the primary never had is rewound first (pg_rewind); if it is still
 * diverged under the same leader timeline after that, it is copied afresh from the primary.
 */
function repairDecision(state: ClusterState, node: string, leader: string, timeline: number): Decision {
  const member = state.members.find((m) => m.name === node);
  const prior = state.repairs[node];
  const attempts = prior?.timeline === timeline ? prior.attempts : 0;
  const why = `${node} (timeline ${member?.timeline ?? "unknown"}) has not replayed any WAL for ${DIVERGED_AFTER_MS / 1000} s while behind the timeline of the primary ${leader} (${timeline}) or past its WAL position: it holds WAL the primary never had`;
  return attempts === 0
    ? { kind: "rewind-replica", node, timeline, sentence: `${why}; rewinding it with pg_rewind (its Patroni restarts with PostgreSQL stopped)` }
    : { kind: "reinitialize-replica", node, timeline, sentence: `${why}, even after a rewind; reinitializing it from ${leader}` };
}

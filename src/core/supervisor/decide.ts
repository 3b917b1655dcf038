import { DIVERGED_AFTER_MS } from "./divergence.js";
import type { ClusterState } from "./cluster-state.js";

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
  | { kind: "await-etcd"; sentence: string }
  | { kind: "report-pending-restart"; nodes: string[]; sentence: string }
  | { kind: "none"; sentence: string };

export type DecisionKind = Decision["kind"];

/** What the supervisor wants of the cluster besides "every supervised process runs". */
export interface DesiredState {
  /** Whether a settings change in flight restarts nodes itself (no pending restart is reported meanwhile). */
  settingsChangeRunning: boolean;
}

/** Decisions that leave the cluster as it should be: the phase stays "ready". */
const HEALTHY: ReadonlySet<DecisionKind> = new Set<DecisionKind>(["none", "await-repair", "report-pending-restart", "rewind-replica", "reinitialize-replica"]);

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
  if (leader && leader.name !== state.routedTo) {
    decisions.push({
      kind: "route-writes",
      from: state.routedTo,
      to: leader.name,
      sentence: `Patroni names ${leader.name} leader while writes go to ${state.routedTo}: routing PgBouncer and the direct endpoint to ${leader.name}`,
    });
  }
  const pgRunning = primary?.state === "running";
  const role = primary?.role === "master" ? "primary" : primary?.role;
  if (!pgRunning) decisions.push({ kind: "await-postgres", sentence: `PostgreSQL is ${primary?.state ?? "unreachable through Patroni"}; Patroni restarts it` });
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
  if (healthy(decisions)) {
    // Reports and repairs beside a serving cluster: the sentence still starts with how it serves.
    decisions.unshift({ kind: "none", sentence: `${decisions.length === 0 ? "no action: " : ""}all processes are up and PostgreSQL is ${role}` });
  }
  return decisions;
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
        ? "no action: witness host; etcd follows the cluster as a learner (no vote: with two hosts, one voter keeps quorum on the first host)"
        : "no action: witness host; etcd votes in the cluster's quorum",
    },
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

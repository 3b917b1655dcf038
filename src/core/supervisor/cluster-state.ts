import type { PatroniMember, PatroniNodeStatus } from "../processes/patroni.js";
import type { ChildObservation } from "./children.js";
import type { OperationKind } from "./operation-queue.js";
import type { RepairRecord } from "./topology.js";

/**
 * What one observation saw of the cluster, built afresh each tick by the supervisor's observe step
 * and read by `decide`. Nothing here is changed by the handlers that act on the decisions: the next
 * tick observes what they did.
 */
export interface ClusterState {
  /** When it was observed (ms since the epoch). */
  readonly at: number;
  /** The node PgBouncer and the direct endpoint send writes to. */
  readonly routedTo: string;
  /** When that node is another host's, its address (PgBouncer and HAProxy reach it there); null otherwise. */
  readonly routedToHost: string | null;
  /** This host's own nodes (the others' are Patroni members too, once data hosts joined). */
  readonly localNodes: readonly string[];
  /** Other hosts' nodes HAProxy serves (read-only and direct endpoints). */
  readonly remoteServed: readonly string[];
  /** The supervised processes, in start order. */
  readonly children: readonly ChildObservation[];
  /** Patroni's members: role, state, timeline, pending restart. Empty when no Patroni answered. */
  readonly members: readonly PatroniMember[];
  /** The routed node's own Patroni report; undefined when it did not answer. */
  readonly primary: PatroniNodeStatus | undefined;
  /** Since when etcd has not answered its health check; null while it does. */
  readonly etcdSilentSince: number | null;
  /** Replicas that have held WAL the primary never had, without replaying, for long enough to repair (DivergenceWatch). */
  readonly diverged: readonly string[];
  /** Repairs made so far per node, and under which leader timeline. */
  readonly repairs: Readonly<Record<string, RepairRecord>>;
  /** etcd's members as this host's etcd lists them (a converted cluster; empty otherwise, or when it did not answer). */
  readonly etcdMembers: readonly { id: string; name: string; learner: boolean }[];
  /** Whether the routed node's postmaster runs (its postmaster.pid names a live process), when the node is this host's. */
  readonly postmasterAlive: boolean;
  /** While writes are held: whether the routed node has left recovery (asked on loopback); undefined otherwise. */
  readonly primaryWritable: boolean | undefined;
  /** Since when PgBouncer holds new transactions for a leader restarting in place (decide.ts, writeHold); null when it does not. */
  readonly writesHeldSince: number | null;
  /** Long operations in flight. */
  readonly operations: readonly { kind: OperationKind; detail: string }[];
}

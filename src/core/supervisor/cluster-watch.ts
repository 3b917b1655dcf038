import { EtcdMembers, type EtcdMember } from "../network/etcd-members.js";
import { getJson } from "../processes/http-probe.js";
import { isPrimary, patroniNode, type PatroniNodeStatus } from "../processes/patroni.js";
import type { Children } from "./children.js";
import type { ClusterState } from "./cluster-state.js";
import type { SupervisorContext } from "./context.js";
import { decide, writeHold, type Decision, type DecisionKind } from "./decide.js";
import { DivergenceWatch } from "./divergence.js";
import type { Exclusive, OperationQueue } from "./operation-queue.js";
import type { Routing } from "./routing.js";
import type { Topology } from "./topology.js";
import { pausePool, resumePool } from "./replication.js";
import { nodePaths } from "../cluster/nodes.js";
import { livePostmaster } from "../processes/leftovers.js";

type Handler<K extends DecisionKind> = (decision: Extract<Decision, { kind: K }>) => void;

/**
 * The first host's watch, each second: `observe` builds one ClusterState (processes, Patroni's
 * members and the primary, etcd, divergence, operations), `decide` (pure, decide.ts) turns it into
 * decisions with sentences, and `act` hands each to its one handler. Handlers that take long (a
 * repair, an etcd promotion) run in the background, one at a time each.
 */
export class ClusterWatch {
  /** The primary node's Patroni as last observed (status reads its versions). */
  lastPatroni: PatroniNodeStatus | undefined;
  /** The last round's observation (crashCheck looks again at the postmaster against it). */
  private lastState: ClusterState | undefined;
  private readonly divergence = new DivergenceWatch();
  /** Since when this host's etcd has not answered its health check. */
  private etcdSilentSince: number | null = null;
  private repairing = false;
  private promoting = false;
  /** etcd's last refusal of a promotion, logged once. */
  private promotionRefusal = "";
  /** Since when PgBouncer holds new transactions for the leader restarting in place (decide.ts, writeHold). */
  private writesHeldSince: number | null = null;

  constructor(
    private readonly ctx: SupervisorContext,
    private readonly children: Children,
    private readonly routing: Routing,
    private readonly topology: Topology,
    private readonly queue: OperationQueue,
    private readonly exclusive: Exclusive,
  ) {}

  /** This tick's decisions. */
  async decide(): Promise<Decision[]> {
    const state = await this.observe();
    this.lastState = state;
    return decide(state, { settingsChangeRunning: state.operations.some((o) => o.kind === "settings") });
  }

  /**
   * Between two rounds of the watch (one may take seconds while Patroni does not answer): the
   * leader's postmaster looked at alone, five times a second, against the last observation, so the
   * pool holds new transactions before Patroni's crash recovery starts PostgreSQL read-only
   * (writeHold decides, as in the round).
   */
  crashCheck(): void {
    const last = this.lastState;
    if (!last || this.writesHeldSince !== null) return;
    const postmasterAlive = livePostmaster(nodePaths(this.ctx.paths, this.ctx.nodes.primary).dataDir) !== undefined;
    if (postmasterAlive) return;
    const hold = writeHold({ ...last, at: Date.now(), postmasterAlive, writesHeldSince: null, operations: this.queue.running().map((r) => ({ kind: r.kind, detail: r.detail })) });
    if (hold?.kind === "hold-writes") this.act(hold);
  }

  private async observe(): Promise<ClusterState> {
    const { nodes } = this.ctx;
    const members = (await this.routing.clusterView()) ?? this.routing.members;
    // Each replica's replayed position, then the primary's: a replica that has replayed past it holds
    // WAL the primary never had (DivergenceWatch).
    const replayed = new Map(await Promise.all(nodes.replicas.map(async (n) => [n.name, (await patroniNode(n.ports.patroni, 1000))?.xlog?.replayed_location] as const)));
    const primary = await patroniNode(nodes.primaryNode.ports.patroni, 1000);
    this.lastPatroni = primary;
    const now = Date.now();
    if (isPrimary(primary)) this.routing.primaryHealthyAt = now;
    const diverged = this.divergence.observe(members, replayed, isPrimary(primary) ? primary?.xlog?.location : undefined, now);
    const etcdUp = (await getJson<{ health?: string }>(`http://127.0.0.1:${this.ctx.config.ports.etcd_client}/health`, 1000))?.json.health === "true";
    if (etcdUp) this.etcdSilentSince = null;
    else this.etcdSilentSince ??= now;
    return {
      at: Date.now(),
      ...this.routing.where(),
      children: this.children.observe(),
      members,
      primary,
      etcdSilentSince: this.etcdSilentSince,
      diverged,
      repairs: Object.fromEntries(this.topology.repairs),
      etcdMembers: this.ctx.network && etcdUp ? await this.etcdMembers() : [],
      operations: this.queue.running().map((r) => ({ kind: r.kind, detail: r.detail })),
      postmasterAlive: livePostmaster(nodePaths(this.ctx.paths, nodes.primary).dataDir) !== undefined,
      primaryWritable: this.writesHeldSince !== null ? await this.routing.writable(nodes.primary) : undefined,
      writesHeldSince: this.writesHeldSince,
    };
  }

  /** Each decision kind has one handler; the Record makes a new kind without a handler a compile error. */
  private readonly handlers: { [K in DecisionKind]: Handler<K> } = {
    "restart-child": (d) => this.children.restart(d.child),
    "await-back-off": () => undefined,
    "route-writes": () => void this.routing.followLeader(),
    "rewind-replica": (d) => this.repair(d, () => this.topology.rewind(d.node, d.timeline)),
    "reinitialize-replica": (d) => this.repair(d, () => this.topology.reinitialize(d.node, d.timeline)),
    "await-repair": () => undefined,
    "await-postgres": () => undefined,
    "hold-writes": (d) => this.holdWrites(d),
    "release-writes": (d) => void this.releaseWrites(d.sentence),
    "await-etcd": () => undefined,
    "report-pending-restart": () => undefined,
    "promote-etcd-learner": (d) => this.promoteLearner(d),
    "serve-remote-node": (d) => void this.routing.haproxy.serveRemoteNode(d.member),
    none: () => undefined,
  };

  act(decision: Decision): void {
    (this.handlers[decision.kind] as Handler<typeof decision.kind>)(decision as never);
  }

  /** PgBouncer holds new transactions (PAUSE); a pause PgBouncer refuses leaves nothing held. */
  private holdWrites(decision: Extract<Decision, { kind: "hold-writes" }>): void {
    if (this.writesHeldSince !== null) return;
    this.writesHeldSince = Date.now();
    this.ctx.log(decision.sentence);
    void pausePool(this.ctx).catch((e: Error) => {
      this.ctx.log(`could not hold new transactions for ${decision.node}: ${e.message}`);
      this.writesHeldSince = null;
    });
  }

  /** PgBouncer lets held transactions through (RESUME); also when the supervisor stops or hands over, so no pause outlives it. */
  async releaseWrites(sentence = "the supervisor stops: PgBouncer lets the held transactions through"): Promise<void> {
    if (this.writesHeldSince === null) return;
    const held = Date.now() - this.writesHeldSince;
    this.writesHeldSince = null;
    await resumePool(this.ctx);
    this.ctx.log(`${sentence} (held ${held} ms)`);
  }

  /** etcd's members from this host's etcd (a voter: a learner does not list them), named by their hosts; empty when it did not answer. */
  private async etcdMembers(): Promise<ClusterState["etcdMembers"]> {
    const list = await EtcdMembers.local(this.ctx.config.ports.etcd_client)
      .list()
      .catch(() => []);
    const hostOf = (m: EtcdMember) => this.ctx.network?.hosts.find((h) => h.etcdName === m.name)?.name;
    return list.map((m) => ({ id: m.ID, name: hostOf(m) ?? (m.name || m.ID), learner: m.isLearner === true }));
  }

  /** One promotion at a time; etcd's refusal while the learner catches up is logged once, then retried each tick. */
  private promoteLearner(decision: Extract<Decision, { kind: "promote-etcd-learner" }>): void {
    if (this.promoting) return;
    this.promoting = true;
    void EtcdMembers.local(this.ctx.config.ports.etcd_client)
      .promote(decision.member)
      .then(() => this.ctx.log(`etcd: ${decision.name} promoted from learner to voter`))
      .catch((e: Error) => {
        if (e.message !== this.promotionRefusal) this.ctx.log(`etcd: ${decision.name} not promoted yet: ${e.message}`);
        this.promotionRefusal = e.message;
      })
      .finally(() => {
        this.promoting = false;
      });
  }

  /** A repair runs as an operation of the queue (one at a time), in the background of the watch. */
  private repair(decision: Extract<Decision, { kind: "rewind-replica" | "reinitialize-replica" }>, work: () => Promise<void>): void {
    // One at a time, also while it waits in the queue behind another operation.
    if (this.repairing) return;
    this.repairing = true;
    this.ctx.log(decision.sentence);
    void this.exclusive("repair", `repair of ${decision.node}`, work)
      .then(() => this.ctx.log(`${decision.node}: repair done; the watch checks that it now follows the primary`))
      .catch((e) => this.ctx.log(`could not repair ${decision.node} yet: ${(e as Error).message}`))
      .finally(() => {
        this.repairing = false;
        this.divergence.forget(decision.node);
      });
  }
}

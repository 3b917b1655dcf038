import { TuskError } from "../errors.js";
import { loadConfig, type TuskConfig } from "../config/config-file.js";
import { planConfigChange, type ChangePlan } from "../config/config-change.js";
import { effectiveSettings } from "../config/effective-settings.js";
import type { HostFacts } from "../config/host-facts.js";
import { Pgbackrest } from "../backup/pgbackrest.js";
import { nodePaths } from "../cluster/nodes.js";
import { Monitoring } from "../metrics/monitoring.js";
import { EtcdMembers, type EtcdMember } from "../network/etcd-members.js";
import { isJoinedDataHost, networkedConfig, readHostNetwork } from "../network/host-network.js";
import { etcdUser, postgresUser } from "../os-user.js";
import { getJson } from "../processes/http-probe.js";
import { stopOrphanPostmaster } from "../processes/leftovers.js";
import { isPrimary, patroniNode, type PatroniNodeStatus } from "../processes/patroni.js";
import { pgbackrestPid, pgbackrestRunning, sleep } from "../processes/pid-file.js";
import type { StatePaths } from "../state-dir.js";
import { BackupScheduler } from "./backup-scheduler.js";
import { startCallbackServer, type CallbackServer } from "./callback-server.js";
import { Children } from "./children.js";
import type { ClusterState } from "./cluster-state.js";
import type { SupervisorContext } from "./context.js";
import { decide, explain, healthy, type Decision, type DecisionKind, type RoutingState } from "./decide.js";
import { admitHost } from "./host-join.js";
import { hostsView, type HostView } from "./hosts-view.js";
import { removeHost, type HostRemoval } from "./host-remove.js";
import { startJoinServer } from "./join-server.js";
import { Witness } from "./witness.js";
import { DataHost } from "./data-host.js";
import { clusterCa } from "../tls/cluster-ca.js";
import { existsSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import { DivergenceWatch } from "./divergence.js";
import { NodeSet } from "./node-set.js";
import { OperationQueue, type OperationKind, type OperationRecord } from "./operation-queue.js";
import { migrationLockHolders } from "../migrations/lock.js";
import { withSuperuser } from "../provision/provision.js";
import type { ReplicationStatus } from "./replication.js";
import { Routing } from "./routing.js";
import { serveBackupServer } from "./backup-server.js";
import { applySettingsChange, type SettingsChangeResult } from "./settings-change.js";
import { Startup } from "./startup.js";
import type { Phase, StepRecord, SupervisorStatus } from "./status.js";
import { StatusFigures } from "./status-figures.js";
import { switchover, type SwitchoverResult } from "./switchover.js";
import { FOLLOW_INTERVAL_MS, SwitchoverFollower } from "./switchover-pause.js";
import { Certificates, type CertificateRenewal } from "./certificate-renewal.js";
import { forgetVersions, publishVersions } from "./host-versions.js";
import type { CertificateFact } from "../tls/certificate-facts.js";
import type { Server as TlsServer } from "node:tls";
import { Topology } from "./topology.js";
import { StatusReport } from "./status-report.js";
import { BackupRequests } from "./backup-requests.js";
import { issueHostToken, type HostTokenRequest, type HostTokenResult } from "./host-tokens.js";

/** How long an operation asked for through the API waits for a conflicting one before it is refused. */
const API_WAIT_MS = 60_000;

type Handler<K extends DecisionKind> = (decision: Extract<Decision, { kind: K }>) => void;

/**
 * The supervisor starts the cluster (startup.ts), then supervises it once a second: observe builds
 * one ClusterState, `decide` (pure) turns it into decisions with sentences, and `act` hands each to
 * its handler. Long operations go through the queue; the parts (children, routing, topology,
 * switchover, settings, scheduler, status figures) each live in their own module.
 */
export class Supervisor {
  private phase: Phase = "starting";
  private sentence = "starting";
  private failure: SupervisorStatus["failure"];
  private readonly steps: StepRecord[] = [];
  private readonly ctx: SupervisorContext;
  private readonly children: Children;
  private readonly routing: Routing;
  /** Set on a host that joined a cluster: a witness (etcd alone) or a data host (etcd and its node). */
  private readonly joined: Witness | DataHost | undefined;
  /** The join endpoint, once converted (join-server.ts). */
  private joinServer: FastifyInstance | undefined;
  private readonly topology: Topology;
  private readonly startup: Startup;
  private readonly divergence = new DivergenceWatch();
  /** Metrics, alerts and their history (started once the cluster is ready). */
  readonly monitoring: Monitoring;
  /** Long operations and their conflict table, kept in run/operations.json. */
  private readonly queue: OperationQueue;
  /** Figures status reads that take time to measure (versions, sizes, backups), cached. */
  private readonly figures: StatusFigures;
  private readonly scheduler: BackupScheduler;
  private readonly report: StatusReport;
  /** Backups, clones, restores and drills asked for through the API. */
  readonly requests: BackupRequests;
  private readonly backups: Pgbackrest;
  private readonly startedAt = new Date();
  private watchTimer: NodeJS.Timeout | undefined;
  /** Another host's switchover pauses this host's pool too (switchover-pause.ts); looked for once converted. */
  private readonly switchovers: SwitchoverFollower | undefined;
  private followTimer: NodeJS.Timeout | undefined;
  /** This host's certificates, renewed before they end (certificate-renewal.ts). */
  private readonly certs: Certificates;
  private hourlyTimer: NodeJS.Timeout | undefined;
  private watchingSince: number | null = null;
  private callbacks: CallbackServer | undefined;
  /** When etcd stopped answering its health check, while it does not. */
  private etcdSilentSince: number | null = null;
  /** The routed primary's Patroni as last seen. */
  private lastPatroni: PatroniNodeStatus | undefined;
  private repairing = false;
  private promoting = false;
  /** etcd's last refusal of a promotion, logged once. */
  private promotionRefusal = "";

  constructor(
    readonly paths: StatePaths,
    config: TuskConfig,
    private readonly host: HostFacts,
    private readonly log: (line: string) => void,
  ) {
    this.ctx = { paths, config, settings: effectiveSettings(config, host), network: readHostNetwork(paths), pgUser: postgresUser(), etcdOsUser: etcdUser(), nodes: new NodeSet(config, paths), log };
    this.backups = new Pgbackrest(config, paths, this.ctx.pgUser);
    this.children = new Children(this.ctx);
    this.routing = new Routing(this.ctx, this.children);
    this.joined = this.ctx.network?.role === "witness" ? new Witness(this.ctx, this.children) : isJoinedDataHost(this.ctx.network) ? new DataHost(this.ctx, this.children, this.routing) : undefined;
    this.topology = new Topology(this.ctx, this.children, this.routing);
    this.switchovers = this.joined instanceof Witness ? undefined : new SwitchoverFollower(this.ctx, this.routing);
    this.certs = new Certificates(this.ctx, this.children, this.routing, () => this.joinServer?.server as unknown as TlsServer | undefined);
    this.startup = new Startup(this.ctx, this.children, this.routing, this.backups, this);
    this.monitoring = new Monitoring(config, paths, () => this.report.collectorContext(), log);
    this.queue = new OperationQueue(paths, log, () => this.migrations());
    this.figures = new StatusFigures(config, paths, this.backups);
    this.scheduler = new BackupScheduler(
      this,
      this.backups,
      this.queue,
      () => this.phase === "ready" || this.phase === "degraded",
      () => this.figures.forgetBackups(),
      log,
    );
    this.requests = new BackupRequests(this, this.backups, this.scheduler, this.queue, (kind, detail, work) => this.exclusive(kind, detail, work), log);
    this.report = new StatusReport({
      ctx: this.ctx,
      children: this.children,
      routing: this.routing,
      figures: this.figures,
      scheduler: this.scheduler,
      monitoring: this.monitoring,
      queue: this.queue,
      phase: () => this.phase,
      patroni: () => this.lastPatroni ?? this.startup.lastPatroni,
      certificates: () => this.certs.cluster(),
    });
  }

  /** The configuration in force (tusk.yaml as last applied). */
  get config(): TuskConfig {
    return this.ctx.config;
  }

  /** Runs the start-up sequence; on failure the supervisor stays up in phase "failed" to report why. */
  async start(): Promise<void> {
    if (this.joined) return this.startJoined(this.joined);
    // What a supervisor that died (or a reboot) left running is reported, never silently dropped.
    // A backup whose supervisor died while pgBackRest went on is adopted; the rest is reported.
    const backupPid = pgbackrestPid(this.paths.pgbackrestConfig, "backup");
    const orphan = this.queue.orphaned().find((r) => r.kind === "backup");
    if (orphan && backupPid !== undefined) void this.requests.followAdopted(orphan, backupPid).then(() => this.figures.forgetBackups());
    else if (orphan) await this.requests.settleEnded(orphan);
    this.queue.reconcile((kind) => kind === "backup" && pgbackrestRunning(this.paths.pgbackrestConfig, "backup"));
    try {
      await this.startup.run((label, work) => this.step(label, work));
      this.callbacks = await this.followCallbacks();
      // The first observation sets the phase and the decision together, so status never shows
      // "ready" beside a start-up step's label; a first decision that is not healthy is "degraded".
      await this.watch();
      this.log(`ready: ${this.sentence}`);
      await this.monitoring.start().catch((e) => this.log(`monitoring did not start: ${(e as Error).message}`));
      // The database serves without it: a join endpoint that cannot open is logged, not a failed start.
      await this.openJoinEndpoint().catch((e) => this.log(`the join endpoint did not open: ${(e as Error).message}`));
    } catch (e) {
      this.failed(e);
    }
    this.watchTimers();
    if (this.phase !== "failed" && this.phase !== "stopping") await this.scheduler.start();
  }

  /**
   * A host that joined: a witness runs etcd alone (witness.ts), a data host etcd, its node and the
   * cluster's endpoints (data-host.ts); no backups or monitoring here yet.
   */
  private async startJoined(joined: Witness | DataHost): Promise<void> {
    try {
      await joined.start((label, work) => this.step(label, work));
      if (joined instanceof DataHost) this.callbacks = await this.followCallbacks();
      await this.watch(); // the phase and the decision together, as in start()
      this.log(`ready: ${this.sentence}`);
    } catch (e) {
      this.failed(e);
    }
    this.watchTimers();
  }

  /**
   * The one-second watch; on a host serving the endpoints, the look for other hosts' switchovers
   * five times a second; and once an hour (and now) the hourly round.
   */
  private watchTimers(): void {
    this.watchTimer = setInterval(() => void this.watch(), 1000);
    const follower = this.switchovers;
    if (follower) this.followTimer = setInterval(() => void follower.tick(), FOLLOW_INTERVAL_MS);
    if (this.phase !== "failed") this.hourly();
    this.hourlyTimer = setInterval(() => this.hourly(), 3_600_000);
  }

  /** This host's certificates renewed 45 days before the first ends; what it runs published into etcd for `tusk hosts` on any host. */
  private hourly(): void {
    if (this.certs.due()) {
      this.log("a certificate of this host ends within 45 days: renewing");
      void this.renewCertificates().then(
        (r) => this.log(`certificates renewed: ${r.certificates.map((c) => `${c.certificate} until ${c.expiresAt.slice(0, 10)}`).join(", ")}`),
        (e) => this.log(`certificate renewal failed: ${(e as Error).message}`),
      );
    }
    void this.publishVersions().catch((e) => this.log(`could not publish this host's versions: ${(e as Error).message}`));
  }

  /** Patroni's role-change callbacks make the routing look at the leader at once. */
  private followCallbacks(): Promise<CallbackServer> {
    return startCallbackServer(this.paths, this.ctx.pgUser, (event) => {
      this.log(`patroni callback: ${event}`);
      void this.routing.followLeader();
    });
  }

  private failed(e: unknown): void {
    this.phase = "failed";
    const err = e instanceof TuskError ? e : new TuskError("ProcessFailed", (e as Error).message, { hint: `See the logs in ${this.paths.logDir}.` });
    this.failure = { message: err.message, hint: err.hint ?? "", detail: err.detail ?? "", exitCode: err.exitCode };
    this.sentence = `failed: ${err.message}`;
    this.log(`failed: ${err.message}\n${err.detail ?? ""}`);
  }

  /**
   * The join endpoint (join-server.ts), on the host's address: on a converted host that holds the
   * CA's key, which signs the joining hosts' certificates.
   */
  private async openJoinEndpoint(): Promise<void> {
    if (this.joinServer || !this.ctx.network || this.ctx.network.role !== "data" || !existsSync(clusterCa(this.paths).key)) return;
    this.joinServer = await startJoinServer(
      this.ctx,
      (req) =>
        this.exclusive("network", `join of host ${req.name} (${req.address})`, async () => {
          const answer = await admitHost(this.ctx, req, this.log);
          // A data host archives into this host's repository: the TLS server authorizes its certificate from now on.
          if (req.role === "data") await this.restartBackupServer();
          return answer;
        }),
      (host, csr) => this.exclusive("network", `certificate renewal of host ${host.name}`, () => this.certs.signFor(host, csr)),
    );
  }

  /** pgBackRest's TLS server rereads which hosts' certificates it admits (after a data host joined or was removed). */
  private async restartBackupServer(): Promise<void> {
    await serveBackupServer(this.ctx, this.children, true).catch((e) => this.log(`could not restart the repository's TLS server: ${(e as Error).message}`));
  }

  private async step<T>(label: string, work: () => Promise<T>): Promise<T> {
    const record: StepRecord = { label, state: "running", startedAt: new Date().toISOString() };
    this.steps.push(record);
    this.sentence = label;
    this.log(`step: ${label}`);
    try {
      const result = await work();
      record.state = "done";
      return result;
    } catch (e) {
      record.state = "failed";
      record.detail = (e as Error).message;
      throw e;
    } finally {
      record.endedAt = new Date().toISOString();
    }
  }

  /**
   * One round of the one-second watch. A round still running (a node not answering) skips the next
   * tick, unless it has run for 30 s: then a stuck round must not stop supervision.
   */
  private async watch(): Promise<void> {
    const started = Date.now();
    if (this.watchingSince !== null && started - this.watchingSince < 30_000) return;
    this.watchingSince = started;
    try {
      if (this.phase === "stopping" || this.phase === "failed") return;
      const decisions = await this.decideNow();
      // A shutdown or hand-over that began while this round observed: nothing is restarted, the phase stays.
      if ((this.phase as Phase) === "stopping") return;
      const sentence = explain(decisions);
      if (sentence !== this.sentence && this.phase !== "starting") this.log(`decision: ${sentence}`);
      this.sentence = sentence;
      this.phase = healthy(decisions) ? "ready" : "degraded";
      for (const d of decisions) this.act(d);
    } finally {
      if (this.watchingSince === started) this.watchingSince = null;
    }
  }

  private async decideNow(): Promise<Decision[]> {
    if (this.joined instanceof Witness) return this.joined.decide();
    if (this.joined) return this.joined.decide(await this.routingState());
    const state = await this.observe();
    return decide(state, { settingsChangeRunning: state.operations.some((o) => o.kind === "settings") });
  }

  /** Patroni's members as this host's nodes see them, and where this host routes (a joined data host's part of the ClusterState). */
  private async routingState(): Promise<RoutingState> {
    const { nodes } = this.ctx;
    return {
      members: (await this.routing.clusterView()) ?? this.routing.members,
      routedTo: this.routing.remote?.name ?? nodes.primary,
      routedToHost: this.routing.remote?.host ?? null,
      localNodes: nodes.all.map((n) => n.name),
      remoteServed: this.routing.remoteServed,
    };
  }

  /** Builds this tick's ClusterState: processes, Patroni's members and the primary, etcd, divergence, operations. */
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
    const etcdUp = (await getJson<{ health?: string }>(`http://127.0.0.1:${this.config.ports.etcd_client}/health`, 1000))?.json.health === "true";
    if (etcdUp) this.etcdSilentSince = null;
    else this.etcdSilentSince ??= now;
    return {
      at: Date.now(),
      routedTo: this.routing.remote?.name ?? nodes.primary,
      routedToHost: this.routing.remote?.host ?? null,
      localNodes: nodes.all.map((n) => n.name),
      remoteServed: this.routing.remoteServed,
      children: this.children.observe(),
      members,
      primary,
      etcdSilentSince: this.etcdSilentSince,
      diverged,
      repairs: Object.fromEntries(this.topology.repairs),
      etcdMembers: this.ctx.network && etcdUp ? await this.etcdMembers() : [],
      operations: this.queue.running().map((r) => ({ kind: r.kind, detail: r.detail })),
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
    "await-etcd": () => undefined,
    "report-pending-restart": () => undefined,
    "promote-etcd-learner": (d) => this.promoteLearner(d),
    "serve-remote-node": (d) => void this.routing.serveRemoteNode(d.member),
    none: () => undefined,
  };

  private act(decision: Decision): void {
    (this.handlers[decision.kind] as Handler<typeof decision.kind>)(decision as never);
  }

  /** etcd's members from this host's etcd (a voter: a learner does not list them), named by their hosts; empty when it did not answer. */
  private async etcdMembers(): Promise<ClusterState["etcdMembers"]> {
    const list = await EtcdMembers.local(this.config.ports.etcd_client)
      .list()
      .catch(() => []);
    const hostOf = (m: EtcdMember) => this.ctx.network?.hosts.find((h) => h.etcdName === m.name)?.name;
    return list.map((m) => ({ id: m.ID, name: hostOf(m) ?? (m.name || m.ID), learner: m.isLearner === true }));
  }

  /** One promotion at a time; etcd's refusal while the learner catches up is logged once, then retried each tick. */
  private promoteLearner(decision: Extract<Decision, { kind: "promote-etcd-learner" }>): void {
    if (this.promoting) return;
    this.promoting = true;
    void EtcdMembers.local(this.config.ports.etcd_client)
      .promote(decision.member)
      .then(() => this.log(`etcd: ${decision.name} promoted from learner to voter`))
      .catch((e: Error) => {
        if (e.message !== this.promotionRefusal) this.log(`etcd: ${decision.name} not promoted yet: ${e.message}`);
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
    this.log(decision.sentence);
    void this.exclusive("repair", `repair of ${decision.node}`, work)
      .then(() => this.log(`${decision.node}: repair done; the watch checks that it now follows the primary`))
      .catch((e) => this.log(`could not repair ${decision.node} yet: ${(e as Error).message}`))
      .finally(() => {
        this.repairing = false;
        this.divergence.forget(decision.node);
      });
  }

  /**
   * A long operation, through the queue's conflict table: it runs, waits (at most `waitMs`, within
   * what an API client waits for an answer) or is refused with the reason.
   */
  private async exclusive<T>(kind: OperationKind, detail: string, work: (report: (progress: string) => void) => Promise<T>, waitMs = API_WAIT_MS): Promise<T> {
    if (this.phase !== "ready" && this.phase !== "degraded")
      throw new TuskError("NotRunning", `The cluster is ${this.phase}; a ${detail} needs it running.`, { hint: "Wait for `tusk status` to say ready." });
    return this.queue.run(kind, detail, work, waitMs);
  }

  /** A schema migration holding tusk's migration lock, as an operation of the conflict table; none when PostgreSQL does not answer. */
  private async migrations(): Promise<OperationRecord[]> {
    const holders = await withSuperuser(this.config, this.paths, migrationLockHolders, { timeoutMs: 2000 }).catch(() => []);
    return holders.map((h) => ({
      id: -h.pid,
      kind: "migration",
      detail: `schema migration (session ${h.pid} on ${h.database}${h.role ? ` as ${h.role}` : ""})`,
      state: "running",
      pid: h.pid,
      startedAt: h.since,
    }));
  }

  /** Adds or removes streaming replicas on this machine (topology.ts). */
  async scale(replicas: number): Promise<ReplicationStatus> {
    this.topology.checkScale(replicas);
    return this.exclusive("scale", `scale to ${replicas} replica(s)`, async (report) => {
      await this.topology.scale(replicas, report);
      return this.report.replication();
    });
  }

  /** Planned switchover with the pool paused (switchover.ts). */
  async switchover(to: string | undefined): Promise<SwitchoverResult> {
    return this.exclusive("switchover", `switchover${to ? ` to ${to}` : ""}`, () => switchover(this.ctx, this.routing, () => this.report.replication(), to));
  }

  /** The cluster's hosts (hosts-view.ts). */
  hosts(): Promise<HostView[]> {
    return hostsView(this.ctx, this.routing.members);
  }

  /** Removes a host, also a dead one (host-remove.ts). */
  removeHost(name: string): Promise<HostRemoval> {
    return this.exclusive("network", `removal of host ${name}`, async () => {
      const data = this.ctx.network?.hosts.find((h) => h.name === name)?.role === "data";
      const removed = await removeHost(this.ctx, name, this.routing.members, this.log);
      await forgetVersions(this.ctx, name).catch((e) => this.log(`could not forget ${name}'s versions in etcd: ${(e as Error).message}`));
      if (!data) return removed;
      await this.routing.forgetNodesOn(removed.address);
      // The repository's TLS server stops admitting the removed host's certificate.
      await this.restartBackupServer();
      return removed;
    });
  }

  /** This host's versions into etcd (host-versions.ts): PostgreSQL's from its node's Patroni, the engines it runs. */
  private async publishVersions(): Promise<void> {
    if (!this.ctx.network) return;
    if (this.joined instanceof Witness) {
      await publishVersions(this.ctx, { etcd: (await this.figures.versions(undefined)).etcd });
      return;
    }
    const patroni = await patroniNode(this.ctx.nodes.primaryNode.ports.patroni, 2000);
    await publishVersions(this.ctx, await this.figures.versions(patroni));
  }

  /** This host's certificates, and those the cluster issued its other hosts. */
  certificates(): CertificateFact[] {
    return this.certs.cluster();
  }

  /** Renews this host's certificates now (certificate-renewal.ts). */
  renewCertificates(): Promise<CertificateRenewal> {
    return this.exclusive("network", "certificate renewal", (report) => this.certs.renew(report));
  }

  /** A join token; the first one converts the cluster for the network (host-tokens.ts). */
  async hostToken(req: HostTokenRequest): Promise<HostTokenResult> {
    const parts = { ctx: this.ctx, children: this.children, routing: this.routing, replication: () => this.report.replication() };
    const token = await issueHostToken(parts, (kind, detail, work) => this.exclusive(kind, detail, work), req);
    await serveBackupServer(this.ctx, this.children);
    await this.openJoinEndpoint();
    this.hourly(); // converted now: its versions go into etcd
    return token;
  }

  /** What applying tusk.yaml as it is now would change on the running cluster (nothing is applied). */
  configPlan(): { plan: ChangePlan; wanted: TuskConfig } {
    const wanted = networkedConfig(loadConfig(this.paths.configFile), this.ctx.network);
    return { plan: planConfigChange(this.config, wanted, this.host), wanted };
  }

  /** Applies tusk.yaml to the running cluster: reloads, a rolling restart where a setting needs one, or a refusal (settings-change.ts). */
  async applyConfig(): Promise<SettingsChangeResult> {
    const { plan, wanted } = this.configPlan();
    const pending = this.routing.members.some((m) => m.pending_restart);
    if (plan.changes.length === 0 && !pending) return { plan, restarted: [], switchedOver: null };
    return this.exclusive("settings", "settings change (tusk.yaml)", (report) =>
      applySettingsChange(
        { ctx: this.ctx, host: this.host, routing: this.routing, scheduler: this.scheduler, monitoring: this.monitoring, replication: () => this.report.replication() },
        wanted,
        plan,
        report,
      ),
    );
  }

  /**
   * Stops supervising without stopping anything supervised (SIGUSR2: a new supervisor adopts the
   * children). Short operations in flight (a switchover, a settings change, scaling) finish first, for
   * at most two minutes; a backup's pgBackRest goes on by itself and the next supervisor adopts it.
   */
  async detach(): Promise<void> {
    this.phase = "stopping";
    this.sentence = "handing over to a new supervisor: every process keeps running";
    if (this.watchTimer) clearInterval(this.watchTimer);
    if (this.followTimer) clearInterval(this.followTimer);
    if (this.hourlyTimer) clearInterval(this.hourlyTimer);
    this.scheduler.stop();
    this.callbacks?.close();
    await this.joinServer?.close();
    for (let i = 0; i < 240 && this.queue.running().some((r) => r.pid === process.pid && r.kind !== "backup"); i++) await sleep(500);
    await this.monitoring.stop();
  }

  /** Stops children in reverse order, each escalating on its clock, then any surviving postmaster. */
  async shutdown(): Promise<void> {
    this.phase = "stopping";
    this.sentence = "stopping: PgBouncer, then the replicas, the primary (Patroni and PostgreSQL), then etcd";
    if (this.watchTimer) clearInterval(this.watchTimer);
    if (this.followTimer) clearInterval(this.followTimer);
    if (this.hourlyTimer) clearInterval(this.hourlyTimer);
    this.scheduler.stop();
    this.callbacks?.close();
    await this.joinServer?.close();
    await this.monitoring.stop();
    await this.children.stopAll();
    for (const node of this.ctx.nodes.all) await stopOrphanPostmaster(nodePaths(this.paths, node.name).dataDir, this.ctx.pgUser, this.log);
  }

  async status(): Promise<SupervisorStatus> {
    if (this.joined) return this.report.joinedStatus({ phase: this.phase, decision: this.sentence, failure: this.failure, steps: this.steps, startedAt: this.startedAt });
    return this.report.status({ phase: this.phase, decision: this.sentence, failure: this.failure, steps: this.steps, startedAt: this.startedAt });
  }
}

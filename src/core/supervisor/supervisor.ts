import { TuskError } from "../errors.js";
import { loadConfig, type TuskConfig } from "../config/config-file.js";
import { planConfigChange, type ChangePlan } from "../config/config-change.js";
import { effectiveSettings } from "../config/effective-settings.js";
import type { HostFacts } from "../config/host-facts.js";
import { Pgbackrest } from "../backup/pgbackrest.js";
import { nodePaths } from "../cluster/nodes.js";
import { Monitoring } from "../metrics/monitoring.js";
import { isJoinedDataHost, networkedConfig, readHostNetwork } from "../network/host-network.js";
import { etcdUser, postgresUser } from "../os-user.js";
import { stopOrphanPostmaster } from "../processes/leftovers.js";
import { pgbackrestPid, pgbackrestRunning, sleep } from "../processes/pid-file.js";
import type { StatePaths } from "../state-dir.js";
import { BackupRequests } from "./backup-requests.js";
import { BackupScheduler } from "./backup-scheduler.js";
import { startCallbackServer, type CallbackServer } from "./callback-server.js";
import { Children } from "./children.js";
import { ClusterWatch } from "./cluster-watch.js";
import type { SupervisorContext } from "./context.js";
import { DataHost } from "./data-host.js";
import { explain, healthy, type Decision } from "./decide.js";
import { HostServices } from "./host-services.js";
import { NodeSet } from "./node-set.js";
import { migrationOperations } from "./migration-operations.js";
import { OperationQueue, type Exclusive, type OperationKind } from "./operation-queue.js";
import { OperationMirror } from "./operation-mirror.js";
import type { ReplicationStatus } from "./replication.js";
import { Routing } from "./routing.js";
import { applySettingsChange, type SettingsChangeResult } from "./settings-change.js";
import { Startup } from "./startup.js";
import type { Phase, StepRecord, SupervisorStatus } from "./status.js";
import { StatusFigures } from "./status-figures.js";
import { StatusReport } from "./status-report.js";
import { switchover, type SwitchoverResult } from "./switchover.js";
import { FOLLOW_INTERVAL_MS, SwitchoverFollower } from "./switchover-pause.js";
import { Topology } from "./topology.js";
import { Witness } from "./witness.js";

/** How long an operation asked for through the API waits for a conflicting one before it is refused. */
const API_WAIT_MS = 60_000;

/**
 * The supervisor starts the cluster (startup.ts; a joined host: witness.ts, data-host.ts), then
 * supervises it once a second: the watch observes one ClusterState, `decide` (pure) turns it into
 * decisions with sentences, and each decision goes to its handler (cluster-watch.ts). It holds the
 * phase, the steps and the timers, and composes the parts, each in its own module: children,
 * routing, topology, switchover, settings, the backup schedule and requests, status, the hosts'
 * services; long operations go through the queue.
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
  /** Replicas added and removed, and repaired (topology.ts). */
  private readonly topology: Topology;
  private readonly startup: Startup;
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
  /** The join endpoint, tokens, removal, certificates and the hourly round (host-services.ts). */
  readonly hostServices: HostServices;
  private readonly clusterWatch: ClusterWatch;
  /** This host's operations kept in etcd too, once hosts joined (operation-mirror.ts). */
  private readonly mirror: OperationMirror;
  private mirrorRefusal = "";
  private hourlyTimer: NodeJS.Timeout | undefined;
  private crashTimer: NodeJS.Timeout | undefined;
  private watchingSince: number | null = null;
  private callbacks: CallbackServer | undefined;

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
    this.startup = new Startup(this.ctx, this.children, this.routing, this.backups, this);
    this.monitoring = new Monitoring(config, paths, () => this.report.collectorContext(), log);
    this.queue = new OperationQueue(paths, log, () => migrationOperations(this.config, this.paths));
    this.mirror = new OperationMirror(this.ctx);
    this.figures = new StatusFigures(config, paths, this.backups);
    this.scheduler = new BackupScheduler(
      this,
      this.backups,
      this.queue,
      () => this.phase === "ready" || this.phase === "degraded",
      () => this.figures.forgetBackups(),
      log,
    );
    const exclusive: Exclusive = (kind, detail, work) => this.exclusive(kind, detail, work);
    this.requests = new BackupRequests(this, this.backups, this.scheduler, this.queue, exclusive, log);
    this.clusterWatch = new ClusterWatch(this.ctx, this.children, this.routing, this.topology, this.queue, exclusive);
    this.hostServices = new HostServices(this.ctx, this.children, this.routing, this.figures, exclusive, () => this.report.replication(), this.joined instanceof Witness);
    this.report = new StatusReport({
      ctx: this.ctx,
      children: this.children,
      routing: this.routing,
      figures: this.figures,
      scheduler: this.scheduler,
      monitoring: this.monitoring,
      queue: this.queue,
      mirror: this.mirror,
      phase: () => this.phase,
      patroni: () => this.clusterWatch.lastPatroni ?? this.startup.lastPatroni,
      certificates: () => this.hostServices.certificates(),
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
      await this.hostServices.openJoinEndpoint().catch((e) => this.log(`the join endpoint did not open: ${(e as Error).message}`));
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
    if (!this.joined) this.crashTimer = setInterval(() => (this.phase === "ready" || this.phase === "degraded") && this.clusterWatch.crashCheck(), 200);
    const follower = this.switchovers;
    if (follower) this.followTimer = setInterval(() => void follower.tick(), FOLLOW_INTERVAL_MS);
    if (this.phase !== "failed") this.hostServices.hourly();
    this.hourlyTimer = setInterval(() => this.hostServices.hourly(), 3_600_000);
  }

  /** Patroni's role-change callbacks make the routing look at the leader at once, and the watch look again (held writes are let through as soon as the leader is promoted). */
  private followCallbacks(): Promise<CallbackServer> {
    return startCallbackServer(this.paths, this.ctx.pgUser, (event) => {
      this.log(`patroni callback: ${event}`);
      void this.routing.followLeader();
      void this.watch();
    });
  }

  private failed(e: unknown): void {
    this.phase = "failed";
    const err = e instanceof TuskError ? e : new TuskError("ProcessFailed", (e as Error).message, { hint: `See the logs in ${this.paths.logDir}.` });
    this.failure = { message: err.message, hint: err.hint ?? "", detail: err.detail ?? "", exitCode: err.exitCode };
    this.sentence = `failed: ${err.message}`;
    this.log(`failed: ${err.message}\n${err.detail ?? ""}`);
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
      for (const d of decisions) this.clusterWatch.act(d);
      // Once converted only: the queue's file is not read each second for a cluster of one host.
      if (this.ctx.network)
        void this.mirror.publish(this.queue.view(5)).catch((e: Error) => {
          if (e.message !== this.mirrorRefusal) this.log(`could not publish this host's operations into etcd: ${e.message}`);
          this.mirrorRefusal = e.message;
        });
    } finally {
      if (this.watchingSince === started) this.watchingSince = null;
    }
  }

  private async decideNow(): Promise<Decision[]> {
    if (this.joined instanceof Witness) return this.joined.decide();
    if (this.joined) return this.joined.decide(await this.routing.state());
    return this.clusterWatch.decide();
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
    await this.stopSupervising("handing over to a new supervisor: every process keeps running");
    for (let i = 0; i < 240 && this.queue.running().some((r) => r.pid === process.pid && r.kind !== "backup"); i++) await sleep(500);
    await this.monitoring.stop();
  }

  /** The phase becomes "stopping": the timers, the scheduler, the callbacks and the join endpoint stop. */
  private async stopSupervising(sentence: string): Promise<void> {
    this.phase = "stopping";
    this.sentence = sentence;
    for (const timer of [this.watchTimer, this.followTimer, this.hourlyTimer, this.crashTimer]) if (timer) clearInterval(timer);
    this.scheduler.stop();
    this.callbacks?.close();
    await this.clusterWatch.releaseWrites();
    await this.hostServices.closeJoinEndpoint();
  }

  /** Stops children in reverse order, each escalating on its clock, then any surviving postmaster. */
  async shutdown(): Promise<void> {
    await this.stopSupervising("stopping: PgBouncer, then the replicas, the primary (Patroni and PostgreSQL), then etcd");
    await this.monitoring.stop();
    await this.children.stopAll();
    for (const node of this.ctx.nodes.all) await stopOrphanPostmaster(nodePaths(this.paths, node.name).dataDir, this.ctx.pgUser, this.log);
  }

  async status(): Promise<SupervisorStatus> {
    if (this.joined) return this.report.joinedStatus({ phase: this.phase, decision: this.sentence, failure: this.failure, steps: this.steps, startedAt: this.startedAt });
    return this.report.status({ phase: this.phase, decision: this.sentence, failure: this.failure, steps: this.steps, startedAt: this.startedAt });
  }
}

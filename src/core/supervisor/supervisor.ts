import { appendFileSync, closeSync, existsSync, openSync, readFileSync, renameSync, rmSync } from "node:fs";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TuskError } from "../errors.js";
import type { TuskConfig } from "../config/config-file.js";
import { asRecord, effectiveSettings, type EffectiveSettings } from "../config/effective-settings.js";
import type { HostFacts } from "../config/host-facts.js";
import { pgbouncerIni, pgbouncerUserlist } from "../generate/pgbouncer-config.js";
import { dcsSettings, localParameters, PATRONI_NAMESPACE, PATRONI_REST_USER, patroniConfig } from "../generate/patroni-config.js";
import { ensureServerCertificate } from "../generate/tls.js";
import { pgbackrestConf } from "../generate/pgbackrest-config.js";
import { Pgbackrest } from "../backup/pgbackrest.js";
import { dirname, join } from "node:path";
import { readRestoreSpec, restoreCommand } from "../backup/restore-spec.js";
import { etcdUser, postgresUser, type OsUser } from "../os-user.js";
import { deleteClusterKeys, etcdReady, etcdSpec } from "../processes/etcd.js";
import { getJson } from "../processes/http-probe.js";
import { ManagedProcess, type ProcessSpec } from "../processes/managed-process.js";
import { stopLeftovers, stopOrphanPostmaster } from "../processes/leftovers.js";
import { sleep, isAlive, pgbackrestRunning } from "../processes/pid-file.js";
import {
  clusterConfig,
  isPrimary,
  patchConfig,
  patroniCluster,
  patroniNode,
  patroniReinitialize,
  patroniSpec,
  patroniSwitchover,
  restartPostgres,
  type PatroniAuth,
  type PatroniClusterView,
  type PatroniMember,
  type PatroniNodeStatus,
} from "../processes/patroni.js";
import { FIRST_NODE, nextNodeName, nodePaths, readNodes, readPrimary, writePrimary, writeReplicaNodes, type NodeInfo } from "../cluster/nodes.js";
import { callbackSocket, CALLBACK_SCRIPT, startCallbackServer, type CallbackServer } from "./callback-server.js";
import { chooseCandidate, cutClientsOf, nodeStatuses, poolerAdmin, replicationRows, type ReplicationRow, type ReplicationStatus } from "./replication.js";
import { freePortSet } from "../cluster/free-ports.js";
import { recordRoleChange } from "../cluster/history.js";
import { MAX_REPLICAS } from "../config/config-file.js";
import { freemem } from "node:os";
import { pgbouncerSpec, portAccepts } from "../processes/pgbouncer.js";
import { haproxySpec, readOnlyServers } from "../processes/haproxy.js";
import { addServer, removeServer, routeDirect } from "../processes/haproxy-runtime.js";
import { DIVERGED_AFTER_MS, DivergenceWatch } from "./divergence.js";
import { Monitoring } from "../metrics/monitoring.js";
import type { CollectorContext } from "../metrics/collector.js";
import { haproxyConfig } from "../generate/haproxy-config.js";
import { provision, scramVerifiers, withSuperuser } from "../provision/provision.js";
import { sqlFile } from "../provision/sql-template.js";
import { ensureSecret } from "../secrets.js";
import { needsRestart } from "../config/postgres-settings.js";
import { MiB, parseMemory } from "../config/units.js";
import { currentRelease } from "../install/release.js";
import { decideRestarts, type ChildName } from "./restart-decision.js";
import { OperationQueue, type OperationKind } from "./operation-queue.js";
import { StatusFigures } from "./status-figures.js";
import { BackupScheduler } from "./backup-scheduler.js";
import { ensureDir, TUSK_VERSION, writeAtomic, type StatePaths } from "../state-dir.js";
import { lastLogLines } from "./postgres-log.js";
import type { Phase, ProcessStatus, StepRecord, SupervisorStatus } from "./status.js";
import { readCatalog, summarize, type BackupCatalog } from "../backup/catalog.js";
import type { BackupType } from "../backup/pgbackrest.js";
import { drillHistory, runDrill, type DrillResult } from "../backup/drill.js";
import { checkTarget, createClone } from "../backup/clone.js";
import type { RestoreTarget } from "../backup/restore-spec.js";
import { Cluster } from "../cluster/cluster.js";
import { applyRetention, backupNow, backupProgress, repositories } from "../backup/operations.js";
import { s3Failure, s3Unreachable } from "../backup/s3.js";
import { S3_REPO } from "../generate/pgbackrest-config.js";
import { silentProgress } from "../progress.js";

const patroniChild = (node: string): ChildName => (node === FIRST_NODE ? "patroni" : `patroni-${node}`);
const nodeOfChild = (child: ChildName): string => (child === "patroni" ? FIRST_NODE : child.slice("patroni-".length));

const PRIMARY_TIMEOUT_MS = 180_000;
/** A new replica copies the whole database first. */
const REPLICA_TIMEOUT_MS = 600_000;
const MAX_BACKOFF_MS = 30_000;
/** How long an operation asked for through the API waits for a conflicting one before it is refused. */
const API_WAIT_MS = 60_000;

/**
 * The supervisor starts etcd, Patroni (which runs PostgreSQL) and PgBouncer in order, provisions the
 * database, then watches: a child that exits is restarted with exponential backoff. Each cycle
 * observes the children into a snapshot, decides with a pure function, then acts; the decision is a
 * sentence shown by `tusk status`.
 */
export class Supervisor {
  private phase: Phase = "starting";
  private decision = "starting";
  private failure: SupervisorStatus["failure"];
  private readonly steps: StepRecord[] = [];
  private readonly children = new Map<ChildName, ManagedProcess>();
  private readonly nextRestartAt = new Map<ChildName, number>();
  /** Metrics, alerts and their history (started once the cluster is ready). */
  readonly monitoring: Monitoring;
  /** When etcd stopped answering its health check, while it does not. */
  private etcdSilentSince: number | null = null;
  private readonly startedAt = new Date();
  private watchTimer: NodeJS.Timeout | undefined;
  /** The primary's Patroni as last seen. */
  private lastPatroni: PatroniNodeStatus | undefined;
  /** This cluster's PostgreSQL nodes (pg1 and the replicas in nodes.json). */
  private nodes: NodeInfo[];
  /** The node PgBouncer sends writes to: the leader as last seen. */
  private primary: string;
  private members: PatroniMember[] = [];
  private readonly divergence = new DivergenceWatch();
  /** Repairs made per diverged node, for the leader timeline they were made under. */
  private readonly repairs = new Map<string, { timeline: number; attempts: number }>();
  private repairing = false;
  /** What a repair in progress is doing, for `tusk status`. */
  private repairNote: string | null = null;
  private callbacks: CallbackServer | undefined;
  /** Long operations and their conflict table, kept in run/operations.json. */
  private readonly queue: OperationQueue;
  /** Figures status reads that take time to measure (versions, sizes, backups), cached. */
  private readonly figures: StatusFigures;
  private readonly scheduler: BackupScheduler;
  /** A planned switchover is moving the primary: the role change it causes is not a failover. */
  private switchingOver = false;
  private readonly pgUser: OsUser;
  private readonly etcdOsUser: OsUser;
  /** Tuned settings with the user's overrides, derived once per supervisor. */
  private readonly settings: EffectiveSettings;
  private readonly backups: Pgbackrest;

  constructor(
    readonly paths: StatePaths,
    readonly config: TuskConfig,
    host: HostFacts,
    private readonly log: (line: string) => void,
  ) {
    this.pgUser = postgresUser();
    this.etcdOsUser = etcdUser();
    this.settings = effectiveSettings(config, host);
    this.backups = new Pgbackrest(config, paths, this.pgUser);
    this.nodes = readNodes(config, paths);
    const last = readPrimary(config, paths).name;
    this.primary = this.nodes.some((n) => n.name === last) ? last : FIRST_NODE;
    this.monitoring = new Monitoring(
      config,
      paths,
      () => this.collectorContext(),
      (line) => this.log(line),
    );
    this.queue = new OperationQueue(paths, (line) => this.log(line));
    this.figures = new StatusFigures(config, paths, this.backups);
    this.scheduler = new BackupScheduler(
      this,
      this.backups,
      this.queue,
      () => this.phase === "ready" || this.phase === "degraded",
      () => this.figures.forgetBackups(),
      (line) => this.log(line),
    );
  }

  /** What the collector records besides the statistics views: nodes, processes, disks, backups. */
  private async collectorContext(): Promise<CollectorContext> {
    // Role, state and timeline come from Patroni's members, which the watch keeps fresh; the lag is
    // the collector's own query, so no connection or HAProxy request is made for this.
    const nodes = nodeStatuses(this.nodes, this.members, []);
    const health = await this.figures.backupHealth(this.phase, this.scheduler.status);
    const drill = drillHistory(this.paths).pop();
    return {
      nodes: nodes.map((n) => ({ name: n.name, role: n.role, up: n.state === "running" || n.state === "streaming", timeline: n.timeline })),
      disks: { data: nodePaths(this.paths, this.primary).dataDir, backups: this.paths.backupRepo },
      catalogReadable: health !== null && !health.error && !health.repositoryProblem,
      lastBackupEndedAt: health?.lastBackup?.endedAt ?? null,
      lastDrillOk: drill ? drill.ok : null,
      backupIntervalSeconds: 86_400,
      dataDirBytes: await this.figures.dataSize(this.phase, this.primary),
      backupRepositoryBytes: await this.figures.backupRepositorySize(),
      processes: this.childOrder().map((name) => ({ name, up: this.children.get(name)?.running ?? false })),
    };
  }

  private node(name: string): NodeInfo {
    return this.nodes.find((n) => n.name === name)!;
  }

  private get primaryNode(): NodeInfo {
    return this.node(this.primary);
  }

  /** Start order: etcd, the primary's Patroni, the replicas', PgBouncer, HAProxy (stop order is the reverse). */
  private childOrder(): ChildName[] {
    const replicas = this.nodes.filter((n) => n.name !== this.primary).map((n) => patroniChild(n.name));
    return ["etcd", patroniChild(this.primary), ...replicas, "pgbouncer", "haproxy"];
  }

  private async step<T>(label: string, work: () => Promise<T>): Promise<T> {
    const record: StepRecord = { label, state: "running", startedAt: new Date().toISOString() };
    this.steps.push(record);
    this.decision = label;
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

  /** Runs the start-up sequence; on failure the supervisor stays up in phase "failed" to report why. */
  async start(): Promise<void> {
    // What a supervisor that died (or a reboot) left running is reported, never silently dropped.
    this.queue.reconcile((kind) => kind === "backup" && pgbackrestRunning(this.paths.pgbackrestConfig, "backup"));
    try {
      await this.step("Preparing configuration", () => this.prepare());
      await this.step("Starting etcd", () => this.startChild("etcd", () => etcdReady(this.config), 30_000));
      const restoring = readRestoreSpec(this.paths) !== undefined && !existsSync(join(this.paths.dataDir, "PG_VERSION"));
      if (restoring || existsSync(this.paths.resetDcs)) {
        // Old keys (leader, history, last known position) describe data that is no longer there.
        await deleteClusterKeys(this.config, PATRONI_NAMESPACE);
        this.log("cleared the cluster's keys in etcd");
        rmSync(this.paths.resetDcs, { force: true });
      }
      await this.step(restoring ? "Restoring from the backup and recovering (Patroni, PostgreSQL)" : `Starting Patroni and PostgreSQL (node ${this.primary})`, () => this.startPostgres());
      if (restoring) {
        // Patroni finishes a custom bootstrap by rewriting the configuration and, when a setting
        // needs it, restarting PostgreSQL; only then does it publish the cluster's configuration.
        await clusterConfig(this.primaryNode.ports.patroni, PRIMARY_TIMEOUT_MS);
        await this.waitForPrimary();
        await this.clearRecoverySettings();
      }
      if (existsSync(this.paths.restoreSpec)) renameSync(this.paths.restoreSpec, join(this.paths.root, "restored-from.json"));
      await this.step("Applying PostgreSQL settings", () => this.applySettings());
      await this.step("Creating roles, database and extensions", () => provision(this.config, this.paths));
      await this.step(`Checking WAL archiving to the backup ${this.config.s3 ? "repositories (local and S3)" : "repository"}`, async () => {
        try {
          await this.backups.ensureStanza();
        } catch (e) {
          throw this.config.s3 && s3Unreachable(e) ? s3Failure(this.config, e as TuskError) : e;
        }
      });
      const info = await this.backups.info();
      const empty = repositories(this.config).filter((repo) => summarize(info, repo).length === 0);
      if (empty.length > 0) {
        const where = empty.map((r) => (r === S3_REPO ? "the S3 repository" : "the local repository")).join(" and ");
        await this.step(`Taking the first full backup into ${where}`, () => backupNow(this, "full", () => undefined, empty));
      }
      await this.step("Starting PgBouncer", async () => {
        await this.writePgbouncerFiles();
        await this.startChild("pgbouncer", () => portAccepts(this.config.ports.pooler), 20_000);
      });
      await this.step("Starting the read-only and direct endpoints (HAProxy)", () => this.startHaproxy());
      const replicas = this.nodes.filter((n) => n.name !== this.primary);
      if (replicas.length > 0) {
        await this.step(`Starting replicas ${replicas.map((n) => n.name).join(", ")}`, async () => {
          for (const r of replicas) await this.startReplica(r);
        });
      }
      this.callbacks = await startCallbackServer(this.paths, this.pgUser, (event) => {
        this.log(`patroni callback: ${event}`);
        void this.followLeader();
      });
      this.phase = "ready";
      await this.watch(); // the first observation, so status shows a real decision from the start
      this.log(`ready: ${this.decision}`);
      await this.monitoring.start().catch((e) => this.log(`monitoring did not start: ${(e as Error).message}`));
    } catch (e) {
      this.phase = "failed";
      const err = e instanceof TuskError ? e : new TuskError("ProcessFailed", (e as Error).message, { hint: `See the logs in ${this.paths.logDir}.` });
      this.failure = { message: err.message, hint: err.hint ?? "", detail: err.detail ?? "", exitCode: err.exitCode };
      this.decision = `failed: ${err.message}`;
      this.log(`failed: ${err.message}\n${err.detail ?? ""}`);
    }
    this.watchTimer = setInterval(() => void this.watch(), 1000);
    if (this.phase === "ready") await this.scheduler.start();
  }

  private async prepare(): Promise<void> {
    const pg = { uid: this.pgUser.uid, gid: this.pgUser.gid };
    ensureDir(this.paths.root, 0o755); // postgres and etcd must traverse it to reach their directories
    ensureDir(this.paths.runDir, 0o755);
    ensureDir(this.paths.logDir, 0o755);
    for (const node of this.nodes) this.prepareNodeDirs(node);
    ensureDir(this.paths.pgbouncerDir, 0o700, pg);
    ensureDir(this.paths.haproxyDir, 0o700, pg);
    ensureDir(this.paths.etcdDataDir, 0o700, { uid: this.etcdOsUser.uid, gid: this.etcdOsUser.gid });
    for (const dir of [this.paths.pgbackrestDir, join(this.paths.pgbackrestDir, "spool"), join(this.paths.runDir, "pgbackrest"), join(this.paths.logDir, "pgbackrest")]) ensureDir(dir, 0o700, pg);
    ensureDir(this.paths.backupRepo, 0o750, pg);
    writeAtomic(this.paths.pgbackrestConfig, pgbackrestConf(this.config, this.paths, this.settings.pgbackrest), 0o600, pg);
    await ensureServerCertificate(this.paths, this.config.listen_address, this.pgUser);
    // A clone's first start restores its data from the source's backup instead of running initdb.
    const spec = readRestoreSpec(this.paths);
    const restore = spec && !existsSync(join(this.paths.dataDir, "PG_VERSION")) ? { command: restoreCommand(spec, this.paths) } : undefined;
    for (const node of this.nodes) this.writePatroniConfig(node, node.name === FIRST_NODE ? restore : undefined);
    await this.reapStale();
  }

  private prepareNodeDirs(node: NodeInfo): void {
    const pg = { uid: this.pgUser.uid, gid: this.pgUser.gid };
    const np = nodePaths(this.paths, node.name);
    if (node.name !== FIRST_NODE) ensureDir(dirname(dirname(np.dataDir)), 0o755); // nodes/: postgres traverses it
    ensureDir(np.postgresLogDir, 0o700, pg);
    ensureDir(np.socketDir, 0o755, pg);
    ensureDir(dirname(np.dataDir), 0o700, pg);
    ensureDir(np.patroniDir, 0o700, pg);
    ensureDir(this.paths.runDir, 0o755);
    for (const dir of [this.paths.pgbackrestDir, dirname(np.spoolDir), np.spoolDir, join(this.paths.runDir, "pgbackrest"), np.lockDir]) ensureDir(dir, 0o700, pg);
  }

  private writePatroniConfig(node: NodeInfo, restore?: { command: string }): void {
    const pg = { uid: this.pgUser.uid, gid: this.pgUser.gid };
    const parameters = clusterWide(asRecord(this.settings.postgres), this.config, this.paths);
    const secrets = {
      superuser: ensureSecret(this.paths, "superuser"),
      replication: ensureSecret(this.paths, "replication"),
      restApi: ensureSecret(this.paths, "patroni_rest"),
    };
    const callback = { command: `${process.execPath} ${CALLBACK_SCRIPT} ${callbackSocket(this.paths)}` };
    writeAtomic(nodePaths(this.paths, node.name).patroniConfig, patroniConfig(this.config, this.paths, node, parameters, secrets, callback, restore), 0o600, pg);
  }

  /** Stops processes a previous supervisor left running (it was killed), checked by PID and start time. */
  private async reapStale(): Promise<void> {
    await stopLeftovers(this.paths, this.pgUser, this.log, (name) => this.specFor(name).stopSteps);
  }

  private specFor(name: ChildName): ProcessSpec {
    if (name === "etcd") return etcdSpec(this.config, this.paths, this.etcdOsUser);
    if (name === "haproxy") return haproxySpec(this.paths, this.pgUser);
    if (name === "pgbouncer") {
      const maxClients = Number(asRecord(this.settings.pgbouncer).max_client_conn ?? 2000);
      return pgbouncerSpec(this.paths, this.pgUser, maxClients);
    }
    return patroniSpec(nodePaths(this.paths, nodeOfChild(name)), this.pgUser, name);
  }

  private async startChild(name: ChildName, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const child = new ManagedProcess(this.specFor(name));
    this.children.set(name, child);
    child.onExit((code, signal) => this.log(`${name} exited (code ${code}, signal ${signal})`));
    child.start();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!child.running) {
        throw new TuskError("ProcessFailed", `${name} exited during start-up (code ${child.lastExit?.code}).`, {
          detail: lastLogLines("", this.paths.log(name)),
          hint: `See ${this.paths.log(name)}.`,
        });
      }
      if (await ready()) return;
      await sleep(250);
    }
    throw new TuskError("Timeout", `${name} did not become ready within ${timeoutMs / 1000} s.`, { hint: `See ${this.paths.log(name)}.` });
  }

  private postgresFailure(message: string, node = this.primary): TuskError {
    const np = nodePaths(this.paths, node);
    return new TuskError("PostgresFailed", message, {
      detail: lastLogLines(np.postgresLogDir, np.patroniLog),
      hint: "Fix what the log shows (often a setting in tusk.yaml), then run tusk up again. No data was changed.",
    });
  }

  private async startPostgres(): Promise<void> {
    const name = patroniChild(this.primary);
    const child = new ManagedProcess(this.specFor(name));
    this.children.set(name, child);
    child.onExit((code, signal) => this.log(`${name} exited (code ${code}, signal ${signal})`));
    child.start();
    const deadline = Date.now() + PRIMARY_TIMEOUT_MS;
    let failedSince: number | undefined;
    while (Date.now() < deadline) {
      if (!child.running) throw this.postgresFailure(`PostgreSQL failed to start: Patroni gave up and exited (code ${child.lastExit?.code}).`);
      const node = await patroniNode(this.primaryNode.ports.patroni);
      this.lastPatroni = node;
      if (isPrimary(node)) return;
      // Patroni reports a postmaster that would not start as "start failed"; a bootstrap that failed
      // shows in its log. Give it two loops to retry before reporting.
      const failed = node?.state === "start failed" || this.patroniLogSays("failed to bootstrap", "FATAL:");
      if (failed) {
        failedSince ??= Date.now();
        if (Date.now() - failedSince > 5000) throw this.postgresFailure("PostgreSQL failed to start.");
      }
      await sleep(500);
    }
    throw this.postgresFailure(`PostgreSQL did not become a running primary within ${PRIMARY_TIMEOUT_MS / 1000} s.`);
  }

  private async waitForPrimary(failure = `PostgreSQL did not become a running primary within ${PRIMARY_TIMEOUT_MS / 1000} s.`): Promise<void> {
    const deadline = Date.now() + PRIMARY_TIMEOUT_MS;
    while (!isPrimary(await patroniNode(this.primaryNode.ports.patroni))) {
      if (Date.now() > deadline) throw this.postgresFailure(failure);
      await sleep(500);
    }
  }

  private async waitForWritable(node: string, deadline: number): Promise<void> {
    for (;;) {
      // Not answering yet counts as still in recovery: the loop asks again until the deadline.
      const inRecovery = await withSuperuser(this.config, this.paths, async (c) => (await c.query<{ r: boolean }>("SELECT pg_is_in_recovery() AS r")).rows[0]?.r ?? true, { timeoutMs: 2000 }).catch(
        () => true,
      );
      if (!inRecovery) return;
      if (Date.now() > deadline) throw new TuskError("Timeout", `${node} was named primary but PostgreSQL did not leave recovery in time.`, { hint: `See ${this.paths.logDir}.` });
      await sleep(50);
    }
  }

  /**
   * pgBackRest wrote restore_command and the recovery target into postgresql.auto.conf, which outranks
   * the configuration Patroni writes: left there, a later restart as a replica would stop replaying
   * at the old target. Recovery has ended, so they go.
   */
  private async clearRecoverySettings(): Promise<void> {
    const statements = sqlFile("reset-recovery-settings.sql")
      .split("\n")
      .filter((l) => l.trim() && !l.startsWith("--"));
    await withSuperuser(this.config, this.paths, async (client) => {
      for (const statement of statements) await client.query(statement);
    });
  }

  private patroniLogSays(...needles: string[]): boolean {
    const file = nodePaths(this.paths, this.primary).patroniLog;
    if (!existsSync(file)) return false;
    const text = readFileSync(file, "utf8");
    const since = this.startedAt.toISOString().slice(0, 19).replace("T", " ");
    // Only this run's lines: Patroni's log lines start with their timestamp.
    const recent = text.split("\n").filter((l) => l.slice(0, 19) >= since || !/^\d{4}-/.test(l));
    return needles.some((n) => recent.some((l) => l.includes(n)));
  }

  private get patroniAuth(): PatroniAuth {
    return { user: PATRONI_REST_USER, password: ensureSecret(this.paths, "patroni_rest") };
  }

  /**
   * Converges Patroni's cluster-wide configuration in etcd: timing, synchronous mode and the tuned
   * parameters; restarts PostgreSQL when a parameter needs it.
   */
  private async applySettings(): Promise<void> {
    const port = this.primaryNode.ports.patroni;
    const auth = this.patroniAuth;
    const dcs = await clusterConfig(port);
    const keys = Object.entries(dcsSettings(this.config)).filter(([k, v]) => dcs[k] !== v);
    if (keys.length > 0) {
      this.log(`changing Patroni settings: ${keys.map(([k, v]) => `${k}=${v}`).join(", ")}`);
      await patchConfig(port, auth, Object.fromEntries(keys));
    }
    const desired = clusterWide(asRecord(this.settings.postgres), this.config, this.paths);
    const current = dcs.postgresql?.parameters ?? {};
    const changes: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(desired)) if (normalizeParameter(current[k]) !== normalizeParameter(v)) changes[k] = v;
    for (const k of Object.keys(current)) if (!(k in desired)) changes[k] = null;
    if (Object.keys(changes).length === 0) return;
    this.log(`changing parameters: ${Object.keys(changes).join(", ")}`);
    await patchConfig(port, auth, { postgresql: { parameters: changes } });
    if (!Object.keys(changes).some(needsRestart)) return;
    // Patroni applies the change on its next loop and then reports that a restart is pending.
    const deadline = Date.now() + 15_000;
    let node: PatroniNodeStatus | undefined;
    while (Date.now() < deadline) {
      await sleep(1000);
      node = await patroniNode(port);
      if (node?.pending_restart) break;
    }
    if (node?.pending_restart) {
      this.log("restarting PostgreSQL for settings that need it");
      await restartPostgres(port, auth);
      await this.waitForPrimary("PostgreSQL did not come back after a restart for new settings.");
    }
  }

  private async writePgbouncerFiles(): Promise<void> {
    const pg = { uid: this.pgUser.uid, gid: this.pgUser.gid };
    writeAtomic(this.paths.pgbouncerIni, pgbouncerIni(this.config, this.paths, this.settings.pgbouncer, this.primaryNode.ports.postgres), 0o600, pg);
    writeAtomic(this.paths.pgbouncerUsers, pgbouncerUserlist(await scramVerifiers(this.config, this.paths)), 0o600, pg);
  }

  /** Starts a replica's Patroni; a new one first copies the primary (pg_basebackup). */
  private async startReplica(node: NodeInfo): Promise<void> {
    await this.startChild(
      patroniChild(node.name),
      async () => {
        const st = await patroniNode(node.ports.patroni);
        return st?.state === "running" && st.role === "replica";
      },
      REPLICA_TIMEOUT_MS,
    );
  }

  private following = false;
  private followAgain = false;
  /** When the watch last saw the primary running as primary: the start of a failover's outage. */
  private primaryHealthyAt: number | undefined;

  /**
   * Finds the leader in Patroni's view of the cluster and, when it has moved, points PgBouncer at it
   * (RELOAD: no pooled server connection to the old primary is reused) and the direct endpoint. Called by
   * Patroni's role-change callback at once and by the one-second watch as a fallback. A call while
   * a round runs makes it run once more right after, so a callback is never lost.
   */
  private async followLeader(): Promise<void> {
    if (this.following) {
      this.followAgain = true;
      return;
    }
    this.following = true;
    try {
      do {
        this.followAgain = false;
        await this.followOnce();
      } while (this.followAgain);
    } finally {
      this.following = false;
    }
  }

  /**
   * Every node's Patroni at once, and the first answer naming a running leader wins: the node that
   * was primary may be the one not answering, and waiting for its timeout would delay routing. A
   * node that answers without a running leader (the promotion is still under way) is asked again
   * every 100 ms for up to a second, instead of waiting for the silent node's timeout.
   */
  private async clusterView(): Promise<PatroniMember[] | undefined> {
    const runningLeader = (v: PatroniClusterView | undefined) => v?.members.some((m) => m.role === "leader" && m.state === "running") ?? false;
    const deadline = Date.now() + 1000;
    let found: PatroniClusterView | undefined;
    let latest: PatroniClusterView | undefined;
    const ask = async (port: number): Promise<void> => {
      while (!found) {
        const v = await patroniCluster(port, Math.max(100, deadline - Date.now()));
        if (v) latest = v;
        if (runningLeader(v)) found ??= v;
        if (found || Date.now() >= deadline) return;
        await sleep(100);
      }
    };
    await new Promise<void>((resolve) => {
      let pending = this.nodes.length;
      if (pending === 0) resolve();
      for (const n of this.nodes) {
        void ask(n.ports.patroni).finally(() => {
          if (found || --pending === 0) resolve();
        });
      }
    });
    return (found ?? latest)?.members;
  }

  private async followOnce(): Promise<void> {
    const members = await this.clusterView();
    if (!members) return;
    this.members = members;
    const leader = members.find((m) => m.role === "leader" && m.state === "running");
    if (!leader || leader.name === this.primary || !this.nodes.some((n) => n.name === leader.name)) return;
    const from = this.primary;
    this.primary = leader.name;
    writePrimary(this.paths, this.primaryNode);
    this.log(`primary moved from ${from} to ${leader.name}: PgBouncer and the direct endpoint now send writes to port ${this.primaryNode.ports.postgres}`);
    // Patroni names the leader as it asks PostgreSQL to promote; a write routed before recovery has
    // ended fails as read-only (seen in node-loss benchmark trials). Route once it is writable.
    await this.waitForWritable(leader.name, Date.now() + 2000).catch((e) => this.log(`${(e as Error).message} Routing to it anyway.`));
    await Promise.all([this.retargetPooler(), this.retargetDirect()]);
    if (!this.switchingOver) {
      const oldPort = this.node(from)?.ports.postgres;
      const cut =
        oldPort === undefined
          ? 0
          : await poolerAdmin(this.config, this.paths, (c) => cutClientsOf(c, oldPort)).catch((e) => {
              this.log(`could not cut the clients stuck on ${from}: ${(e as Error).message}`);
              return 0;
            });
      if (cut > 0) this.log(`cut ${cut} client(s) whose transaction was on ${from}; they reconnect to ${leader.name}`);
      const seen = this.primaryHealthyAt;
      recordRoleChange(this.paths, { at: new Date().toISOString(), kind: "failover", from, to: leader.name, timeline: leader.timeline ?? null, outageMs: seen ? Date.now() - seen : null });
    }
  }

  private async retargetPooler(): Promise<void> {
    if (!this.children.get("pgbouncer")?.running) return; // not started yet: it starts with the right target
    const pg = { uid: this.pgUser.uid, gid: this.pgUser.gid };
    writeAtomic(this.paths.pgbouncerIni, pgbouncerIni(this.config, this.paths, this.settings.pgbouncer, this.primaryNode.ports.postgres), 0o600, pg);
    // RELOAD alone: PgBouncer tags every server connection of a database whose port changed to be
    // closed (as RECONNECT does). A RECONNECT after it also closed the first logins to the new
    // primary, and server_login_retry added a second to the outage.
    await poolerAdmin(this.config, this.paths, (c) => c.query("RELOAD"));
  }

  /** Each node's role, state, timeline, lag and sync state: Patroni's members and the primary's pg_stat_replication. */
  private async replicationStatus(): Promise<ReplicationStatus> {
    let rows: ReplicationRow[] = [];
    if (this.nodes.length > 1 && this.phase !== "starting") {
      try {
        // Short timeouts: a primary that stopped answering must not hold up status.
        rows = await withSuperuser(this.config, this.paths, replicationRows, { timeoutMs: 1500 });
      } catch {
        /* the primary is not answering: Patroni's view alone */
      }
    }
    const readers = this.children.get("haproxy")?.running ? await readOnlyServers(this.paths.haproxyStatsSocket) : undefined;
    return { mode: this.config.replication_mode, primary: this.primary, nodes: nodeStatuses(this.nodes, this.members, rows, readers) };
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

  /**
   * Adds or removes streaming replicas on this machine. A new node gets free ports and its own data
   * directory and copies the primary; a removed node is stopped and its data deleted. The primary,
   * and node pg1 (whose directories are the cluster's first), are never removed.
   */
  async scale(replicas: number): Promise<ReplicationStatus> {
    if (!Number.isInteger(replicas) || replicas < 0) throw new TuskError("Usage", `--replicas must be a whole number of 0 or more, not ${replicas}.`);
    if (replicas > MAX_REPLICAS)
      throw new TuskError("InsufficientResources", `${replicas} replicas is more than this machine should hold (at most ${MAX_REPLICAS}: replicas on one machine share its cores and disk).`, {
        hint: "A later version spreads replicas over several hosts.",
      });
    const adding = Math.max(0, replicas - (this.nodes.length - 1));
    if (adding > 0) {
      const perNode = replicaMemoryBytes(asRecord(this.settings.postgres));
      const available = freemem(); // MemAvailable on Linux
      if (adding * perNode > available * 0.8) {
        throw new TuskError(
          "InsufficientResources",
          `${adding} more replica(s) need about ${Math.ceil((adding * perNode) / 1024 ** 2)} MB of memory; ${Math.floor(available / 1024 ** 2)} MB is available.`,
          { hint: "Scale to fewer replicas, or lower postgresql.shared_buffers in tusk.yaml." },
        );
      }
    }
    return this.exclusive("scale", `scale to ${replicas} replica(s)`, async () => {
      while (this.nodes.length - 1 < replicas) {
        const ports = await freePortSet();
        const node: NodeInfo = { name: nextNodeName(this.nodes), ports: { postgres: ports.postgres, patroni: ports.patroni } };
        this.nodes.push(node);
        writeReplicaNodes(
          this.paths,
          this.nodes.filter((n) => n.name !== FIRST_NODE),
        );
        this.log(`adding replica ${node.name} (PostgreSQL ${node.ports.postgres}, Patroni ${node.ports.patroni})`);
        this.prepareNodeDirs(node);
        this.writePatroniConfig(node);
        try {
          await this.startReplica(node);
        } catch (e) {
          await this.removeNode(node); // a replica that did not come up is not left half-made
          throw e;
        }
        await this.updateHaproxyNodes({ added: node });
      }
      while (this.nodes.length - 1 > replicas) {
        const removable = this.nodes.filter((n) => n.name !== this.primary && n.name !== FIRST_NODE);
        const sync = new Set(this.members.filter((m) => m.role === "sync_standby").map((m) => m.name));
        const victim = removable.sort((a, b) => Number(sync.has(a.name)) - Number(sync.has(b.name)) || b.name.localeCompare(a.name, "en", { numeric: true }))[0];
        if (!victim)
          throw new TuskError("IncompatibleState", `Node ${FIRST_NODE} is a replica now and holds the cluster's first directories; it is not removed.`, {
            hint: `Switch over to ${FIRST_NODE} first (tusk switchover --to ${FIRST_NODE}), then scale down.`,
          });
        await this.removeNode(victim);
      }
      await this.followLeader();
      return this.replicationStatus();
    });
  }

  /** HAProxy's file, for its next start: the current nodes, the direct endpoint on the current primary. */
  private writeHaproxyConfig(): void {
    writeAtomic(this.paths.haproxyConfig, haproxyConfig(this.config, this.nodes, this.primary, this.paths.haproxyStatsSocket), 0o644, { uid: this.pgUser.uid, gid: this.pgUser.gid });
  }

  /** HAProxy serves the read-only and the direct endpoints. */
  private async startHaproxy(): Promise<void> {
    this.writeHaproxyConfig();
    await this.startChild("haproxy", async () => (await portAccepts(this.config.ports.readonly)) && portAccepts(this.config.ports.direct), 20_000);
    await this.routeDirectEndpoint(false); // the primary may have moved while it started
  }

  /** Points the direct endpoint at the current primary at once (on Patroni's callback, beside PgBouncer's RELOAD). */
  private async retargetDirect(): Promise<void> {
    this.writeHaproxyConfig();
    await this.routeDirectEndpoint();
  }

  /**
   * Through HAProxy's admin socket. If HAProxy refuses, it is restarted from the file, which names
   * the primary, unless it has just started from it (no restart loop).
   */
  private async routeDirectEndpoint(restartOnFailure = true): Promise<void> {
    if (!this.children.get("haproxy")?.running) return; // not started yet, or restarting: it starts from the file
    try {
      await routeDirect(this.paths.haproxyStatsSocket, this.nodes, this.primary);
    } catch (e) {
      this.log(`could not route the direct endpoint through HAProxy's socket (${(e as Error).message})${restartOnFailure ? "; restarting HAProxy" : ""}`);
      if (restartOnFailure) await this.restartHaproxy();
    }
  }

  private async restartHaproxy(): Promise<void> {
    if (!this.children.has("haproxy")) return; // not started yet: it starts with the current nodes
    await this.retireChild("haproxy");
    await this.startHaproxy();
  }

  /**
   * A node joins or leaves HAProxy's backends through its admin socket, so the sessions of every
   * other node (direct writers on the primary, readers on the other replicas) go on. The file is
   * rewritten for the next start; if HAProxy refuses the change, it is restarted from the file.
   */
  private async updateHaproxyNodes(change: { added: NodeInfo } | { removed: string }): Promise<void> {
    this.writeHaproxyConfig();
    if (!this.children.get("haproxy")?.running) return;
    try {
      if ("added" in change) await addServer(this.paths.haproxyStatsSocket, change.added);
      else await removeServer(this.paths.haproxyStatsSocket, change.removed);
    } catch (e) {
      this.log(`could not change HAProxy's nodes through its socket (${(e as Error).message}); restarting HAProxy`);
      await this.restartHaproxy();
    }
  }

  /**
   * Stops a child for good. It leaves the supervised set first: otherwise the one-second watch sees
   * it down while it stops and restarts it, and that process is then nobody's (seen with HAProxy,
   * whose SO_REUSEPORT let two of them share the port).
   */
  private async retireChild(name: ChildName): Promise<void> {
    const child = this.children.get(name);
    this.children.delete(name);
    this.nextRestartAt.delete(name);
    await child?.stop((st) => this.log(`  ${name}: ${st.signal}, waiting up to ${st.waitMs} ms`));
  }

  /** Every backup in every repository, the restorable window and archiving health. */
  async backupCatalog(): Promise<BackupCatalog> {
    return withSuperuser(this.config, this.paths, (client) => readCatalog(this.backups, client));
  }

  /** A backup now (API): the scheduled path's backup and retention, one at a time. */
  async backup(type: BackupType): Promise<BackupCatalog> {
    return this.exclusive("backup", `${type} backup (API)`, async (report) => {
      await this.scheduler.running(`${type} backup (API)`, async () => {
        await backupNow(this, type, (f, repo) => report(backupProgress(f, repo)));
        await applyRetention(this, new Date());
      });
      return this.backupCatalog();
    });
  }

  /**
   * A clone (API): a new, separate cluster restored from this one's backups to a target, exactly as
   * `tusk restore --into NAME` builds it. An in-place restore is not offered here: it stops this
   * supervisor, so it runs from the CLI.
   */
  async clone(name: string, target: RestoreTarget, repo: number | undefined): Promise<{ name: string; stateDir: string; ports: Record<string, number> }> {
    return this.exclusive("clone", `clone ${name}`, async () => {
      const { clone } = await createClone(new Cluster(this.paths.root), name, target, silentProgress, repo);
      return { name, stateDir: clone.paths.root, ports: { ...clone.config.ports } };
    });
  }

  /**
   * A restore in place (API). It stops this supervisor, so it cannot run inside it: the target is
   * checked here (a bad one is refused at once), then a detached process runs the core's restore
   * (backup/restore-in-place-main.ts), writing its progress to log/restore.log.
   */
  async restoreInPlace(target: RestoreTarget, repo: number | undefined): Promise<{ log: string; pid: number }> {
    return this.exclusive("restore", "restore in place (API: checking the target)", async () => {
      await checkTarget(new Cluster(this.paths.root), target);
      const args = [this.paths.root, JSON.stringify(target), repo === undefined ? "" : String(repo)];
      const logFile = this.paths.log("restore");
      const out = openSync(logFile, "a");
      appendFileSync(logFile, `${new Date().toISOString()} restore in place requested through the API: ${JSON.stringify(target)}${repo === undefined ? "" : ` from repository ${repo}`}\n`);
      // The restore runs in the child; the queue holds it as running there until the child ends it.
      const { record } = this.queue.begin("restore", "restore in place (API)");
      const child = spawn(process.execPath, [RESTORE_IN_PLACE_MAIN, ...args, String(record.id)], { detached: true, stdio: ["ignore", out, out], cwd: "/" });
      child.unref();
      closeSync(out);
      this.queue.movedTo(record.id, child.pid ?? process.pid);
      this.log(`restore in place requested through the API (pid ${child.pid}); progress in ${logFile}`);
      return { log: logFile, pid: child.pid ?? 0 };
    });
  }

  /** A restore drill now (API). */
  async restoreDrill(): Promise<DrillResult> {
    return this.exclusive("restore drill", "restore drill (API)", () => this.scheduler.running("restore drill (API)", () => runDrill(this, silentProgress)));
  }

  /** Stops a replica's Patroni and PostgreSQL, forgets the node and deletes its data. */
  private async removeNode(node: NodeInfo): Promise<void> {
    const child = patroniChild(node.name);
    this.log(`removing replica ${node.name}`);
    this.nodes = this.nodes.filter((n) => n.name !== node.name);
    await this.updateHaproxyNodes({ removed: node.name }); // its readers are cut before it stops
    await this.retireChild(child);
    await stopOrphanPostmaster(nodePaths(this.paths, node.name).dataDir, this.pgUser, this.log);
    writeReplicaNodes(
      this.paths,
      this.nodes.filter((n) => n.name !== FIRST_NODE),
    );
    rmSync(dirname(nodePaths(this.paths, node.name).dataDir), { recursive: true, force: true });
    for (const dir of [nodePaths(this.paths, node.name).spoolDir, nodePaths(this.paths, node.name).lockDir]) rmSync(dir, { recursive: true, force: true });
  }

  /**
   * Planned switchover: PgBouncer pauses the application's pool (in-flight transactions finish, new
   * ones wait), Patroni hands the lock to the candidate, PgBouncer follows it and resumes. Clients see
   * a pause, not an error.
   */
  async switchover(to: string | undefined): Promise<{ from: string; to: string; pausedMs: number; totalMs: number }> {
    return this.exclusive("switchover", `switchover${to ? ` to ${to}` : ""}`, async () => {
      this.switchingOver = true;
      try {
        return await this.switchoverNow(to);
      } finally {
        this.switchingOver = false;
      }
    });
  }

  private async switchoverNow(to: string | undefined): Promise<{ from: string; to: string; pausedMs: number; totalMs: number }> {
    const started = Date.now();
    if (this.nodes.length < 2) throw new TuskError("IncompatibleState", "There is no replica to switch over to.", { hint: "Add one with `tusk scale --replicas 1`." });
    // Right after a role change Patroni takes up to loop_wait to name the new synchronous standby.
    let choice = chooseCandidate((await this.replicationStatus()).nodes, to, this.config.replication_mode !== "async");
    while (!choice.ok && choice.transient && Date.now() - started < 15_000) {
      await sleep(500);
      await this.followLeader();
      choice = chooseCandidate((await this.replicationStatus()).nodes, to, this.config.replication_mode !== "async");
    }
    if (!choice.ok) throw new TuskError(choice.code, choice.message, { hint: choice.hint });
    const from = this.primary;
    this.log(`switchover from ${from} to ${choice.name}: pausing the pool`);
    await poolerAdmin(this.config, this.paths, (c) => withTimeout(c.query(`PAUSE ${this.config.database}`), 15_000, "PgBouncer could not pause within 15 s: a transaction stayed open"));
    const pausedAt = Date.now();
    try {
      const r = await patroniSwitchover(this.primaryNode.ports.patroni, this.patroniAuth, from, choice.name);
      if (r.status >= 300) throw new TuskError("ProcessFailed", `Patroni refused the switchover (${r.status}): ${r.body.slice(0, 200)}`);
      const deadline = Date.now() + 60_000;
      while (this.primary !== choice.name) {
        if (Date.now() > deadline) throw new TuskError("Timeout", `${choice.name} did not become the primary within 60 s.`, { hint: `See ${this.paths.logDir}.` });
        await this.followLeader();
        if (this.primary !== choice.name) await sleep(100);
      }
      // Patroni names the new leader as soon as it asks PostgreSQL to promote; until recovery has
      // ended, a resumed client's write would fail as read-only.
      await this.waitForWritable(choice.name, deadline);
    } finally {
      await poolerAdmin(this.config, this.paths, (c) => c.query(`RESUME ${this.config.database}`)).catch((e) => this.log(`RESUME failed: ${(e as Error).message}`));
    }
    const totalMs = Date.now() - started;
    const pausedMs = Date.now() - pausedAt;
    this.log(`switchover to ${choice.name} done in ${totalMs} ms (pool paused ${pausedMs} ms)`);
    const timeline = this.members.find((m) => m.name === choice.name)?.timeline ?? null;
    recordRoleChange(this.paths, { at: new Date().toISOString(), kind: "switchover", from, to: choice.name, timeline, outageMs: pausedMs });
    return { from, to: choice.name, pausedMs, totalMs };
  }

  /** One supervision cycle: observe, decide, act. */
  private watchingSince: number | null = null;

  /**
   * One round of the one-second watch. A round still running (a node not answering) skips the next
   * tick, unless it has run for 30 s: then a stuck round must not stop supervision.
   */
  private async watch(): Promise<void> {
    const started = Date.now();
    if (this.watchingSince !== null && started - this.watchingSince < 30_000) return;
    this.watchingSince = started;
    try {
      await this.watchOnce();
    } finally {
      if (this.watchingSince === started) this.watchingSince = null;
    }
  }

  private async watchOnce(): Promise<void> {
    if (this.phase === "stopping" || this.phase === "failed") return;
    const down = this.childOrder().filter((n) => this.children.has(n) && !this.children.get(n)!.running);
    await this.followLeader();
    // Each replica's replayed position, then the primary's: a replica that has replayed past it holds
    // WAL the primary never had (DivergenceWatch).
    const replicas = this.nodes.filter((n) => n.name !== this.primary);
    const replayed = new Map(await Promise.all(replicas.map(async (n) => [n.name, (await patroniNode(n.ports.patroni, 1000))?.xlog?.replayed_location] as const)));
    this.lastPatroni = await patroniNode(this.primaryNode.ports.patroni, 1000);
    const diverged = this.divergence.observe(this.members, replayed, isPrimary(this.lastPatroni) ? this.lastPatroni?.xlog?.location : undefined, Date.now());
    if (diverged[0] && !this.repairing) void this.repairDiverged(diverged[0]);
    if (isPrimary(this.lastPatroni)) this.primaryHealthyAt = Date.now();
    const etcdUp = (await getJson<{ health?: string }>(`http://127.0.0.1:${this.config.ports.etcd_client}/health`, 1000))?.json.health === "true";
    if (etcdUp) this.etcdSilentSince = null;
    else this.etcdSilentSince ??= Date.now();
    const decision = decideRestarts(down, this.nextRestartAt, Date.now(), this.lastPatroni, this.etcdSilentSince);
    this.decision = this.repairNote ? `${decision.sentence}; ${this.repairNote}` : decision.sentence;
    this.phase = decision.healthy ? "ready" : "degraded";
    for (const name of decision.restartNow) {
      const child = this.children.get(name)!;
      const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(child.restarts, 5));
      this.nextRestartAt.set(name, Date.now() + backoff);
      child.restarts += 1;
      this.log(`restarting ${name} (restart ${child.restarts}; next back-off ${backoff} ms)`);
      child.start();
    }
  }

  /**
   * Brings back a replica that holds WAL the primary never had (see DivergenceWatch): first by
   * restarting its Patroni with PostgreSQL stopped, so Patroni reads the timeline from pg_control
   * and runs pg_rewind; if it is still diverged after that, by reinitializing it from the primary.
   * Its extra WAL was never acknowledged to a client in synchronous mode (no synchronous standby had
   * it), so nothing a client was told is committed is lost.
   */
  private async repairDiverged(name: string): Promise<void> {
    const node = this.nodes.find((n) => n.name === name);
    const member = this.members.find((m) => m.name === name);
    const leader = this.members.find((m) => m.role === "leader");
    if (!node || !member || leader?.timeline === undefined || name === this.primary) return;
    const prior = this.repairs.get(name);
    const attempts = prior?.timeline === leader.timeline ? prior.attempts : 0;
    this.repairing = true;
    await this.exclusive("repair", `repair of ${name}`, async () => {
      this.repairs.set(name, { timeline: leader.timeline!, attempts: attempts + 1 });
      const why = `${name} (timeline ${member.timeline}) has not replayed any WAL for ${DIVERGED_AFTER_MS / 1000} s while behind the timeline of the primary ${leader.name} (${leader.timeline}) or past its WAL position: it holds WAL the primary never had`;
      this.repairNote = `repairing ${name}, which holds WAL the primary never had (${attempts === 0 ? "rewinding it" : "reinitializing it"})`;
      if (attempts === 0) {
        this.log(`${why}; restarting it with PostgreSQL stopped so that Patroni rewinds it (pg_rewind)`);
        await this.retireChild(patroniChild(name));
        await stopOrphanPostmaster(nodePaths(this.paths, name).dataDir, this.pgUser, this.log);
        await this.startReplica(node);
      } else {
        this.log(`${why}, even after a rewind; reinitializing it from ${leader.name}`);
        await patroniReinitialize(node.ports.patroni, this.patroniAuth);
      }
      this.log(`${name}: repair ${attempts + 1} done; the watch checks that it now follows ${leader.name}`);
    })
      .catch((e) => this.log(`could not repair ${name} yet: ${(e as Error).message}`))
      .finally(() => {
        this.repairing = false;
        this.repairNote = null;
        this.divergence.forget(name);
      });
  }

  /** Stops children in reverse order, each escalating on its clock, then any surviving postmaster. */
  async shutdown(): Promise<void> {
    this.phase = "stopping";
    this.decision = "stopping: PgBouncer, then the replicas, the primary (Patroni and PostgreSQL), then etcd";
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.scheduler.stop();
    this.callbacks?.close();
    await this.monitoring.stop();
    // Replicas stop before the primary: a primary stopping first would hand its lock to a replica.
    for (const name of this.childOrder().reverse()) {
      const child = this.children.get(name);
      if (!child) continue;
      this.log(`stopping ${name}`);
      await child.stop((s) => this.log(`  ${name}: ${s.signal}, waiting up to ${s.waitMs} ms`));
    }
    for (const node of this.nodes) await stopOrphanPostmaster(nodePaths(this.paths, node.name).dataDir, this.pgUser, this.log);
  }

  async status(): Promise<SupervisorStatus> {
    const versions = await this.figures.versions(this.lastPatroni);
    const processes: ProcessStatus[] = this.childOrder().map((name) => {
      const child = this.children.get(name);
      const patroni = name.startsWith("patroni");
      return {
        name,
        up: child?.running ?? false,
        pid: child?.pid ?? null,
        ports:
          name === "etcd"
            ? [this.config.ports.etcd_client]
            : patroni
              ? [this.node(nodeOfChild(name)).ports.patroni]
              : name === "haproxy"
                ? [this.config.ports.readonly, this.config.ports.direct]
                : [this.config.ports.pooler],
        version: (patroni ? versions.patroni : versions[name]) ?? null,
        restarts: child?.restarts ?? 0,
        startedAt: child?.startedAt?.toISOString() ?? null,
      };
    });
    processes.splice(
      processes.findIndex((p) => p.name === "pgbouncer"),
      0,
      this.postgresStatus(versions.postgres ?? null),
    );
    return {
      phase: this.phase,
      decision: this.decision,
      failure: this.failure,
      steps: this.steps,
      processes,
      supervisor: { pid: process.pid, startedAt: this.startedAt.toISOString(), version: TUSK_VERSION, release: currentRelease().id },
      stateDir: this.paths.root,
      dataSizeBytes: await this.figures.dataSize(this.phase, this.primary),
      backups: await this.figures.backupHealth(this.phase, this.scheduler.status),
      replication: await this.replicationStatus(),
      monitoring: { ...this.monitoring.status, alerts: this.monitoring.openAlerts() },
      operations: this.queue.view(5),
    };
  }

  private postgresStatus(version: string | null): ProcessStatus {
    const pidFile = `${nodePaths(this.paths, this.primary).dataDir}/postmaster.pid`;
    let pid: number | null = null;
    if (existsSync(pidFile)) {
      const n = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
      if (isAlive(n)) pid = n;
    }
    return {
      name: "postgres",
      up: pid !== null && this.lastPatroni?.state === "running",
      pid,
      ports: [this.primaryNode.ports.postgres],
      version,
      restarts: 0,
      startedAt: this.lastPatroni?.postmaster_start_time ? new Date(this.lastPatroni.postmaster_start_time).toISOString() : null,
      role: this.lastPatroni?.role === "master" ? "primary" : (this.lastPatroni?.role ?? null),
      state: this.lastPatroni?.state ?? null,
      timeline: this.lastPatroni?.timeline ?? null,
    };
  }
}

/** The parameters kept in etcd for the whole cluster: all but the node-local ones (paths, TLS files). */
function clusterWide(parameters: Record<string, string>, config: TuskConfig, paths: StatePaths): Record<string, string> {
  const local = localParameters(config, paths, nodePaths(paths, FIRST_NODE));
  return Object.fromEntries(Object.entries(parameters).filter(([k]) => !(k in local)));
}

/** Patroni stores on/off as booleans and numbers as numbers: compare as PostgreSQL would read them. */
export function normalizeParameter(v: unknown): string {
  const text = String(v).trim();
  const lower = text.toLowerCase();
  if (lower === "true" || lower === "on") return "on";
  if (lower === "false" || lower === "off") return "off";
  return text;
}

/** The restore in place, for work that must outlive this supervisor (it stops it). */
const RESTORE_IN_PLACE_MAIN = fileURLToPath(new URL("../backup/restore-in-place-main.js", import.meta.url));

/** Memory a replica on this machine takes: its shared_buffers plus per-process and cache overhead. */
export function replicaMemoryBytes(postgres: Record<string, string>): number {
  // Bare numbers are 8kB blocks, as PostgreSQL reads shared_buffers; the validator has refused anything else.
  const sb = parseMemory(postgres.shared_buffers ?? "128MB", "8kB", true) ?? 128 * MiB;
  return sb + 256 * 1024 ** 2;
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new TuskError("Timeout", message)), ms)))]).finally(() => clearTimeout(timer));
}

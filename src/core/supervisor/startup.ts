import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TuskError } from "../errors.js";
import type { Pgbackrest } from "../backup/pgbackrest.js";
import { summarize } from "../backup/catalog.js";
import { backupNow } from "../backup/operations.js";
import { readRestoreSpec, restoreCommand } from "../backup/restore-spec.js";
import { s3Failure, s3Unreachable } from "../backup/s3.js";
import { FIRST_NODE, nodePaths } from "../cluster/nodes.js";
import { PATRONI_NAMESPACE } from "../generate/patroni-config.js";
import { repositories, S3_REPO } from "../generate/pgbackrest-config.js";
import { deleteClusterKeys, etcdReady } from "../processes/etcd.js";
import { clusterConfig, isPrimary, patroniCluster, patroniNode, restartPostgres, setPaused, type PatroniMember, type PatroniNodeStatus } from "../processes/patroni.js";
import { sleep } from "../processes/pid-file.js";
import { provision, withSuperuser } from "../provision/provision.js";
import { sqlFile } from "../provision/sql-template.js";
import { patroniChild, type Children } from "./children.js";
import { removeStaleLocks } from "../processes/leftovers.js";
import type { SupervisorContext } from "./context.js";
import { patroniAuth, prepareStateDir, runsBackupServer, writePatroniConfig } from "./node-setup.js";
import { serveBackupServer } from "./backup-server.js";
import { lastLogLines } from "./postgres-log.js";
import { adoptLeftRunning } from "./adoption.js";
import type { Routing } from "./routing.js";
import { convergeSettings, pendingRestart } from "./settings.js";

const PRIMARY_TIMEOUT_MS = 180_000;

/** Runs one labelled start-up step, recorded for `tusk status` and the CLI's progress. */
export type StepRunner = <T>(label: string, work: () => Promise<T>) => Promise<T>;

/**
 * The start-up sequence: configuration, etcd, Patroni and PostgreSQL (or a restore), settings,
 * roles and database, WAL archiving and a first backup, PgBouncer, HAProxy, then the replicas.
 */
export class Startup {
  /** The primary's Patroni as the start-up last saw it. */
  lastPatroni: PatroniNodeStatus | undefined;
  /** The leader when the start-up found it on another host (this host's node a replica of it). */
  private remoteLeader: PatroniMember | undefined;
  private readonly startedAt = new Date();

  constructor(
    private readonly ctx: SupervisorContext,
    private readonly children: Children,
    private readonly routing: Routing,
    private readonly backups: Pgbackrest,
    /** What backupNow needs: the cluster's configuration and state directory. */
    private readonly cluster: { config: SupervisorContext["config"]; paths: SupervisorContext["paths"] },
  ) {}

  async run(step: StepRunner): Promise<void> {
    const { ctx, children } = this;
    await step("Preparing configuration", () => this.prepare());
    const left = children.leftRunning();
    if (left.length > 0) await step(`Adopting the processes a previous supervisor left running (${left.join(", ")})`, () => adoptLeftRunning(ctx, children, this.routing));
    // PostgreSQL's lock files that no running postmaster holds (a reboot or kill -9 left them; their
    // PID may now name someone else's process) would stop PostgreSQL from starting.
    for (const node of ctx.nodes.all) {
      if (children.running(patroniChild(node.name))) continue;
      const { dataDir, socketDir } = nodePaths(ctx.paths, node.name);
      const removed = removeStaleLocks(dataDir, socketDir);
      if (removed.length) ctx.log(`removed lock files no running postmaster holds: ${removed.join(", ")}`);
    }
    if (!children.running("etcd")) await step("Starting etcd", () => children.start("etcd", () => etcdReady(ctx.config), 30_000));
    const restoring = readRestoreSpec(ctx.paths) !== undefined && !existsSync(join(ctx.paths.dataDir, "PG_VERSION"));
    if (restoring || existsSync(ctx.paths.resetDcs)) {
      // Old keys (leader, history, last known position) describe data that is no longer there.
      await deleteClusterKeys(ctx.config, PATRONI_NAMESPACE);
      ctx.log("cleared the cluster's keys in etcd");
      rmSync(ctx.paths.resetDcs, { force: true });
    }
    if (!children.running(patroniChild(ctx.nodes.primary))) {
      await step(restoring ? "Restoring from the backup and recovering (Patroni, PostgreSQL)" : `Starting Patroni and PostgreSQL (node ${ctx.nodes.primary})`, () => this.startPostgres());
    } else {
      await this.waitForPrimary();
    }
    if (this.remoteLeader) return this.runBesideRemoteLeader(step, this.remoteLeader);
    if (restoring) {
      // Patroni finishes a custom bootstrap by rewriting the configuration and, when a setting
      // needs it, restarting PostgreSQL; only then does it publish the cluster's configuration.
      await clusterConfig(ctx.nodes.primaryNode.ports.patroni, PRIMARY_TIMEOUT_MS);
      await this.waitForPrimary();
      await this.clearRecoverySettings();
    }
    if (existsSync(ctx.paths.restoreSpec)) renameSync(ctx.paths.restoreSpec, join(ctx.paths.root, "restored-from.json"));
    await step("Applying PostgreSQL settings", () => this.applySettings());
    await step("Creating roles, database and extensions", () => provision(ctx.config, ctx.paths));
    await step(`Checking WAL archiving to the backup ${ctx.config.s3 ? (ctx.config.s3.only ? "repository (S3, the only one)" : "repositories (local and S3)") : "repository"}`, async () => {
      try {
        await this.backups.ensureStanza();
      } catch (e) {
        throw ctx.config.s3 && s3Unreachable(e) ? s3Failure(ctx.config, e as TuskError) : e;
      }
    });
    const info = await this.backups.info();
    const empty = repositories(ctx.config).filter((repo) => summarize(info, repo).length === 0);
    if (empty.length > 0) {
      const where = empty.map((r) => (r === S3_REPO ? "the S3 repository" : "the local repository")).join(" and ");
      await step(`Taking the first full backup into ${where}`, () => backupNow(this.cluster, "full", () => undefined, empty));
    }
    await this.startEndpointsAndReplicas(step, "Starting PgBouncer");
  }

  private async prepare(): Promise<void> {
    await prepareStateDir(this.ctx);
    // A clone's first start restores its data from the source's backup instead of running initdb.
    const spec = readRestoreSpec(this.ctx.paths);
    const restore = spec && !existsSync(join(this.ctx.paths.dataDir, "PG_VERSION")) ? { command: restoreCommand(spec, this.ctx.paths) } : undefined;
    for (const node of this.ctx.nodes.all) writePatroniConfig(this.ctx, node, node.name === FIRST_NODE ? restore : undefined);
  }

  private postgresFailure(message: string, node = this.ctx.nodes.primary): TuskError {
    const np = nodePaths(this.ctx.paths, node);
    return new TuskError("PostgresFailed", message, {
      detail: lastLogLines(np.postgresLogDir, np.patroniLog),
      hint: "Fix what the log shows (often a setting in tusk.yaml), then run tusk up again. No data was changed.",
    });
  }

  private async startPostgres(): Promise<void> {
    const child = this.children.launch(patroniChild(this.ctx.nodes.primary));
    const deadline = Date.now() + PRIMARY_TIMEOUT_MS;
    let failedSince: number | undefined;
    while (Date.now() < deadline) {
      if (!child.running) throw this.postgresFailure(`PostgreSQL failed to start: Patroni gave up and exited (code ${child.lastExit?.code}).`);
      const node = await patroniNode(this.ctx.nodes.primaryNode.ports.patroni);
      this.lastPatroni = node;
      if (isPrimary(node) || (await this.followsRemoteLeader(node))) return;
      await this.resumeIfPaused(node);
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
    for (;;) {
      const node = await patroniNode(this.ctx.nodes.primaryNode.ports.patroni);
      if (isPrimary(node) || (await this.followsRemoteLeader(node))) return;
      await this.resumeIfPaused(node);
      if (Date.now() > deadline) throw this.postgresFailure(failure);
      await sleep(500);
    }
  }

  /**
   * Whether this host's node runs as a replica of a leader that is a node of another host (a data
   * host that joined took over while this host was away): then this host does not wait for a
   * primary of its own. Sets `remoteLeader`.
   */
  private async followsRemoteLeader(node: PatroniNodeStatus | undefined): Promise<boolean> {
    if (!this.ctx.network || node?.state !== "running" || isPrimary(node)) return false;
    const view = await patroniCluster(this.ctx.nodes.primaryNode.ports.patroni);
    const leader = view?.members.find((m) => m.role === "leader" && m.state === "running" && !this.ctx.nodes.has(m.name));
    this.remoteLeader = leader;
    return leader !== undefined;
  }

  /**
   * The rest of the start-up when the primary is another host's node: roles, extensions, WAL
   * archiving and backups are the primary's business, and this host's node is a replica. PgBouncer
   * starts routed to the primary's address (over verified TLS); HAProxy and the replicas start as
   * usual.
   */
  private async runBesideRemoteLeader(step: StepRunner, leader: PatroniMember): Promise<void> {
    const { ctx } = this;
    ctx.log(
      `the primary is ${leader.name}, a node of another host (${leader.host}); ${ctx.nodes.primary} runs as its replica: provisioning, WAL archiving and the first backup are left to the primary's host`,
    );
    await this.routing.followLeader();
    await this.startEndpointsAndReplicas(step, `Starting PgBouncer, routed to ${leader.name} on ${leader.host}`);
  }

  /** PgBouncer (re-pointed when adopted), HAProxy, then the replicas not running yet. */
  private async startEndpointsAndReplicas(step: StepRunner, pgbouncerLabel: string): Promise<void> {
    const { ctx, children } = this;
    if (children.running("pgbouncer")) await this.routing.retargetPooler(true);
    else await step(pgbouncerLabel, () => this.routing.startPgbouncer());
    if (children.running("haproxy")) await this.routing.haproxy.retarget();
    else await step("Starting the read-only and direct endpoints (HAProxy)", () => this.routing.haproxy.start());
    if (runsBackupServer(ctx) && !children.running("pgbackrest-server")) {
      await step("Serving the backup repository to the other data hosts (pgBackRest's TLS server)", () => serveBackupServer(ctx, children));
    }
    const replicas = ctx.nodes.replicas.filter((n) => !children.running(patroniChild(n.name)));
    if (replicas.length > 0) {
      await step(`Starting replicas ${replicas.map((n) => n.name).join(", ")}`, async () => {
        for (const r of replicas) await this.children.startReplica(r);
      });
    }
  }

  /**
   * tusk pauses Patroni only inside one operation (a conversion for the network); a cluster found
   * paused at start-up was left so by an interrupted one, and a paused Patroni would never start
   * PostgreSQL or elect a primary: it resumes.
   */
  private async resumeIfPaused(node: PatroniNodeStatus | undefined): Promise<void> {
    if (!node?.pause) return;
    this.ctx.log("Patroni was left paused (an interrupted conversion): resuming it");
    await setPaused(this.ctx.nodes.primaryNode.ports.patroni, patroniAuth(this.ctx), false).catch((e) => this.ctx.log(`could not resume Patroni yet: ${(e as Error).message}`));
  }

  /** The settings in force into Patroni's configuration; a restart now when one needs it (nothing is serving yet). */
  private async applySettings(): Promise<void> {
    const change = await convergeSettings(this.ctx);
    if (!change.restartNeeded || !(await pendingRestart(this.ctx.nodes.primaryNode.ports.patroni))) return;
    this.ctx.log("restarting PostgreSQL for settings that need it");
    await restartPostgres(this.ctx.nodes.primaryNode.ports.patroni, patroniAuth(this.ctx));
    await this.waitForPrimary("PostgreSQL did not come back after a restart for new settings.");
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
    await withSuperuser(this.ctx.config, this.ctx.paths, async (client) => {
      for (const statement of statements) await client.query(statement);
    });
  }

  private patroniLogSays(...needles: string[]): boolean {
    const file = nodePaths(this.ctx.paths, this.ctx.nodes.primary).patroniLog;
    if (!existsSync(file)) return false;
    const text = readFileSync(file, "utf8");
    const since = this.startedAt.toISOString().slice(0, 19).replace("T", " ");
    // Only this run's lines: Patroni's log lines start with their timestamp.
    const recent = text.split("\n").filter((l) => l.slice(0, 19) >= since || !/^\d{4}-/.test(l));
    return needles.some((n) => recent.some((l) => l.includes(n)));
  }
}

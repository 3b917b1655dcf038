import { existsSync, readFileSync, renameSync } from "node:fs";
import { run } from "../exec.js";
import { TuskError } from "../errors.js";
import type { TuskConfig } from "../config/config-file.js";
import { asRecord, effectiveSettings, type EffectiveSettings } from "../config/effective-settings.js";
import type { HostFacts } from "../config/host-facts.js";
import { pgbouncerIni, pgbouncerUserlist } from "../generate/pgbouncer-config.js";
import { localParameters, PATRONI_REST_USER, patroniConfig } from "../generate/patroni-config.js";
import { ensureServerCertificate } from "../generate/tls.js";
import { pgbackrestConf } from "../generate/pgbackrest-config.js";
import { Pgbackrest } from "../backup/pgbackrest.js";
import { join } from "node:path";
import { readRestoreSpec, restoreCommand } from "../backup/restore-spec.js";
import { PG_BIN_DIR, PGBOUNCER, PG_MAJOR } from "../install/components.js";
import { etcdUser, postgresUser, type OsUser } from "../os-user.js";
import { etcdReady, etcdSpec } from "../processes/etcd.js";
import { getJson } from "../processes/http-probe.js";
import { ManagedProcess, type ProcessSpec } from "../processes/managed-process.js";
import { livePidFromFile, sleep, stopEscalating, isAlive } from "../processes/pid-file.js";
import { clusterParameters, isPrimary, patchParameters, patroniNode, patroniSpec, restartPostgres, type PatroniNodeStatus } from "../processes/patroni.js";
import { pgbouncerSpec, portAccepts } from "../processes/pgbouncer.js";
import { provision, scramVerifiers, superuserClient } from "../provision/provision.js";
import { ensureSecret } from "../secrets.js";
import { needsRestart } from "../config/postgres-settings.js";
import { ensureDir, TUSK_VERSION, writeAtomic, type StatePaths } from "../state-dir.js";
import { lastLogLines } from "./postgres-log.js";
import type { BackupHealth, Phase, ProcessStatus, ScheduleStatus, StepRecord, SupervisorStatus } from "./status.js";
import { readCatalog, summarize } from "../backup/catalog.js";
import { drillHistory, runDrill } from "../backup/drill.js";
import { applyRetention, backupNow } from "../backup/operations.js";
import { nextOccurrence, scheduledType } from "../backup/policy.js";
import { silentProgress } from "../progress.js";

type ChildName = "etcd" | "patroni" | "pgbouncer";
const START_ORDER: ChildName[] = ["etcd", "patroni", "pgbouncer"];


const PRIMARY_TIMEOUT_MS = 180_000;
const MAX_BACKOFF_MS = 30_000;

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
  private readonly startedAt = new Date();
  private watchTimer: NodeJS.Timeout | undefined;
  private lastPatroni: PatroniNodeStatus | undefined;
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
    try {
      await this.step("Preparing configuration", () => this.prepare());
      await this.step("Starting etcd", () => this.startChild("etcd", () => etcdReady(this.config), 30_000));
      const restoring = readRestoreSpec(this.paths) !== undefined && !existsSync(join(this.paths.dataDir, "PG_VERSION"));
      await this.step(restoring ? "Restoring from the backup and recovering (Patroni, PostgreSQL)" : "Starting Patroni and PostgreSQL", () => this.startPostgres());
      if (existsSync(this.paths.restoreSpec)) renameSync(this.paths.restoreSpec, join(this.paths.root, "restored-from.json"));
      await this.step("Applying PostgreSQL settings", () => this.applySettings());
      await this.step("Creating roles, database and extensions", () => provision(this.config, this.paths));
      await this.step("Checking WAL archiving to the backup repository", () => this.backups.ensureStanza());
      if (((await this.backups.info())?.backup.length ?? 0) === 0) {
        await this.step("Taking the first full backup", () => backupNow(this, "full", () => undefined));
      }
      await this.step("Starting PgBouncer", async () => {
        await this.writePgbouncerFiles();
        await this.startChild("pgbouncer", () => portAccepts(this.config.ports.pooler), 20_000);
      });
      this.phase = "ready";
      await this.watch(); // the first observation, so status shows a real decision from the start
      this.log(`ready: ${this.decision}`);
    } catch (e) {
      this.phase = "failed";
      const err = e instanceof TuskError ? e : new TuskError("ProcessFailed", (e as Error).message, { hint: `See the logs in ${this.paths.logDir}.` });
      this.failure = { message: err.message, hint: err.hint ?? "", detail: err.detail ?? "", exitCode: err.exitCode };
      this.decision = `failed: ${err.message}`;
      this.log(`failed: ${err.message}\n${err.detail ?? ""}`);
    }
    this.watchTimer = setInterval(() => void this.watch(), 1000);
    if (this.phase === "ready") await this.startScheduler();
  }

  private readonly schedule: ScheduleStatus = { nextBackupAt: null, nextBackupType: null, nextDrillAt: null, running: null, lastError: null };
  private scheduleTimer: NodeJS.Timeout | undefined;

  /**
   * Backups and drills on the policy's clock (local time). A backup missed while tusk was down is
   * caught up a minute after start when the newest backup is more than 25 hours old.
   */
  private async startScheduler(): Promise<void> {
    const now = new Date();
    const policy = this.config.backups;
    const newest = summarize(await this.backups.info()).pop();
    const stale = !newest || now.getTime() - Date.parse(newest.endedAt) > 25 * 3_600_000;
    this.schedule.nextBackupAt = (stale ? new Date(now.getTime() + 60_000) : nextOccurrence(policy.time, now)).toISOString();
    this.schedule.nextBackupType = scheduledType(policy, new Date(this.schedule.nextBackupAt), newest ? [newest] : []);
    this.schedule.nextDrillAt = nextOccurrence(policy.drill_time, now, policy.drill_day).toISOString();
    this.scheduleTimer = setInterval(() => void this.scheduleTick(), 15_000);
  }

  private async scheduleTick(): Promise<void> {
    if ((this.phase !== "ready" && this.phase !== "degraded") || this.schedule.running) return;
    const now = new Date();
    const policy = this.config.backups;
    const job = async (name: string, work: () => Promise<void>) => {
      this.schedule.running = name;
      this.log(`scheduled ${name} starting`);
      try {
        await work();
        this.schedule.lastError = null;
        this.log(`scheduled ${name} done`);
      } catch (e) {
        this.schedule.lastError = `${name} at ${now.toISOString()}: ${(e as Error).message}`;
        this.log(`scheduled ${name} failed: ${(e as Error).message}`);
      } finally {
        this.schedule.running = null;
        this.backupHealthCache = undefined;
      }
    };
    if (this.schedule.nextBackupAt && now >= new Date(this.schedule.nextBackupAt)) {
      const type = scheduledType(policy, now, summarize(await this.backups.info()));
      this.schedule.nextBackupAt = nextOccurrence(policy.time, now).toISOString();
      await job(`${type} backup`, async () => {
        await backupNow(this, type, () => undefined);
        await applyRetention(this, now);
      });
      this.schedule.nextBackupType = scheduledType(policy, new Date(this.schedule.nextBackupAt), summarize(await this.backups.info()));
    } else if (this.schedule.nextDrillAt && now >= new Date(this.schedule.nextDrillAt)) {
      this.schedule.nextDrillAt = nextOccurrence(policy.drill_time, now, policy.drill_day).toISOString();
      await job("restore drill", async () => {
        const result = await runDrill(this, silentProgress);
        if (!result.ok) throw new Error(`failed checks: ${result.checks.filter((c) => !c.ok).map((c) => c.name).join(", ")}`);
      });
    }
  }

  private async prepare(): Promise<void> {
    const pg = { uid: this.pgUser.uid, gid: this.pgUser.gid };
    ensureDir(this.paths.root, 0o755); // postgres and etcd must traverse it to reach their directories
    ensureDir(this.paths.runDir, 0o755);
    ensureDir(this.paths.logDir, 0o755);
    ensureDir(this.paths.postgresLogDir, 0o700, pg);
    ensureDir(this.paths.postgresSocketDir, 0o755, pg);
    ensureDir(this.paths.dataDir.replace(/\/data$/, ""), 0o700, pg);
    ensureDir(this.paths.patroniDir, 0o700, pg);
    ensureDir(this.paths.pgbouncerDir, 0o700, pg);
    ensureDir(this.paths.etcdDataDir, 0o700, { uid: this.etcdOsUser.uid, gid: this.etcdOsUser.gid });
    for (const dir of [this.paths.pgbackrestDir, join(this.paths.pgbackrestDir, "spool"), join(this.paths.runDir, "pgbackrest"), join(this.paths.logDir, "pgbackrest")]) ensureDir(dir, 0o700, pg);
    ensureDir(this.paths.backupRepo, 0o750, pg);
    writeAtomic(this.paths.pgbackrestConfig, pgbackrestConf(this.config, this.paths, this.settings.pgbackrest), 0o600, pg);
    const parameters = clusterWide(asRecord(this.settings.postgres), this.config, this.paths);
    await ensureServerCertificate(this.paths, this.config.listen_address, this.pgUser);
    const secrets = {
      superuser: ensureSecret(this.paths, "superuser"),
      replication: ensureSecret(this.paths, "replication"),
      restApi: ensureSecret(this.paths, "patroni_rest"),
    };
    // A clone's first start restores its data from the source's backup instead of running initdb.
    const spec = readRestoreSpec(this.paths);
    const restore = spec && !existsSync(join(this.paths.dataDir, "PG_VERSION")) ? { command: restoreCommand(spec, this.paths) } : undefined;
    writeAtomic(this.paths.patroniConfig, patroniConfig(this.config, this.paths, parameters, secrets, restore), 0o600, pg);
    await this.reapStale();
  }

  /** Stops processes a previous supervisor left running (it was killed), checked by PID and start time. */
  private async reapStale(): Promise<void> {
    for (const name of [...START_ORDER].reverse()) {
      const pid = livePidFromFile(this.paths.pidFile(name));
      if (pid !== undefined) {
        this.log(`stopping ${name} (pid ${pid}) left by a previous supervisor`);
        await stopEscalating(pid, this.specFor(name).stopSteps);
      }
    }
    await this.stopOrphanPostmaster();
  }

  private specFor(name: ChildName): ProcessSpec {
    switch (name) {
      case "etcd":
        return etcdSpec(this.config, this.paths, this.etcdOsUser);
      case "patroni":
        return patroniSpec(this.paths, this.pgUser);
      case "pgbouncer": {
        const maxClients = Number(asRecord(this.settings.pgbouncer).max_client_conn ?? 2000);
        return pgbouncerSpec(this.paths, this.pgUser, maxClients);
      }
    }
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

  private postgresFailure(message: string): TuskError {
    return new TuskError("PostgresFailed", message, {
      detail: lastLogLines(this.paths.postgresLogDir, this.paths.log("patroni")),
      hint: "Fix what the log shows (often a setting in tusk.yaml), then run tusk up again. No data was changed.",
    });
  }

  private async startPostgres(): Promise<void> {
    const child = new ManagedProcess(this.specFor("patroni"));
    this.children.set("patroni", child);
    child.onExit((code, signal) => this.log(`patroni exited (code ${code}, signal ${signal})`));
    child.start();
    const deadline = Date.now() + PRIMARY_TIMEOUT_MS;
    let failedSince: number | undefined;
    while (Date.now() < deadline) {
      if (!child.running) throw this.postgresFailure(`PostgreSQL failed to start: Patroni gave up and exited (code ${child.lastExit?.code}).`);
      const node = await patroniNode(this.config);
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

  private patroniLogSays(...needles: string[]): boolean {
    const file = this.paths.log("patroni");
    if (!existsSync(file)) return false;
    const text = readFileSync(file, "utf8");
    const since = this.startedAt.toISOString().slice(0, 19).replace("T", " ");
    // Only this run's lines: Patroni's log lines start with their timestamp.
    const recent = text.split("\n").filter((l) => l.slice(0, 19) >= since || !/^\d{4}-/.test(l));
    return needles.some((n) => recent.some((l) => l.includes(n)));
  }

  /** Converges the cluster-wide parameters in etcd to the tuned ones; restarts when one needs it. */
  private async applySettings(): Promise<void> {
    const desired = clusterWide(asRecord(this.settings.postgres), this.config, this.paths);
    const current = await clusterParameters(this.config);
    const changes: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(desired)) if (normalizeParameter(current[k]) !== normalizeParameter(v)) changes[k] = v;
    for (const k of Object.keys(current)) if (!(k in desired)) changes[k] = null;
    if (Object.keys(changes).length === 0) return;
    this.log(`changing parameters: ${Object.keys(changes).join(", ")}`);
    const auth = { user: PATRONI_REST_USER, password: ensureSecret(this.paths, "patroni_rest") };
    await patchParameters(this.config, auth, changes);
    if (!Object.keys(changes).some(needsRestart)) return;
    // Patroni applies the change on its next loop and then reports that a restart is pending.
    const deadline = Date.now() + 15_000;
    let node: PatroniNodeStatus | undefined;
    while (Date.now() < deadline) {
      await sleep(1000);
      node = await patroniNode(this.config);
      if (node?.pending_restart) break;
    }
    if (node?.pending_restart) {
      this.log("restarting PostgreSQL for settings that need it");
      await restartPostgres(this.config, auth);
      const ready = Date.now() + PRIMARY_TIMEOUT_MS;
      while (!isPrimary(await patroniNode(this.config))) {
        if (Date.now() > ready) throw this.postgresFailure("PostgreSQL did not come back after a restart for new settings.");
        await sleep(500);
      }
    }
  }

  private async writePgbouncerFiles(): Promise<void> {
    const pg = { uid: this.pgUser.uid, gid: this.pgUser.gid };
    writeAtomic(this.paths.pgbouncerIni, pgbouncerIni(this.config, this.paths, this.settings.pgbouncer), 0o600, pg);
    writeAtomic(this.paths.pgbouncerUsers, pgbouncerUserlist(await scramVerifiers(this.config, this.paths)), 0o600, pg);
  }

  /** One supervision cycle: observe, decide, act. */
  private async watch(): Promise<void> {
    if (this.phase === "stopping" || this.phase === "failed") return;
    const down = START_ORDER.filter((n) => this.children.has(n) && !this.children.get(n)!.running);
    this.lastPatroni = await patroniNode(this.config);
    const decision = decideRestarts(down, this.nextRestartAt, Date.now(), this.lastPatroni);
    this.decision = decision.sentence;
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

  /** Stops children in reverse order, each escalating on its clock, then any surviving postmaster. */
  async shutdown(): Promise<void> {
    this.phase = "stopping";
    this.decision = "stopping: PgBouncer, then Patroni and PostgreSQL, then etcd";
    if (this.watchTimer) clearInterval(this.watchTimer);
    if (this.scheduleTimer) clearInterval(this.scheduleTimer);
    for (const name of [...START_ORDER].reverse()) {
      const child = this.children.get(name);
      if (!child) continue;
      this.log(`stopping ${name}`);
      await child.stop((s) => this.log(`  ${name}: ${s.signal}, waiting up to ${s.waitMs} ms`));
    }
    await this.stopOrphanPostmaster();
  }

  /** A postmaster without its Patroni (Patroni was killed): fast, then immediate shutdown via pg_ctl. */
  private async stopOrphanPostmaster(): Promise<void> {
    const pidFile = `${this.paths.dataDir}/postmaster.pid`;
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    if (!cmdline.includes("postgres")) return;
    for (const mode of ["fast", "immediate"]) {
      this.log(`stopping the postmaster (pid ${pid}) with pg_ctl -m ${mode}`);
      await run(`${PG_BIN_DIR}/pg_ctl`, ["stop", "-D", this.paths.dataDir, "-m", mode, "-t", "30", "-w"], { uid: this.pgUser.uid, gid: this.pgUser.gid, cwd: "/" });
      if (!isAlive(pid)) return;
    }
  }

  async status(): Promise<SupervisorStatus> {
    const versions = await this.versions();
    const processes: ProcessStatus[] = START_ORDER.map((name) => {
      const child = this.children.get(name);
      return {
        name,
        up: child?.running ?? false,
        pid: child?.pid ?? null,
        port: name === "etcd" ? this.config.ports.etcd_client : name === "patroni" ? this.config.ports.patroni : this.config.ports.pooler,
        version: versions[name] ?? null,
        restarts: child?.restarts ?? 0,
        startedAt: child?.startedAt?.toISOString() ?? null,
      };
    });
    processes.splice(2, 0, this.postgresStatus(versions.postgres ?? null));
    return {
      phase: this.phase,
      decision: this.decision,
      failure: this.failure,
      steps: this.steps,
      processes,
      supervisor: { pid: process.pid, startedAt: this.startedAt.toISOString(), version: TUSK_VERSION },
      stateDir: this.paths.root,
      dataSizeBytes: await this.dataSize(),
      backups: await this.backupHealth(),
    };
  }

  private postgresStatus(version: string | null): ProcessStatus {
    const pidFile = `${this.paths.dataDir}/postmaster.pid`;
    let pid: number | null = null;
    if (existsSync(pidFile)) {
      const n = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
      if (isAlive(n)) pid = n;
    }
    return {
      name: "postgres",
      up: pid !== null && this.lastPatroni?.state === "running",
      pid,
      port: this.config.ports.postgres,
      version,
      restarts: 0,
      startedAt: this.lastPatroni?.postmaster_start_time ? new Date(this.lastPatroni.postmaster_start_time).toISOString() : null,
      role: this.lastPatroni?.role === "master" ? "primary" : this.lastPatroni?.role ?? null,
      state: this.lastPatroni?.state ?? null,
    };
  }

  private versionCache: Partial<Record<ChildName | "postgres", string>> = {};

  private async versions(): Promise<Partial<Record<ChildName | "postgres", string>>> {
    const v = this.versionCache;
    v.pgbouncer ??= PGBOUNCER.installedVersion();
    if (!v.etcd) v.etcd = (await getJson<{ etcdserver?: string }>(`http://127.0.0.1:${this.config.ports.etcd_client}/version`))?.json.etcdserver;
    if (!v.patroni && this.lastPatroni?.patroni?.version) v.patroni = this.lastPatroni.patroni.version;
    if (this.lastPatroni?.server_version) {
      const n = this.lastPatroni.server_version;
      v.postgres = `${Math.floor(n / 10000)}.${n % 10000}`;
    } else v.postgres ??= String(PG_MAJOR);
    return v;
  }

  private backupHealthCache: { value: BackupHealth; at: number } | undefined;

  /** Archiving and backup figures for status, read at most every 15 s. */
  private async backupHealth(): Promise<BackupHealth | null> {
    if (this.phase === "starting" || this.phase === "stopping") return null;
    if (this.backupHealthCache && Date.now() - this.backupHealthCache.at < 15_000) return this.backupHealthCache.value;
    let value: BackupHealth;
    try {
      const client = await superuserClient(this.config, this.paths);
      try {
        const c = await readCatalog(this.backups, client);
        value = { lastBackup: c.backups[c.backups.length - 1] ?? null, backupCount: c.backups.length, window: c.window, archiver: c.archiver, lastDrill: drillHistory(this.paths).pop() ?? null, schedule: this.schedule };
      } finally {
        await client.end();
      }
    } catch (e) {
      value = { lastBackup: null, backupCount: 0, window: { from: null, to: null }, archiver: null, lastDrill: drillHistory(this.paths).pop() ?? null, schedule: this.schedule, error: (e as Error).message };
    }
    this.backupHealthCache = { value, at: Date.now() };
    return value;
  }

  private dataSizeCache: { bytes: number | null; at: number } | undefined;

  /** Size of the data directory, measured with du at most every 30 s (status is polled often). */
  private async dataSize(): Promise<number | null> {
    if (this.phase === "starting") return null; // the data directory is still being created
    if (this.dataSizeCache && Date.now() - this.dataSizeCache.at < 30_000) return this.dataSizeCache.bytes;
    const r = await run("du", ["-sb", this.paths.dataDir]);
    this.dataSizeCache = { bytes: r.code === 0 ? Number(r.stdout.split("\t")[0]) : null, at: Date.now() };
    return this.dataSizeCache.bytes;
  }
}

/** The parameters kept in etcd for the whole cluster: all but the node-local ones (paths, TLS files). */
function clusterWide(parameters: Record<string, string>, config: TuskConfig, paths: StatePaths): Record<string, string> {
  const local = localParameters(config, paths);
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

export interface RestartDecision {
  restartNow: ChildName[];
  healthy: boolean;
  sentence: string;
}

/**
 * The supervision decision, pure: which exited children to restart now (their back-off has passed),
 * and one sentence describing the situation.
 */
export function decideRestarts(down: ChildName[], nextRestartAt: ReadonlyMap<ChildName, number>, now: number, patroni: PatroniNodeStatus | undefined): RestartDecision {
  const restartNow = down.filter((n) => (nextRestartAt.get(n) ?? 0) <= now);
  const waiting = down.filter((n) => !restartNow.includes(n));
  const pgRunning = patroni?.state === "running";
  if (down.length === 0 && pgRunning) {
    return { restartNow, healthy: true, sentence: `no action: all processes are up and PostgreSQL is ${patroni?.role === "master" ? "primary" : patroni?.role}` };
  }
  const parts: string[] = [];
  if (restartNow.length) parts.push(`restarting ${restartNow.join(", ")}`);
  if (waiting.length) parts.push(`waiting to restart ${waiting.join(", ")} (back-off)`);
  if (!pgRunning) parts.push(`PostgreSQL is ${patroni?.state ?? "unreachable through Patroni"}; Patroni restarts it`);
  return { restartNow, healthy: false, sentence: parts.join("; ") };
}

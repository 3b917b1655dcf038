import { spawn } from "node:child_process";
import { existsSync, openSync, closeSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { exitCodeName, TuskError } from "../errors.js";
import { CONFIG_TEMPLATE, loadConfig, type TuskConfig } from "../config/config-file.js";
import { readHostFacts } from "../config/host-facts.js";
import { ensureInstalled } from "../install/installer.js";
import { INSTALL_LOG } from "../install/components.js";
import { isRoot, postgresUser } from "../os-user.js";
import { stopLeftovers } from "../processes/leftovers.js";
import { isAlive, livePidFromFile, sleep, waitForExit } from "../processes/pid-file.js";
import type { Progress, ProgressStep } from "../progress.js";
import { claimStateDir, StatePaths } from "../state-dir.js";
import { ApiClient } from "../supervisor/api-client.js";
import type { SupervisorStatus } from "../supervisor/status.js";
import { checkPorts, checkResources } from "./preflight.js";
import { installRelease, pruneReleases, readReleaseRecord, supervisorMain, writeReleaseRecord, type Release } from "../install/release.js";

/** util-linux, essential on Debian. */
const SETSID_BIN = "/usr/bin/setsid";
const UP_TIMEOUT_MS = 300_000;
const DOWN_TIMEOUT_MS = 180_000;

/** One tusk cluster, identified by its state directory. The CLI's commands are methods here. */
export class Cluster {
  readonly paths: StatePaths;
  private configCache: TuskConfig | undefined;

  constructor(stateDir: string) {
    this.paths = new StatePaths(stateDir);
  }

  get config(): TuskConfig {
    this.configCache ??= loadConfig(this.paths.configFile);
    return this.configCache;
  }

  get api(): ApiClient {
    return new ApiClient(this.config, this.paths);
  }

  /** The running supervisor's PID, if any. */
  supervisorPid(): number | undefined {
    return livePidFromFile(this.paths.supervisorPid);
  }

  private notRunning(): TuskError {
    return new TuskError("NotRunning", `tusk is not running (state directory ${this.paths.root}).`, {
      hint: "Start it with `tusk up`.",
    });
  }

  /**
   * Brings the cluster up: checks the state directory and configuration, installs what is missing,
   * checks resources and ports, then starts the supervisor and follows its start-up steps.
   * On a running cluster it only reports; data is always kept.
   */
  async up(progress: Progress): Promise<SupervisorStatus> {
    const isNew = !existsSync(this.paths.marker);
    if (!isNew) claimStateDir(this.paths); // refuses an incompatible state directory before anything else
    const config = this.config; // validates tusk.yaml
    if (!isRoot()) {
      await ensureInstalled(progress, INSTALL_LOG, false);
      throw new TuskError("NotRoot", "tusk must run as root: it runs PostgreSQL as the postgres OS user and etcd as etcd.", {
        hint: "Run it again as root (for example with sudo).",
      });
    }
    checkResources(readHostFacts(this.paths.root), this.paths.root);
    await ensureInstalled(progress, INSTALL_LOG, true);
    const release = installRelease(this.paths, progress);
    const running = readReleaseRecord(this.paths);
    if (this.supervisorPid() !== undefined) {
      const status = await this.api.status();
      if (status.phase !== "failed") {
        progress.info(`tusk is already running (supervisor pid ${status.supervisor.pid}, release ${running?.id ?? "unknown"}).`);
        if (running && running.id !== release.id) {
          progress.info(`This checkout is release ${release.id}: \`tusk down\`, then \`tusk up\`, moves the cluster to it (PostgreSQL restarts with it).`);
        }
        return status;
      }
      await this.down(progress); // a failed start: stop it and try again with the current configuration
    }
    await checkPorts(config, this.paths.configFile);
    claimStateDir(this.paths);
    if (!existsSync(this.paths.configFile)) writeFileSync(this.paths.configFile, CONFIG_TEMPLATE, { mode: 0o644 });
    mkdirSync(this.paths.logDir, { recursive: true });
    mkdirSync(this.paths.runDir, { recursive: true });
    if (running && running.id !== release.id) progress.info(`Updating tusk's control plane from release ${running.id} to ${release.id}.`);
    writeReleaseRecord(this.paths, release);
    this.spawnSupervisor(release);
    const status = await this.followStartup(progress);
    const removed = pruneReleases(release);
    if (removed.length) progress.info(`Removed tusk releases no cluster uses any more: ${removed.join(", ")}.`);
    return status;
  }

  /**
   * Starts the supervisor through a short-lived intermediate (`setsid --fork`, which forks, starts a
   * new session in the child and exits at once), so the supervisor is re-parented to init straight
   * away: a long-lived caller (the API, a script using the core) never holds it as a child, and no
   * defunct supervisor lingers after `down`.
   */
  private spawnSupervisor(release: Release): void {
    const log = openSync(this.paths.log("supervisor"), "a");
    const intermediate = spawn(SETSID_BIN, ["--fork", process.execPath, supervisorMain(release), this.paths.root], {
      stdio: ["ignore", log, log],
      cwd: "/",
      env: { ...process.env },
    });
    closeSync(log);
    intermediate.unref();
  }

  /** Polls the supervisor and mirrors its start-up steps as progress until ready or failed. */
  private async followStartup(progress: Progress): Promise<SupervisorStatus> {
    const deadline = Date.now() + UP_TIMEOUT_MS;
    const shown = new Map<string, ProgressStep>();
    const ended = new Set<string>();
    let status: SupervisorStatus | undefined;
    const startedAt = Date.now();
    while (Date.now() < deadline) {
      await sleep(300);
      try {
        status = await this.api.status();
      } catch {
        if (Date.now() - startedAt > 20_000 && this.supervisorPid() === undefined) {
          throw new TuskError("ProcessFailed", "The tusk supervisor exited during start-up.", {
            hint: `See ${this.paths.log("supervisor")}.`,
          });
        }
        continue;
      }
      for (const s of status.steps) {
        if (!shown.has(s.label)) shown.set(s.label, progress.step(s.label, Date.parse(s.startedAt)));
        if (s.state !== "running" && !ended.has(s.label)) {
          ended.add(s.label);
          const endedAt = s.endedAt ? Date.parse(s.endedAt) : undefined;
          if (s.state === "done") shown.get(s.label)!.done(undefined, endedAt);
          else shown.get(s.label)!.fail(undefined, endedAt);
        }
      }
      if (status.phase === "ready") return status;
      if (status.phase === "failed" && status.failure) {
        const f = status.failure;
        await this.down(undefined).catch(() => undefined);
        throw new TuskError(exitCodeName(f.exitCode), f.message, { hint: f.hint, detail: f.detail });
      }
    }
    throw new TuskError("Timeout", `tusk did not become ready within ${UP_TIMEOUT_MS / 1000} s.`, {
      hint: `See ${this.paths.logDir}; \`tusk status\` shows where it is.`,
    });
  }

  /** Graceful stop: the supervisor stops PgBouncer, Patroni/PostgreSQL and etcd, escalating on a clock. */
  async down(progress: Progress | undefined): Promise<void> {
    const pid = this.supervisorPid();
    if (pid === undefined) throw this.notRunning();
    const step = progress?.step("Stopping PgBouncer, PostgreSQL (via Patroni) and etcd");
    try {
      await this.api.shutdown();
    } catch {
      process.kill(pid, "SIGTERM"); // the API is not answering: the signal asks for the same shutdown
    }
    if (!(await waitForExit(pid, DOWN_TIMEOUT_MS))) {
      step?.fail();
      throw new TuskError("Timeout", `The supervisor (pid ${pid}) did not stop within ${DOWN_TIMEOUT_MS / 1000} s.`, {
        hint: `See ${this.paths.log("supervisor")}; run tusk down again.`,
      });
    }
    step?.done();
  }

  async status(): Promise<SupervisorStatus> {
    if (!existsSync(this.paths.marker) || this.supervisorPid() === undefined) throw this.notRunning();
    try {
      return await this.api.status();
    } catch (e) {
      throw new TuskError("NotRunning", `The supervisor (pid ${this.supervisorPid()}) is not answering: ${(e as Error).message}.`, {
        hint: `See ${this.paths.log("supervisor")}; \`tusk down\` then \`tusk up\` restarts it.`,
      });
    }
  }

  /** Stops everything and deletes the state directory: data, backups in it, secrets, logs. */
  async destroy(progress: Progress): Promise<void> {
    if (!existsSync(this.paths.marker)) {
      throw new TuskError("NotRunning", `${this.paths.root} is not a tusk state directory; nothing to destroy.`, {
        hint: "Check --state-dir.",
      });
    }
    const pid = this.supervisorPid();
    if (pid !== undefined && isAlive(pid)) await this.down(progress);
    else {
      // A supervisor that died leaves its children running; deleting their directories under them
      // would orphan them for good.
      const step = progress.step("Stopping processes left by a supervisor that exited");
      await stopLeftovers(
        this.paths,
        postgresUser(),
        () => undefined,
        () => [{ signal: "SIGTERM", waitMs: 30_000 }],
      );
      step.done();
    }
    const step = progress.step(`Deleting ${this.paths.root}`);
    rmSync(this.paths.root, { recursive: true, force: true });
    step.done();
  }
}

import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { exitCodeName, TuskError } from "../errors.js";
import { CONFIG_TEMPLATE, type TuskConfig } from "../config/config-file.js";
import { loadEffectiveConfig } from "../network/host-network.js";
import { readHostFacts } from "../config/host-facts.js";
import { ensureInstalled } from "../install/installer.js";
import { INSTALL_LOG } from "../install/components.js";
import { isRoot, postgresUser } from "../os-user.js";
import { stopLeftovers } from "../processes/leftovers.js";
import { sleep, waitForExit } from "../processes/pid-file.js";
import type { Progress, ProgressStep } from "../progress.js";
import { claimStateDir, StatePaths } from "../state-dir.js";
import { ApiClient } from "../supervisor/api-client.js";
import type { SupervisorStatus } from "../supervisor/status.js";
import { checkPorts, checkResources } from "./preflight.js";
import { applyConfigLive } from "./config-apply.js";
import { installRelease, pruneReleases, readReleaseRecord, type Release } from "../install/release.js";
import { ControlPlane, DOWN_TIMEOUT_MS } from "./control-plane.js";

const UP_TIMEOUT_MS = 300_000;

/** One tusk cluster, identified by its state directory. The CLI's commands are methods here. */
export class Cluster {
  readonly paths: StatePaths;
  private configCache: TuskConfig | undefined;

  readonly controlPlane: ControlPlane;

  constructor(stateDir: string) {
    this.paths = new StatePaths(stateDir);
    this.controlPlane = new ControlPlane(this.paths);
  }

  get config(): TuskConfig {
    this.configCache ??= loadEffectiveConfig(this.paths);
    return this.configCache;
  }

  get api(): ApiClient {
    return new ApiClient(this.config, this.paths);
  }

  /** The running supervisor's PID, if any. */
  supervisorPid(): number | undefined {
    return this.controlPlane.supervisorPid();
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
      let status = await this.api.status();
      if (status.phase !== "failed") {
        if (running && running.id !== release.id) status = await this.updateControlPlane(running, release, progress);
        else progress.info(`tusk is already running (supervisor pid ${status.supervisor.pid}, release ${running?.id ?? "unknown"}).`);
        // tusk.yaml changed since the cluster started: converge on it (a reload, a rolling restart, or a refusal).
        const { result } = await applyConfigLive(this, progress);
        return result ? await this.api.status() : status;
      }
      await this.down(progress); // a failed start: stop it and try again with the current configuration
    }
    const keeper = this.controlPlane.keeperPid();
    if (keeper !== undefined) {
      progress.info(`tusk's control plane is restarting (its keeper, pid ${keeper}, starts a new supervisor): waiting for it.`);
      return this.followStartup(progress);
    }
    const serving = this.controlPlane.leftServing();
    if (serving.length > 0) progress.info(`tusk's control plane was down while the database served (${serving.join(", ")} running): a new supervisor adopts them without a restart.`);
    else await checkPorts(config, this.paths.configFile);
    claimStateDir(this.paths);
    if (!existsSync(this.paths.configFile)) writeFileSync(this.paths.configFile, CONFIG_TEMPLATE, { mode: 0o644 });
    mkdirSync(this.paths.logDir, { recursive: true });
    mkdirSync(this.paths.runDir, { recursive: true });
    if (running && running.id !== release.id) progress.info(`Updating tusk's control plane from release ${running.id} to ${release.id}.`);
    await this.controlPlane.start(release);
    const status = await this.followStartup(progress);
    const removed = pruneReleases(release);
    if (removed.length) progress.info(`Removed tusk releases no cluster uses any more: ${removed.join(", ")}.`);
    return status;
  }

  /**
   * Replaces the running supervisor by the one of `to` without stopping anything it supervises: the
   * old one exits on SIGUSR2 leaving its children serving, its keeper hands over to the new
   * release's keeper, and the new supervisor adopts the children.
   */
  private async updateControlPlane(from: Release, to: Release, progress: Progress): Promise<SupervisorStatus> {
    const step = progress.step(`Updating tusk's control plane from release ${from.id} to ${to.id} (PostgreSQL keeps running)`);
    try {
      await this.controlPlane.replace(to);
    } catch (e) {
      step.fail();
      throw e;
    }
    step.done();
    return this.followStartup(progress);
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

  /**
   * Graceful stop, whatever state the control plane is in. Under systemd (outside the unit's own
   * ExecStop) it is `systemctl stop` and `disable`, whose ExecStop comes back here. Otherwise a
   * running supervisor stops PgBouncer, Patroni/PostgreSQL and etcd, escalating on a clock, and its
   * keeper then ends; a keeper between two supervisors is stopped; what a crashed supervisor left
   * serving is stopped by its PID files.
   */
  async down(progress: Progress | undefined): Promise<void> {
    const cp = this.controlPlane;
    if (cp.stopsThroughSystemd) {
      const step = progress?.step(`Stopping systemd's unit ${cp.unit.name} (its ExecStop is tusk down) and disabling it`);
      await cp.unit.stopAndDisable();
      step?.done();
    }
    const pid = this.supervisorPid();
    const keeper = cp.keeperPid();
    if (pid === undefined && keeper === undefined && cp.leftServing().length === 0) {
      if (cp.stopsThroughSystemd || cp.unit.installed()) return;
      throw this.notRunning();
    }
    if (keeper !== undefined) signalIfAlive(keeper, "SIGTERM"); // it asks its supervisor to stop gracefully, and restarts nothing
    if (pid !== undefined) {
      const step = progress?.step("Stopping PgBouncer, PostgreSQL (via Patroni) and etcd");
      try {
        // Bounded by a timer of its own: a supervisor that exits while answering could leave the
        // request settling never, with nothing left to keep this process waiting (seen: exit 13).
        await Promise.race([this.api.shutdown(), sleep(15_000).then(() => Promise.reject(new Error("no answer")))]);
      } catch {
        // The API is not answering: the signal asks for the same shutdown. A supervisor that ended
        // meanwhile (a quick stop can close the connection before its answer is read) is not an error.
        signalIfAlive(pid, "SIGTERM");
      }
      if (!(await waitForExit(pid, DOWN_TIMEOUT_MS))) {
        step?.fail();
        throw new TuskError("Timeout", `The supervisor (pid ${pid}) did not stop within ${DOWN_TIMEOUT_MS / 1000} s.`, {
          hint: `See ${this.paths.log("supervisor")}; run tusk down again.`,
        });
      }
      step?.done();
    }
    if (keeper !== undefined && !(await waitForExit(keeper, DOWN_TIMEOUT_MS))) {
      throw new TuskError("Timeout", `tusk's keeper (pid ${keeper}) did not stop within ${DOWN_TIMEOUT_MS / 1000} s.`, { hint: `See ${this.paths.log("keeper")}; run tusk down again.` });
    }
    const left = cp.leftServing();
    if (left.length > 0) {
      const step = progress?.step(`Stopping what a supervisor that is gone left running (${left.join(", ")})`);
      await stopLeftovers(
        this.paths,
        postgresUser(),
        () => undefined,
        (name) => [{ signal: "SIGTERM", waitMs: name.startsWith("patroni") ? 60_000 : 30_000 }],
      );
      step?.done();
    }
  }

  async status(): Promise<SupervisorStatus> {
    if (!existsSync(this.paths.marker)) throw this.notRunning();
    if (this.supervisorPid() === undefined) throw this.controlPlaneDown();
    try {
      return await this.api.status();
    } catch (e) {
      throw new TuskError("NotRunning", `The supervisor (pid ${this.supervisorPid()}) is not answering: ${(e as Error).message}.`, {
        hint: `See ${this.paths.log("supervisor")}; \`tusk down\` then \`tusk up\` restarts it.`,
      });
    }
  }

  /** Why there is no supervisor to ask: restarting (its keeper or systemd brings it back), down while the database serves, or all down. */
  private controlPlaneDown(): TuskError {
    const serving = this.controlPlane.leftServing();
    const restarter = this.controlPlane.restarter();
    const still = serving.length ? `; the database keeps serving (${serving.join(", ")} running)` : "";
    if (restarter !== undefined && (serving.length > 0 || this.controlPlane.keeperPid() !== undefined)) {
      return new TuskError("ControlPlaneDown", `tusk's control plane is restarting: ${restarter} is starting a new supervisor${still}.`, {
        hint: "Ask again in a few seconds.",
      });
    }
    if (serving.length > 0) {
      return new TuskError("ControlPlaneDown", `tusk's control plane is down (no supervisor runs), but the database is serving: ${serving.join(", ")} running.`, {
        hint: "`tusk up` starts a supervisor that adopts them without a restart; `tusk down` stops them.",
      });
    }
    return this.notRunning();
  }

  /** Stops everything and deletes the state directory: data, backups in it, secrets, logs. */
  async destroy(progress: Progress): Promise<void> {
    if (!existsSync(this.paths.marker)) {
      throw new TuskError("NotRunning", `${this.paths.root} is not a tusk state directory; nothing to destroy.`, {
        hint: "Check --state-dir.",
      });
    }
    // Deleting the directories under running processes would orphan them for good.
    const cp = this.controlPlane;
    if (cp.stopsThroughSystemd || this.supervisorPid() !== undefined || cp.keeperPid() !== undefined || cp.leftServing().length > 0) await this.down(progress);
    // A postmaster whose Patroni is gone has no PID file of tusk's: its data directory names it.
    await stopLeftovers(
      this.paths,
      postgresUser(),
      () => undefined,
      () => [{ signal: "SIGTERM", waitMs: 30_000 }],
    );
    if (cp.unit.installed()) {
      const unit = progress.step(`Removing systemd's unit ${cp.unit.name}`);
      await cp.unit.remove();
      unit.done();
    }
    const step = progress.step(`Deleting ${this.paths.root}`);
    // A state directory that is a mount point (a volume of its own) is emptied; it stays, as the mount.
    const root = this.paths.root;
    for (const entry of readdirSync(root)) rmSync(join(root, entry), { recursive: true, force: true });
    if (statSync(root).dev === statSync(dirname(root)).dev) rmSync(root, { recursive: true, force: true });
    step.done();
  }
}

/** Signals a process unless it has already exited (ESRCH); any other failure is thrown. */
function signalIfAlive(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
  }
}

import { closeSync, openSync } from "node:fs";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { TuskError } from "../errors.js";
import { SystemdUnit, underSystemd } from "../init/init-system.js";
import { INIT_ENV } from "../init/systemd-unit.js";
import { keeperMain, supervisorMain, writeReleaseRecord, type Release } from "../install/release.js";
import { liveLeftovers, liveTuskPid } from "../processes/leftovers.js";
import { waitForExit } from "../processes/pid-file.js";
import type { StatePaths } from "../state-dir.js";

/** util-linux, essential on Debian. */
const SETSID_BIN = "/usr/bin/setsid";

/** How long a graceful stop may take (the supervisor's whole stop escalation fits in it). */
export const DOWN_TIMEOUT_MS = 180_000;

/**
 * Who runs the supervisor and brings it back: systemd where it is the init system (one unit per state
 * directory, Restart=always), else tusk's keeper, a small process that restarts it with a back-off
 * (hosts without systemd do not bring tusk back after a reboot). Either way a supervisor that exits
 * leaves every service serving, and the next one adopts them.
 */
export class ControlPlane {
  readonly unit: SystemdUnit;

  constructor(private readonly paths: StatePaths) {
    this.unit = new SystemdUnit(paths.root);
  }

  /** "systemd" when systemd is the init system, else "keeper". */
  get mode(): "systemd" | "keeper" {
    return underSystemd() ? "systemd" : "keeper";
  }

  /** Whether this process is systemd running the unit's ExecStop (it stops the cluster itself, without systemctl). */
  get calledBySystemd(): boolean {
    return process.env[INIT_ENV] === "systemd";
  }

  /** The running supervisor's PID: the PID file checked against the process's start time and command line. */
  supervisorPid(): number | undefined {
    return liveTuskPid(this.paths.supervisorPid, "supervisor/main.js", this.paths.root);
  }

  /** The keeper's PID, while one runs. */
  keeperPid(): number | undefined {
    return liveTuskPid(this.paths.keeperPid, "supervisor/keeper-main.js", this.paths.root);
  }

  /** The services a supervisor that is gone left serving (etcd, Patroni, PgBouncer, HAProxy). */
  leftServing(): string[] {
    return liveLeftovers(this.paths).map((l) => l.name);
  }

  /** Who is bringing a supervisor back right now, if anyone: its keeper, or systemd. */
  restarter(): string | undefined {
    const keeper = this.keeperPid();
    if (keeper !== undefined) return `its keeper (pid ${keeper})`;
    if (this.mode === "systemd" && this.unit.installed()) return `systemd (unit ${this.unit.name})`;
    return undefined;
  }

  /** Starts the release's supervisor under systemd or under a keeper. */
  async start(release: Release): Promise<void> {
    writeReleaseRecord(this.paths, release);
    if (this.mode === "systemd") {
      await this.unit.write(this.unitInput(release));
      await this.unit.enableAndStart();
    } else this.spawnKeeper(release);
  }

  /**
   * Replaces the running supervisor by the one of `to` without stopping anything it supervises: the
   * old one exits on SIGUSR2 (code 75) leaving its children serving; systemd, whose unit now names the
   * new release, or the keeper, which hands over to the new release's keeper, starts the new one,
   * and it adopts the children.
   */
  async replace(to: Release): Promise<void> {
    const old = this.supervisorPid();
    const keeper = this.keeperPid();
    writeReleaseRecord(this.paths, to);
    const systemd = this.mode === "systemd";
    if (systemd) await this.unit.write(this.unitInput(to));
    if (old !== undefined) {
      process.kill(old, "SIGUSR2");
      if (!(await waitForExit(old, DOWN_TIMEOUT_MS))) {
        throw new TuskError("Timeout", `The supervisor (pid ${old}) did not hand over within ${DOWN_TIMEOUT_MS / 1000} s.`, { hint: `See ${this.paths.log("supervisor")}.` });
      }
    }
    // A cluster started before keepers existed, or whose keeper died, gets one now.
    if (systemd) {
      if (old === undefined) await this.unit.enableAndStart();
    } else if (keeper === undefined) this.spawnKeeper(to);
  }

  /** Under systemd, outside ExecStop: `tusk down` is `systemctl stop` (which runs ExecStop) and `disable`. */
  get stopsThroughSystemd(): boolean {
    return this.mode === "systemd" && this.unit.installed() && !this.calledBySystemd;
  }

  /**
   * Starts the keeper (which runs the supervisor and restarts it when it dies) through a short-lived
   * intermediate (`setsid --fork`, which forks, starts a new session in the child and exits at
   * once), so the keeper is re-parented to init straight away: a long-lived caller (the API, a script
   * using the core) never holds it as a child, and no defunct process lingers after `down`.
   */
  private spawnKeeper(release: Release): void {
    const log = openSync(this.paths.log("keeper"), "a");
    const intermediate = spawn(SETSID_BIN, ["--fork", process.execPath, keeperMain(release), this.paths.root], {
      stdio: ["ignore", log, log],
      cwd: "/",
      env: { ...process.env },
    });
    closeSync(log);
    intermediate.unref();
  }

  private unitInput(release: Release) {
    return {
      stateDir: this.paths.root,
      node: process.execPath,
      supervisorMain: supervisorMain(release),
      cliMain: join(release.dir, "dist", "src", "cli", "main.js"),
      stopSeconds: DOWN_TIMEOUT_MS / 1000,
    };
  }
}

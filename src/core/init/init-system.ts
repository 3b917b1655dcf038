import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { run } from "../exec.js";
import { TuskError } from "../errors.js";
import { writeAtomic } from "../state-dir.js";
import { unitFile, unitName, type UnitInput } from "./systemd-unit.js";

/**
 * Whether systemd is the init system, and the unit that runs a state directory's supervisor under it.
 * systemd is detected by /run/systemd/system (what sd_booted() checks), never by the presence of
 * systemctl: a machine may have the binary without systemd running. Both directories can be moved by
 * the environment (TUSK_SYSTEMD_RUN_DIR, TUSK_SYSTEMD_UNIT_DIR), which is how the tests drive this
 * path with a stand-in systemctl on machines whose init is not systemd.
 */
export const SYSTEMD_RUN_DIR = process.env.TUSK_SYSTEMD_RUN_DIR ?? "/run/systemd/system";
export const SYSTEMD_UNIT_DIR = process.env.TUSK_SYSTEMD_UNIT_DIR ?? "/etc/systemd/system";

export const underSystemd = (): boolean => existsSync(SYSTEMD_RUN_DIR);

async function systemctl(...args: string[]): Promise<string> {
  const r = await run("systemctl", args, { timeoutMs: 600_000 }).catch((e: Error) => ({ code: 127, stdout: "", stderr: e.message }));
  if (r.code !== 0) {
    throw new TuskError("ProcessFailed", `systemctl ${args.join(" ")} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`, {
      hint: "See `journalctl -u` for the unit, and `systemctl status` for why.",
    });
  }
  return r.stdout;
}

/** The state directory's unit. */
export class SystemdUnit {
  readonly name: string;
  readonly path: string;

  constructor(stateDir: string) {
    this.name = unitName(stateDir);
    this.path = join(SYSTEMD_UNIT_DIR, this.name);
  }

  installed(): boolean {
    return existsSync(this.path);
  }

  /** Writes the unit for the release to run (a new release replaces the old unit's commands) and has systemd read it. */
  async write(input: UnitInput): Promise<void> {
    mkdirSync(SYSTEMD_UNIT_DIR, { recursive: true, mode: 0o755 });
    writeAtomic(this.path, unitFile(input), 0o644);
    await systemctl("daemon-reload");
  }

  /** Enabled, so it starts at boot, and started now. */
  async enableAndStart(): Promise<void> {
    await systemctl("enable", this.name);
    await systemctl("start", this.name);
  }

  /** Stopped (ExecStop runs the graceful `tusk down`), and disabled: a cluster stopped by its user stays down after a reboot. */
  async stopAndDisable(): Promise<void> {
    await systemctl("stop", this.name);
    await systemctl("disable", this.name);
  }

  /** With its state directory destroyed: the unit is removed. */
  async remove(): Promise<void> {
    if (!this.installed()) return;
    await systemctl("disable", this.name).catch(() => undefined);
    rmSync(this.path, { force: true });
    await systemctl("daemon-reload");
  }
}

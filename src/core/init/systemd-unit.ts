import { createHash } from "node:crypto";

/**
 * The systemd unit that runs one state directory's supervisor where systemd is the init system: a
 * pure function of where things are. systemd restarts the supervisor whenever it exits (a crash,
 * kill -9, or exit 75 asking to be replaced by the release now recorded), and stops only the
 * supervisor itself when it does (KillMode=process): etcd, Patroni, PostgreSQL, PgBouncer and HAProxy
 * keep serving and the next supervisor adopts them. Stopping the unit runs `tusk down` (ExecStop),
 * the graceful stop, so Restart=always never fights it.
 */
export interface UnitInput {
  stateDir: string;
  /** The Node.js binary that runs tusk. */
  node: string;
  /** The supervisor's entry point in the release the state directory records. */
  supervisorMain: string;
  /** The CLI's entry point in the same release (ExecStop runs `tusk down` from it). */
  cliMain: string;
  /** How long the graceful stop may take, in seconds: TimeoutStopSec is longer. */
  stopSeconds: number;
}

/** Set in the unit's environment: a `tusk down` run by systemd (ExecStop) stops directly instead of calling systemctl. */
export const INIT_ENV = "TUSK_INIT";

/** One unit per state directory, named by a hash of its path (stable, and free of systemd's escaping rules). */
export function unitName(stateDir: string): string {
  return `tusk-${createHash("sha256").update(stateDir).digest("hex").slice(0, 12)}.service`;
}

/** An argument as systemd's command-line parser reads it back: quoted when needed, specifiers (%) and variables ($) escaped. */
export function unitArg(value: string): string {
  const escaped = value.replace(/%/g, "%%").replace(/\$/g, "$$$$");
  return /[\s"'\\;]/.test(escaped) ? `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"` : escaped;
}

/** The unit's text. */
export function unitFile(u: UnitInput): string {
  const command = (...args: string[]) => args.map(unitArg).join(" ");
  return [
    "# Written by tusk up; tusk destroy removes it. Edits are overwritten by the next tusk up.",
    "[Unit]",
    `Description=tusk supervisor of the PostgreSQL cluster in ${u.stateDir.replace(/%/g, "%%")}`,
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=simple",
    `Environment=${INIT_ENV}=systemd`,
    `ExecStart=${command(u.node, u.supervisorMain, u.stateDir)}`,
    `ExecStop=${command(u.node, u.cliMain, "--state-dir", u.stateDir, "down")}`,
    // Any exit restarts it: a crash, kill -9, or 75 (replace me with the recorded release).
    "Restart=always",
    "RestartSec=2",
    // Only the supervisor: what it supervises keeps serving while it restarts.
    "KillMode=process",
    `TimeoutStopSec=${u.stopSeconds + 30}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

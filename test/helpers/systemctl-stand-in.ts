import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A stand-in `systemctl` for machines whose init is not systemd (CI): put first on PATH, it records
 * every call (one line of arguments each) and does what systemd would do with tusk's unit, no more:
 * `start` runs the unit's ExecStart detached with the unit's Environment, `stop` runs its ExecStop
 * and waits for it; daemon-reload, enable and disable only record. It does not restart anything
 * (Restart=always is systemd's own; the keeper's restarts are tested where systemd is absent).
 */
export interface StandIn {
  /** Directory to put first on PATH. */
  binDir: string;
  /** Directory tusk is told is /run/systemd/system (TUSK_SYSTEMD_RUN_DIR): it exists, so systemd "runs". */
  runDir: string;
  /** Where tusk writes units (TUSK_SYSTEMD_UNIT_DIR). */
  unitDir: string;
  /** The calls recorded so far. */
  calls(): string[];
  /** The environment that points tusk at the stand-in. */
  env: NodeJS.ProcessEnv;
}

export function systemctlStandIn(root: string): StandIn {
  const binDir = join(root, "bin");
  const runDir = join(root, "run-systemd-system");
  const unitDir = join(root, "units");
  const callsFile = join(root, "calls.log");
  for (const d of [binDir, runDir, unitDir]) mkdirSync(d, { recursive: true });
  writeFileSync(callsFile, "");
  // The unit's command lines are written by tusk (systemd-unit.ts): unquoted paths, as in these tests.
  const script = `#!/bin/bash
set -euo pipefail
echo "$*" >> '${callsFile}'
unit='${unitDir}'/"\${2:-}"
line() { sed -n "s/^$1=//p" "$unit" | head -1; }
case "$1" in
  daemon-reload|enable|disable) exit 0 ;;
  start)
    env_kv=$(line Environment)
    env "$env_kv" /usr/bin/setsid --fork $(line ExecStart) >/dev/null 2>&1 < /dev/null
    ;;
  stop)
    env_kv=$(line Environment)
    env "$env_kv" $(line ExecStop)
    ;;
  *) echo "stand-in systemctl: $1 is not supported" >&2; exit 1 ;;
esac
`;
  writeFileSync(join(binDir, "systemctl"), script);
  chmodSync(join(binDir, "systemctl"), 0o755);
  return {
    binDir,
    runDir,
    unitDir,
    calls: () => readFileSync(callsFile, "utf8").split("\n").filter(Boolean),
    env: { ...process.env, PATH: `${binDir}:${process.env.PATH ?? ""}`, TUSK_SYSTEMD_RUN_DIR: runDir, TUSK_SYSTEMD_UNIT_DIR: unitDir },
  };
}

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PGBACKREST_BIN } from "../install/components.js";
import type { StatePaths } from "../state-dir.js";

/** Where a restore should stop. */
export type RestoreTarget =
  | { kind: "latest" }
  | { kind: "time"; time: string }
  | { kind: "name"; name: string }
  | { kind: "lsn"; lsn: string };

/** Written into a clone's state directory: the source repository and the target to recover to. */
export interface RestoreSpec {
  sourceStateDir: string;
  sourceConfig: string;
  sourceStanza: string;
  target: RestoreTarget;
  /** The repository to restore from (1 local, 2 S3); pgBackRest picks the first holding a backup if absent. */
  repo?: number;
}

export function readRestoreSpec(paths: StatePaths): RestoreSpec | undefined {
  return existsSync(paths.restoreSpec) ? (JSON.parse(readFileSync(paths.restoreSpec, "utf8")) as RestoreSpec) : undefined;
}

/** pgBackRest's recovery options for a target: replay all WAL, or stop at it and promote. */
export function targetOptions(target: RestoreTarget): string[] {
  switch (target.kind) {
    case "latest":
      return ["--type=default"];
    case "time":
      return ["--type=time", `--target=${target.time}`, "--target-action=promote"];
    case "name":
      return ["--type=name", `--target=${target.name}`, "--target-action=promote"];
    case "lsn":
      return ["--type=lsn", `--target=${target.lsn}`, "--target-action=promote"];
  }
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The command Patroni runs to fill the clone's empty data directory: pgbackrest restore from the
 * source's repository (read only), logging and locking in the clone's own directories. The WAL the
 * clone replays comes from the source's repository too (pgBackRest writes that restore_command);
 * the clone archives into its own repository, never the source's.
 */
export function restoreCommand(spec: RestoreSpec, paths: StatePaths): string {
  const args = [
    `--config=${spec.sourceConfig}`,
    `--stanza=${spec.sourceStanza}`,
    `--pg1-path=${paths.dataDir}`,
    `--log-path=${join(paths.logDir, "pgbackrest")}`,
    `--lock-path=${join(paths.runDir, "pgbackrest")}`,
    ...(spec.repo ? [`--repo=${spec.repo}`] : []),
    ...targetOptions(spec.target),
    "restore",
  ];
  return [PGBACKREST_BIN, ...args].map(shellQuote).join(" ");
}

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PGBACKREST_BIN } from "../install/components.js";
import type { StatePaths } from "../state-dir.js";
import { TuskError } from "../errors.js";
import { hasOffset, readWallClock } from "../time/wall-clock.js";

/** Where a restore should stop. */
export type RestoreTarget = { kind: "latest" } | { kind: "time"; time: string } | { kind: "name"; name: string } | { kind: "lsn"; lsn: string };

/**
 * The target from at most one of a time, a restore point's name and an LSN; none means latest.
 * `fields` names them as the caller's user typed them (CLI flags or API body fields), for the error.
 * A time is read as wall-clock.ts says (without an offset: the machine's local time, refused when it
 * happened twice or never there); with `offsetRequired` (the API), one without an offset is refused.
 * The target keeps it as an exact UTC instant.
 */
export function chooseTarget(given: { time?: string; name?: string; lsn?: string }, fields: { time: string; name: string; lsn: string }, offsetRequired = false): RestoreTarget {
  if ([given.time, given.name, given.lsn].filter((x) => x !== undefined).length > 1) {
    throw new TuskError("Usage", `Give at most one of ${fields.time}, ${fields.name} and ${fields.lsn}.`, { hint: "Without any, the restore replays all archived WAL (latest)." });
  }
  if (given.time !== undefined) {
    if (offsetRequired && !hasOffset(given.time)) {
      throw new TuskError("Usage", `${fields.time}: "${given.time}" has no UTC offset; the API takes RFC 3339 times such as 2026-04-18T14:30:00+02:00 or …Z.`);
    }
    const reading = readWallClock(given.time, fields.time);
    if (!reading.ok) throw new TuskError("Usage", reading.problem);
    return { kind: "time", time: reading.at.toISOString() };
  }
  if (given.name !== undefined) return { kind: "name", name: given.name };
  if (given.lsn !== undefined) return { kind: "lsn", lsn: given.lsn };
  return { kind: "latest" };
}

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

import type { Command } from "commander";
import { createClone } from "../../core/backup/clone.js";
import type { RestoreTarget } from "../../core/backup/restore-spec.js";
import { connectionStrings } from "../../core/cluster/connection-strings.js";
import { TuskError } from "../../core/errors.js";
import { clusterFor } from "../context.js";
import { formatConnectionStrings } from "../format.js";
import { terminalProgress } from "../terminal-progress.js";

interface RestoreOptions {
  into?: string;
  time?: string;
  name?: string;
  lsn?: string;
  json?: boolean;
}

function targetOf(opts: RestoreOptions): RestoreTarget {
  const given = [opts.time, opts.name, opts.lsn].filter((x) => x !== undefined);
  if (given.length > 1) throw new TuskError("Usage", "Give at most one of --time, --name and --lsn.", { hint: "Without any, the restore replays all archived WAL (latest)." });
  if (opts.time !== undefined) return { kind: "time", time: opts.time };
  if (opts.name !== undefined) return { kind: "name", name: opts.name };
  if (opts.lsn !== undefined) return { kind: "lsn", lsn: opts.lsn };
  return { kind: "latest" };
}

export function registerRestore(program: Command): void {
  program
    .command("restore")
    .description("restore from the backups: --into NAME builds a new, separate cluster (its own ports and endpoints) and leaves this one running")
    .option("--into <name>", "name of the new cluster (state directory STATE_DIR-clones/NAME)")
    .option("--time <time>", "recover to this time, e.g. '2026-04-18 14:30:00+00' (without a zone: the machine's local time)")
    .option("--name <restore-point>", "recover to this restore point")
    .option("--lsn <lsn>", "recover to this WAL position, e.g. 0/3000060")
    .option("--json", "print the clone's connection strings as JSON")
    .action(async (opts: RestoreOptions, command: Command) => {
      const target = targetOf(opts);
      if (!opts.into) {
        throw new TuskError("Usage", "This version restores into a new cluster only.", {
          hint: "Add --into NAME; restoring in place behind the same connection strings is not available yet.",
        });
      }
      const { clone } = await createClone(clusterFor(command), opts.into, target, terminalProgress());
      const strings = connectionStrings(clone.config, clone.paths);
      if (opts.json) {
        console.log(JSON.stringify({ stateDir: clone.paths.root, ...strings }, null, 2));
        return;
      }
      console.log(`Clone "${opts.into}" is running (state directory ${clone.paths.root}; stop it with \`tusk --state-dir ${clone.paths.root} down\`).\n`);
      console.log(formatConnectionStrings(strings));
    });
}

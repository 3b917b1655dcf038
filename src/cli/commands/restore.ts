import type { Command } from "commander";
import { createClone } from "../../core/backup/clone.js";
import { OperationQueue } from "../../core/supervisor/operation-queue.js";
import { chooseTarget, type RestoreTarget } from "../../core/backup/restore-spec.js";
import { connectionStrings } from "../../core/cluster/connection-strings.js";
import { restoreInPlace } from "../../core/backup/restore-in-place.js";
import { confirmOrAbort } from "../confirm.js";
import { repositoryFrom } from "../../core/backup/operations.js";
import { clusterFor } from "../context.js";
import { formatConnectionStrings } from "../format.js";
import { terminalProgress } from "../terminal-progress.js";

interface RestoreOptions {
  into?: string;
  time?: string;
  name?: string;
  lsn?: string;
  json?: boolean;
  yes?: boolean;
  from?: string;
}

const targetOf = (opts: RestoreOptions): RestoreTarget => chooseTarget(opts, { time: "--time", name: "--name", lsn: "--lsn" });

export function registerRestore(program: Command): void {
  program
    .command("restore")
    .description(
      "restore from the backups: --into NAME builds a new, separate cluster (its own ports and endpoints) and leaves this one running; without --into, replaces this cluster's data behind the same connection strings (asks first)",
    )
    .option("--into <name>", "name of the new cluster (state directory STATE_DIR-clones/NAME)")
    .option(
      "--time <time>",
      "recover to this time: '2026-04-18 14:30:00' in the machine's time zone (refused if the clocks made it happen twice or never), or with an offset, '2026-04-18T14:30:00+02:00'",
    )
    .option("--name <restore-point>", "recover to this restore point")
    .option("--lsn <lsn>", "recover to this WAL position, e.g. 0/3000060")
    .option("--from <repository>", "local or s3: the repository to restore from (default: the first that has a backup)")
    .option("--yes", "restore in place without asking for confirmation")
    .option("--json", "print the connection strings as JSON")
    .action(async (opts: RestoreOptions, command: Command) => {
      const target = targetOf(opts);
      const cluster = clusterFor(command);
      const repo = repositoryFrom(cluster.config, opts.from);
      if (!opts.into) {
        if (!opts.yes) {
          await confirmOrAbort(
            `This replaces all data of the cluster in ${cluster.paths.root} with the restored state; the cluster stops while it restores.`,
            "restore",
            "Restoring in place replaces the cluster's current data; refusing without confirmation.",
            "--yes (or use --into NAME for a separate clone)",
          );
        }
        const status = await restoreInPlace(cluster, target, terminalProgress(), repo);
        if (opts.json) {
          console.log(JSON.stringify({ stateDir: cluster.paths.root, ...connectionStrings(cluster.config, cluster.paths) }, null, 2));
          return;
        }
        console.log(`Restored in place; the connection strings are unchanged (PostgreSQL timeline ${status.processes.find((p) => p.name === "postgres")?.timeline ?? "unknown"}).`);
        return;
      }
      const into = opts.into;
      const { clone } = await new OperationQueue(cluster.paths).run("clone", `clone ${into} (tusk restore --into)`, () => createClone(cluster, into, target, terminalProgress(), repo));
      const strings = connectionStrings(clone.config, clone.paths);
      if (opts.json) {
        console.log(JSON.stringify({ stateDir: clone.paths.root, ...strings }, null, 2));
        return;
      }
      console.log(`Clone "${opts.into}" is running (state directory ${clone.paths.root}; stop it with \`tusk --state-dir ${clone.paths.root} down\`).\n`);
      console.log(formatConnectionStrings(strings));
    });
}

import type { Command } from "commander";
import { clusterFor } from "../context.js";
import { confirmOrAbort } from "../confirm.js";
import { terminalProgress } from "../terminal-progress.js";

export function registerDestroy(program: Command): void {
  program
    .command("destroy")
    .description("stop the cluster and delete its state directory: all data, secrets and logs")
    .option("--yes", "do not ask for confirmation")
    .action(async (opts: { yes?: boolean }, command: Command) => {
      const cluster = clusterFor(command);
      if (!opts.yes) {
        await confirmOrAbort(`This deletes every database, secret and log in ${cluster.paths.root}.`, "destroy", `Refusing to destroy ${cluster.paths.root} without confirmation.`, "--yes");
      }
      await cluster.destroy(terminalProgress());
      console.log(`Deleted ${cluster.paths.root}.`);
    });
}

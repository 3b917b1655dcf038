import type { Command } from "commander";
import { createInterface } from "node:readline/promises";
import { TuskError } from "../../core/errors.js";
import { clusterFor } from "../context.js";
import { terminalProgress } from "../terminal-progress.js";

export function registerDestroy(program: Command): void {
  program
    .command("destroy")
    .description("stop the cluster and delete its state directory: all data, secrets and logs")
    .option("--yes", "do not ask for confirmation")
    .action(async (opts: { yes?: boolean }, command: Command) => {
      const cluster = clusterFor(command);
      if (!opts.yes) {
        if (!process.stdin.isTTY) {
          throw new TuskError("Aborted", `Refusing to destroy ${cluster.paths.root} without confirmation.`, {
            hint: "Run `tusk destroy --yes` to confirm without a prompt.",
          });
        }
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        const answer = await rl.question(`This deletes every database, secret and log in ${cluster.paths.root}. Type "destroy" to confirm: `);
        rl.close();
        if (answer.trim() !== "destroy") {
          throw new TuskError("Aborted", "Not confirmed; nothing was deleted.", { hint: 'Type "destroy" at the prompt, or pass --yes.' });
        }
      }
      await cluster.destroy(terminalProgress());
      console.log(`Deleted ${cluster.paths.root}.`);
    });
}

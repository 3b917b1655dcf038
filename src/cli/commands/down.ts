import type { Command } from "commander";
import { clusterFor } from "../context.js";
import { terminalProgress } from "../terminal-progress.js";

export function registerDown(program: Command): void {
  program
    .command("down")
    .description("stop the cluster gracefully (PgBouncer, then PostgreSQL via Patroni, then etcd), escalating on a clock; data is kept")
    .action(async (_opts: unknown, command: Command) => {
      await clusterFor(command).down(terminalProgress());
      console.log("tusk is stopped. `tusk up` starts it again with its data.");
    });
}

import type { Command } from "commander";
import { connectionStrings } from "../../core/cluster/connection-strings.js";
import { clusterFor } from "../context.js";
import { formatConnectionStrings } from "../format.js";
import { terminalProgress } from "../terminal-progress.js";

export function registerUp(program: Command): void {
  program
    .command("up")
    .description("bring the cluster up: install what is missing, start PostgreSQL (Patroni, etcd) and PgBouncer, print connection strings; keeps existing data")
    .option("--json", "print the connection strings as JSON")
    .action(async (opts: { json?: boolean }, command: Command) => {
      const cluster = clusterFor(command);
      const started = Date.now();
      await cluster.up(terminalProgress());
      const strings = connectionStrings(cluster.config, cluster.paths);
      if (opts.json) {
        console.log(JSON.stringify(strings, null, 2));
        return;
      }
      console.log(`tusk is ready (${((Date.now() - started) / 1000).toFixed(1)} s).\n`);
      console.log(formatConnectionStrings(strings));
    });
}

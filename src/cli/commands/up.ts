import type { Command } from "commander";
import { connectionStrings } from "../../core/cluster/connection-strings.js";
import { readHostNetwork } from "../../core/network/host-network.js";
import { clusterFor } from "../context.js";
import { formatConnectionStrings } from "../format.js";
import { terminalProgress } from "../terminal-progress.js";
import { parseCount, scaleWithProgress } from "./scale.js";

export function registerUp(program: Command): void {
  program
    .command("up")
    .description("bring the cluster up: install what is missing, start PostgreSQL (Patroni, etcd) and PgBouncer, print connection strings; keeps existing data")
    .option("--replicas <n>", "streaming replicas on this machine (default: tusk.yaml's replicas)", parseCount)
    .option("--json", "print the connection strings as JSON")
    .action(async (opts: { json?: boolean; replicas?: number }, command: Command) => {
      const cluster = clusterFor(command);
      const started = Date.now();
      const progress = terminalProgress();
      const status = await cluster.up(progress);
      if (readHostNetwork(cluster.paths)?.role === "witness") {
        // A witness host serves no database: nothing to scale, no connection strings.
        console.log(opts.json ? JSON.stringify({ witness: true, decision: status.decision }) : `tusk is ready: ${status.decision}.`);
        return;
      }
      const replicas = opts.replicas ?? cluster.config.replicas;
      const current = (await cluster.status()).replication.nodes.length - 1;
      if (replicas > current) await scaleWithProgress(cluster, replicas, progress);
      const strings = connectionStrings(cluster.config, cluster.paths);
      if (opts.json) {
        console.log(JSON.stringify(strings, null, 2));
        return;
      }
      console.log(`tusk is ready (${((Date.now() - started) / 1000).toFixed(1)} s).\n`);
      console.log(formatConnectionStrings(strings));
    });
}

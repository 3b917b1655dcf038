import type { Command } from "commander";
import { joinCluster } from "../../core/cluster/join.js";
import { clusterFor } from "../context.js";
import { terminalProgress } from "../terminal-progress.js";

export function registerJoin(program: Command): void {
  program
    .command("join <token>")
    .description(
      "make this machine a host of the cluster whose first host made the token (tusk host token there); a data host runs etcd and a PostgreSQL node (a replica of the leader), a witness etcd alone",
    )
    .requiredOption("--name <name>", "this host's name in the cluster (lowercase letters, digits, dashes; unique)")
    .requiredOption("--address <ip>", "this machine's address, as the cluster's other hosts reach it")
    .option("--json", "print the status as JSON")
    .action(async (token: string, opts: { name: string; address: string; json?: boolean }, command: Command) => {
      const status = await joinCluster(clusterFor(command), token, opts, terminalProgress());
      console.log(opts.json ? JSON.stringify(status, null, 2) : `Host ${opts.name} joined the cluster: ${status.decision}.`);
    });
}

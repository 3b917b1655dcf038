import type { Command } from "commander";
import { clusterFor } from "../context.js";
import { formatStatus } from "../format.js";

export function registerStatus(program: Command): void {
  program
    .command("status")
    .description("show every process (up/down, pid, port, version, uptime), data size and the supervisor's last decision")
    .option("--json", "print the status as JSON")
    .action(async (opts: { json?: boolean }, command: Command) => {
      const status = await clusterFor(command).status();
      console.log(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status));
    });
}

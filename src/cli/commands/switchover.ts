import type { Command } from "commander";
import { clusterFor } from "../context.js";
import { terminalProgress } from "../terminal-progress.js";

export function registerSwitchover(program: Command): void {
  program
    .command("switchover")
    .description("planned switchover to a replica: PgBouncer pauses the application's pool, the replica is promoted, the pool resumes on it")
    .option("--to <node>", "the replica to promote (default: the synchronous standby)")
    .option("--json", "print the result as JSON")
    .action(async (opts: { to?: string; json?: boolean }, command: Command) => {
      const cluster = clusterFor(command);
      await cluster.status();
      const step = terminalProgress().step(`Switching over${opts.to ? ` to ${opts.to}` : ""}`);
      try {
        const r = await cluster.api.switchover(opts.to);
        step.done();
        console.log(
          opts.json
            ? JSON.stringify(r, null, 2)
            : `${r.to} is the primary (was ${r.from}); clients waited ${(r.pausedMs / 1000).toFixed(1)} s in the paused pool, ${(r.totalMs / 1000).toFixed(1)} s in all.`,
        );
      } catch (e) {
        step.fail();
        throw e;
      }
    });
}

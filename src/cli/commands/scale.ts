import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import type { Cluster } from "../../core/cluster/cluster.js";
import type { Progress } from "../../core/progress.js";
import type { ReplicationStatus } from "../../core/supervisor/replication.js";
import { clusterFor } from "../context.js";
import { formatReplication } from "../format.js";
import { terminalProgress } from "../terminal-progress.js";

/** --replicas N: a whole number of 0 or more; commander turns the thrown error into a usage error (exit 2). */
export function parseCount(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`must be a whole number of 0 or more, not "${value}".`);
  return Number(value);
}

export async function scaleWithProgress(cluster: Cluster, replicas: number, progress: Progress): Promise<ReplicationStatus> {
  await cluster.status();
  const step = progress.step(`Scaling to ${replicas} replica(s) (a new replica copies the primary first)`);
  try {
    const r = await cluster.api.scale(replicas);
    step.done();
    return r;
  } catch (e) {
    step.fail();
    throw e;
  }
}

export function registerScale(program: Command): void {
  program
    .command("scale")
    .description("add or remove streaming replicas on this machine (Patroni); one is a synchronous standby by default")
    .requiredOption("--replicas <n>", "the number of replicas to run (0 or more)", parseCount)
    .option("--json", "print the nodes as JSON")
    .action(async (opts: { replicas: number; json?: boolean }, command: Command) => {
      const r = await scaleWithProgress(clusterFor(command), opts.replicas, terminalProgress());
      console.log(opts.json ? JSON.stringify(r, null, 2) : formatReplication({ replication: r }).join("\n") || "No replicas: node pg1 alone.");
    });
}

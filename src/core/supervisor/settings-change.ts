import { TuskError } from "../errors.js";
import { sleep } from "../processes/pid-file.js";
import type { TuskConfig } from "../config/config-file.js";
import type { ChangePlan } from "../config/config-change.js";
import { effectiveSettings } from "../config/effective-settings.js";
import type { HostFacts } from "../config/host-facts.js";
import type { Monitoring } from "../metrics/monitoring.js";
import type { BackupScheduler } from "./backup-scheduler.js";
import type { SupervisorContext } from "./context.js";
import { writePatroniConfig, writePgbackrestConfig } from "./node-setup.js";
import type { ReplicationStatus } from "./replication.js";
import type { Routing } from "./routing.js";
import { convergeSettings, restartNode } from "./settings.js";
import { switchover, withPoolPaused } from "./switchover.js";

export interface SettingsChangeParts {
  ctx: SupervisorContext;
  host: HostFacts;
  routing: Routing;
  scheduler: BackupScheduler;
  monitoring: Monitoring;
  replication: () => Promise<ReplicationStatus>;
}

/** What applying tusk.yaml live did. */
export interface SettingsChangeResult {
  plan: ChangePlan;
  /** Nodes restarted, in order; the primary's role moves to a replica first when there is one. */
  restarted: string[];
  /** Where the primary went for its own restart, if it moved. */
  switchedOver: { from: string; to: string } | null;
}

/** The refusal when tusk.yaml changes what a running cluster cannot change: nothing is applied. */
export function refusal(plan: ChangePlan): TuskError {
  const refused = plan.changes.filter((c) => c.how === "refused");
  return new TuskError("IncompatibleState", `tusk.yaml changes what cannot change on the running cluster, so nothing was applied:\n${refused.map((c) => `  ${c.sentence}`).join("\n")}`, {
    hint: "Put those keys back as they were to apply the rest now, or follow what each line says.",
  });
}

/**
 * Converges a running cluster on `wanted`: the files every process starts from, Patroni's
 * configuration (PostgreSQL reloads), PgBouncer (RELOAD), the backup schedule and monitoring; then,
 * when a setting needs it, a rolling restart: the replicas one at a time, a switchover to a replica
 * (the pool pauses, no client errors), and the old primary. A cluster without replicas restarts its
 * only node with the pool paused: clients wait for the restart instead of failing.
 */
export async function applySettingsChange(parts: SettingsChangeParts, wanted: TuskConfig, plan: ChangePlan, report: (progress: string) => void): Promise<SettingsChangeResult> {
  if (plan.refused) throw refusal(plan);
  const { ctx, routing } = parts;
  const result: SettingsChangeResult = { plan, restarted: [], switchedOver: null };
  let restartNeeded = false;
  if (plan.changes.length > 0) {
    ctx.log(`applying tusk.yaml: ${plan.changes.map((c) => c.sentence).join("; ")}`);
    ctx.config = wanted;
    ctx.settings = effectiveSettings(wanted, parts.host);
    for (const node of ctx.nodes.all) writePatroniConfig(ctx, node);
    writePgbackrestConfig(ctx);
    report("PostgreSQL and Patroni settings");
    const converged = await convergeSettings(ctx);
    if (plan.changes.some((c) => c.key.startsWith("pgbouncer."))) {
      report("PgBouncer settings");
      await routing.retargetPooler();
    }
    if (plan.changes.some((c) => c.key.startsWith("backups."))) await parts.scheduler.reschedule();
    if (plan.changes.some((c) => c.key.startsWith("monitoring.") || c.key === "alerts")) await parts.monitoring.reconfigure(wanted);
    restartNeeded = converged.restartNeeded;
  }
  const restarts = await restartPending({ ctx, routing, replication: parts.replication }, restartNeeded ? ctx.nodes.all.length : 0, report);
  if (restarts.restarted.length > 0) ctx.log(`tusk.yaml applied; restarted ${restarts.restarted.join(", ")}`);
  return { ...result, ...restarts };
}

/**
 * Restarts every node Patroni reports "pending restart" (also those an earlier, interrupted change
 * left), waiting up to 15 s for `expected` of them: the replicas one at a time, then the primary —
 * after a switchover to a replica when there is one (the pool pauses, no client errors), else with
 * the pool paused, so that clients wait for the restart instead of failing.
 */
export async function restartPending(
  parts: Pick<SettingsChangeParts, "ctx" | "routing" | "replication">,
  expected: number,
  report: (progress: string) => void,
): Promise<Pick<SettingsChangeResult, "restarted" | "switchedOver">> {
  const { ctx, routing } = parts;
  const result: Pick<SettingsChangeResult, "restarted" | "switchedOver"> = { restarted: [], switchedOver: null };
  const pending = await pendingNodes(routing, expected);
  for (const replica of ctx.nodes.replicas.filter((n) => pending.has(n.name))) {
    report(`restarting replica ${replica.name}`);
    await restartNode(ctx, replica.name);
    result.restarted.push(replica.name);
  }
  const old = ctx.nodes.primary;
  if (!pending.has(old)) return result;
  if (ctx.nodes.replicas.length > 0) {
    report(`switching over from ${old}`);
    const moved = await switchover(ctx, routing, parts.replication, undefined);
    result.switchedOver = { from: moved.from, to: moved.to };
    report(`restarting ${old}, now a replica`);
    // Its demotion restarts it as a replica, often with the new settings already: then nothing is left to do.
    if (await stillPending(routing, old)) await restartNode(ctx, old);
  } else {
    report(`restarting ${old} with the pool paused`);
    await withPoolPaused(ctx, () => restartNode(ctx, old));
  }
  result.restarted.push(old);
  return result;
}

/** Whether a node still needs a restart once it runs again (as a replica after a switchover), waiting up to a minute for it to run. */
async function stillPending(routing: Routing, name: string): Promise<boolean> {
  for (let i = 0; i < 120; i++) {
    const member = (await routing.clusterView())?.find((m) => m.name === name);
    if (member && ["running", "streaming"].includes(member.state)) return member.pending_restart === true;
    await sleep(500);
  }
  return true;
}

/**
 * The nodes Patroni reports "pending restart". Patroni notices a changed parameter on its next loop
 * (loop_wait), each node on its own: when `expected` nodes should be pending, waits up to 15 s for
 * all of them.
 */
async function pendingNodes(routing: Routing, expected: number): Promise<Set<string>> {
  let pending = new Set<string>();
  for (let i = 0; i < 30; i++) {
    pending = new Set(((await routing.clusterView()) ?? []).filter((m) => m.pending_restart).map((m) => m.name));
    if (pending.size >= expected) break;
    await sleep(500);
  }
  return pending;
}

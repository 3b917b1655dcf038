import { TuskError } from "../errors.js";
import { needsRestart } from "../config/postgres-settings.js";
import { dcsSettings } from "../generate/patroni-config.js";
import { clusterConfig, patchConfig, patroniNode, restartPostgres } from "../processes/patroni.js";
import { sleep } from "../processes/pid-file.js";
import type { SupervisorContext } from "./context.js";
import { clusterParameters, patroniAuth } from "./node-setup.js";

/** What converging Patroni's configuration changed. */
export interface SettingsConvergence {
  /** Patroni's own settings changed (timing, synchronous mode). */
  patroni: string[];
  /** PostgreSQL parameters changed, set or removed. */
  parameters: string[];
  /** Whether one of them takes effect only after a restart. */
  restartNeeded: boolean;
}

/**
 * Converges Patroni's cluster-wide configuration in etcd with the configuration in force: timing,
 * synchronous mode and the tuned parameters. Patroni reloads every node; a parameter that needs a
 * restart leaves the nodes "pending restart" (the caller restarts them, see restartPending).
 */
export async function convergeSettings(ctx: SupervisorContext): Promise<SettingsConvergence> {
  const port = ctx.nodes.primaryNode.ports.patroni;
  const auth = patroniAuth(ctx);
  const dcs = await clusterConfig(port);
  const keys = Object.entries(dcsSettings(ctx.config)).filter(([k, v]) => dcs[k] !== v);
  if (keys.length > 0) {
    ctx.log(`changing Patroni settings: ${keys.map(([k, v]) => `${k}=${v}`).join(", ")}`);
    await patchConfig(port, auth, Object.fromEntries(keys));
  }
  const desired = clusterParameters(ctx);
  const current = dcs.postgresql?.parameters ?? {};
  const changes: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(desired)) if (normalizeParameter(current[k]) !== normalizeParameter(v)) changes[k] = v;
  for (const k of Object.keys(current)) if (!(k in desired)) changes[k] = null;
  const parameters = Object.keys(changes);
  if (parameters.length > 0) {
    ctx.log(`changing parameters: ${parameters.join(", ")}`);
    await patchConfig(port, auth, { postgresql: { parameters: changes } });
  }
  return { patroni: keys.map(([k]) => k), parameters, restartNeeded: parameters.some(needsRestart) };
}

/** Patroni applies a change on its next loop and then reports that a restart is pending: waits for that, up to 15 s. */
export async function pendingRestart(port: number, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await sleep(1000);
    if ((await patroniNode(port))?.pending_restart) return true;
  }
  return false;
}

/** Restarts one node's PostgreSQL through its Patroni and waits until it runs again in the role it had. */
export async function restartNode(ctx: SupervisorContext, name: string, timeoutMs = 180_000): Promise<void> {
  const node = ctx.nodes.node(name);
  if (!node) return;
  const deadline = Date.now() + timeoutMs;
  // A node that has just been demoted by a switchover answers 503 until it runs as a replica.
  let before = await patroniNode(node.ports.patroni);
  for (;;) {
    try {
      await restartPostgres(node.ports.patroni, patroniAuth(ctx));
      break;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      ctx.log(`${name} cannot restart yet (${(e as Error).message}); asking again`);
      await sleep(1000);
      before = await patroniNode(node.ports.patroni);
    }
  }
  for (;;) {
    const now = await patroniNode(node.ports.patroni);
    if (now?.state === "running" && now.role === (before?.role ?? now.role) && !now.pending_restart) return;
    if (Date.now() > deadline) throw new TuskError("Timeout", `${name} did not come back within ${timeoutMs / 1000} s after a restart for new settings.`, { hint: `See ${ctx.paths.logDir}.` });
    await sleep(500);
  }
}

/** Patroni stores on/off as booleans and numbers as numbers: compare as PostgreSQL would read them. */
export function normalizeParameter(v: unknown): string {
  const text = String(v).trim();
  const lower = text.toLowerCase();
  if (lower === "true" || lower === "on") return "on";
  if (lower === "false" || lower === "off") return "off";
  return text;
}

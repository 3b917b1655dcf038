import { nodePaths } from "../cluster/nodes.js";
import { etcdReady } from "../processes/etcd.js";
import { stopOrphanPostmaster } from "../processes/leftovers.js";
import { patroniNode } from "../processes/patroni.js";
import { portAccepts } from "../processes/pgbouncer.js";
import { backupServerReady } from "./backup-server.js";
import { nodeOfChild, patroniChild, type ChildName, type Children } from "./children.js";
import type { SupervisorContext } from "./context.js";
import type { Routing } from "./routing.js";

/**
 * Adopts what a previous supervisor left serving (children.ts checks each by PID file, start time,
 * command line and an answer on its port), stops the rest of its processes and any postmaster
 * left without its Patroni, and routes writes to the leader Patroni names now: it may have moved
 * while no supervisor watched. The same on the first host, a data host and a witness.
 */
export async function adoptLeftRunning(ctx: SupervisorContext, children: Children, routing: Routing | undefined): Promise<ChildName[]> {
  const { adopted } = await children.adoptRunning((name) => serves(ctx, name));
  for (const node of ctx.nodes.all) {
    if (!children.running(patroniChild(node.name))) await stopOrphanPostmaster(nodePaths(ctx.paths, node.name).dataDir, ctx.pgUser, ctx.log);
  }
  // An adopted Patroni rereads patroni.yml (SIGHUP): a new release's callbacks, written before.
  for (const name of adopted.filter((n) => n.startsWith("patroni"))) {
    const pid = children.get(name)?.pid;
    if (pid !== undefined) process.kill(pid, "SIGHUP");
  }
  if (routing && adopted.some((n) => n.startsWith("patroni"))) await routing.followLeader();
  return adopted;
}

/** Whether a child left running answers as it should, so that it can be adopted. */
async function serves(ctx: SupervisorContext, name: ChildName): Promise<boolean> {
  const { ports } = ctx.config;
  if (name === "etcd") return etcdReady(ctx.config);
  if (name === "pgbouncer") return portAccepts(ports.pooler);
  if (name === "haproxy") return (await portAccepts(ports.readonly)) && portAccepts(ports.direct);
  if (name === "pgbackrest-server") return backupServerReady(ctx);
  const node = ctx.nodes.node(nodeOfChild(name));
  return node !== undefined && (await patroniNode(node.ports.patroni)) !== undefined;
}

import { join } from "node:path";
import { EtcdMembers } from "../network/etcd-members.js";
import { etcdReady } from "../processes/etcd.js";
import { patroniNode } from "../processes/patroni.js";
import { ensureDir } from "../state-dir.js";
import { patroniChild, type Children } from "./children.js";
import { pgOwner, type SupervisorContext } from "./context.js";
import { decideDataHost, type DataHostState, type Decision, type RoutingState } from "./decide.js";
import type { Routing } from "./routing.js";
import { prepareNodeDirs, writePatroniConfig, writePgbackrestConfig } from "./node-setup.js";
import { serveBackupServer } from "./backup-server.js";
import { adoptLeftRunning } from "./adoption.js";
import { etcdCaughtUp, etcdSelf } from "./witness.js";

/**
 * A data host that joined the cluster: it runs etcd (a member of the cluster's, a learner first) and
 * one PostgreSQL node under Patroni, named after the host. Patroni finds the cluster's leader in
 * etcd and makes the node a replica of it (pg_basebackup over TLS from the leader's address, as the
 * replication role, which pg_hba admits from the cluster's data hosts); from then on it is a member
 * like any other, so it can be promoted when the first host is lost. It serves the cluster's
 * endpoints as the first host does (PgBouncer and HAProxy's read-only and direct endpoints), routed
 * to the leader wherever it runs, so a client's multi-host connection string works through any data
 * host. Its start-up adopts what a previous supervisor left running, starts etcd, waits until it has
 * the cluster's log, starts Patroni and waits for a running replica, then the endpoints; its watch
 * restarts what exits and follows the leader.
 */
export class DataHost {
  private readonly etcd: EtcdMembers;

  constructor(
    private readonly ctx: SupervisorContext,
    private readonly children: Children,
    private readonly routing: Routing,
  ) {
    this.etcd = EtcdMembers.local(ctx.config.ports.etcd_client);
  }

  async start(step: <T>(label: string, work: () => Promise<T>) => Promise<T>): Promise<void> {
    const { ctx, children } = this;
    const node = ctx.nodes.primaryNode;
    const first = ctx.network!.hosts[0]!;
    await step("Preparing configuration", async () => this.prepare());
    const left = children.leftRunning();
    if (left.length > 0) await step(`Adopting the processes a previous supervisor left running (${left.join(", ")})`, () => adoptLeftRunning(ctx, children, this.routing));
    if (!children.running("etcd")) await step(`Starting etcd, a member of the cluster of ${first.name} (${first.address})`, () => children.start("etcd", () => etcdReady(ctx.config), 30_000));
    await step("Receiving the cluster's etcd log", () => etcdCaughtUp(ctx, this.etcd));
    if (!children.running(patroniChild(node.name))) {
      await step(`Starting PostgreSQL ${node.name} under Patroni: a replica of the cluster's leader (a first start copies it)`, () => children.startReplica(node));
    }
    const { routing } = this;
    await step("Finding the cluster's leader", async () => {
      for (const m of (await routing.clusterView()) ?? []) await routing.haproxy.serveRemoteNode(m);
      await routing.followLeader();
    });
    const where = () => (routing.remote ? `${routing.remote.name} on ${routing.remote.host}` : node.name);
    if (!children.running("pgbouncer")) await step(`Starting PgBouncer, routed to the primary ${where()}`, () => routing.startPgbouncer());
    if (!children.running("haproxy")) await step("Starting HAProxy (read-only and direct endpoints over the cluster's nodes)", () => routing.haproxy.start());
    if (!children.running("pgbackrest-server")) await step(`Serving this host's node to the backups ${first.name} takes (pgBackRest's TLS server)`, () => serveBackupServer(ctx, children));
  }

  /** Directories, pgBackRest's file (archive and restore commands name it; the repository is the first host's) and the node's patroni.yml. */
  private prepare(): void {
    const { ctx } = this;
    const pg = pgOwner(ctx);
    ensureDir(ctx.paths.root, 0o755);
    ensureDir(ctx.paths.runDir, 0o755);
    ensureDir(ctx.paths.logDir, 0o755);
    ensureDir(ctx.paths.etcdDataDir, 0o700, { uid: ctx.etcdOsUser.uid, gid: ctx.etcdOsUser.gid });
    ensureDir(ctx.paths.pgbouncerDir, 0o700, pg);
    ensureDir(ctx.paths.haproxyDir, 0o700, pg);
    for (const dir of [ctx.paths.pgbackrestDir, join(ctx.paths.logDir, "pgbackrest"), join(ctx.paths.runDir, "pgbackrest")]) ensureDir(dir, 0o700, pg);
    const node = ctx.nodes.primaryNode;
    prepareNodeDirs(ctx, node);
    writePgbackrestConfig(ctx);
    writePatroniConfig(ctx, node);
  }

  async observe(routing: RoutingState): Promise<DataHostState> {
    const node = this.ctx.nodes.primaryNode;
    const [etcd, patroni] = await Promise.all([etcdSelf(this.etcd), patroniNode(node.ports.patroni, 1000)]);
    return {
      ...routing,
      at: Date.now(),
      children: this.children.observe(),
      etcd,
      node: node.name,
      patroni: patroni && { role: patroni.role ?? "unknown", state: patroni.state ?? "unknown", timeline: patroni.timeline },
    };
  }

  /** `routing`: Patroni's members and where this host routes, observed by the supervisor. */
  async decide(routing: RoutingState): Promise<Decision[]> {
    return decideDataHost(await this.observe(routing));
  }
}

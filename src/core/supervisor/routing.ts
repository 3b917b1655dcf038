import { clearRemotePrimary, writeRemotePrimary } from "../cluster/remote-primary.js";
import { TuskError } from "../errors.js";
import { recordRoleChange } from "../cluster/history.js";
import { pgbouncerHba, pgbouncerIni, pgbouncerUserlist } from "../generate/pgbouncer-config.js";
import { patroniCluster, type PatroniClusterView, type PatroniMember } from "../processes/patroni.js";
import { portAccepts } from "../processes/pgbouncer.js";
import { sleep } from "../processes/pid-file.js";
import { scramVerifiers, withSuperuser } from "../provision/provision.js";
import { writeAtomic } from "../state-dir.js";
import type { Children } from "./children.js";
import { HaproxyEndpoints } from "./haproxy-endpoints.js";
import { pgOwner, type SupervisorContext } from "./context.js";
import { cutClientsOf, pausePool, poolerAdmin, resumePool } from "./replication.js";
import { remoteNodeInRecovery } from "../cluster/remote-node.js";

/** Where a host routes writes, its own nodes and the other hosts' nodes its HAProxy serves (decide.ts reads it as part of RoutingState). */
export interface RoutedWhere {
  routedTo: string;
  routedToHost: string | null;
  localNodes: string[];
  remoteServed: string[];
}

/**
 * Where clients' connections go: PgBouncer (the pooled endpoint, its files and RELOAD here) and
 * HAProxy's direct endpoint (haproxy-endpoints.ts) send writes to the primary, HAProxy's read-only
 * endpoint to the replicas. Follows Patroni's leader, on this host or another, pausing the pool
 * while a promoted node leaves recovery.
 */
export class Routing {
  /** Patroni's members as last seen. */
  members: PatroniMember[] = [];
  /** When the watch last saw the primary running as primary: the start of a failover's outage. */
  primaryHealthyAt: number | undefined;
  /** A planned switchover is moving the primary: the role change it causes is not a failover. */
  plannedMove = false;
  /**
   * The leader when it is a node of another host (a data host that joined): PgBouncer sends writes
   * to its address over TLS verified against the cluster's CA. Undefined while the leader is a node
   * of this host.
   */
  remote: { name: string; host: string; port: number } | undefined;
  /** HAProxy's read-only and direct endpoints over this host's nodes and the other hosts' (haproxy-endpoints.ts). */
  readonly haproxy: HaproxyEndpoints;
  private following = false;
  private followAgain = false;

  constructor(
    private readonly ctx: SupervisorContext,
    private readonly children: Children,
  ) {
    this.haproxy = new HaproxyEndpoints(ctx, children, () => this.remote?.name);
  }

  /**
   * Finds the leader in Patroni's view of the cluster and, when it has moved, points PgBouncer at it
   * (RELOAD: no pooled server connection to the old primary is reused) and the direct endpoint. Called by
   * Patroni's role-change callback at once and by the one-second watch as a fallback. A call while
   * a round runs makes it run once more right after, so a callback is never lost.
   */
  async followLeader(): Promise<void> {
    if (this.following) {
      this.followAgain = true;
      return;
    }
    this.following = true;
    try {
      do {
        this.followAgain = false;
        await this.followOnce();
      } while (this.followAgain);
    } finally {
      this.following = false;
    }
  }

  /**
   * Every node's Patroni at once, and the first answer naming a running leader wins: the node that
   * was primary may be the one not answering, and waiting for its timeout would delay routing. A
   * node that answers without a running leader (the promotion is still under way) is asked again
   * every 100 ms for up to a second, instead of waiting for the silent node's timeout.
   */
  async clusterView(): Promise<PatroniMember[] | undefined> {
    const runningLeader = (v: PatroniClusterView | undefined) => v?.members.some((m) => m.role === "leader" && m.state === "running") ?? false;
    const deadline = Date.now() + 1000;
    let found: PatroniClusterView | undefined;
    let latest: PatroniClusterView | undefined;
    const ask = async (port: number): Promise<void> => {
      while (!found) {
        const v = await patroniCluster(port, Math.max(100, deadline - Date.now()));
        if (v) latest = v;
        if (runningLeader(v)) found ??= v;
        if (found || Date.now() >= deadline) return;
        await sleep(100);
      }
    };
    const nodes = this.ctx.nodes.all;
    await new Promise<void>((resolve) => {
      let pending = nodes.length;
      if (pending === 0) resolve();
      for (const n of nodes) {
        void ask(n.ports.patroni).finally(() => {
          if (found || --pending === 0) resolve();
        });
      }
    });
    const members = (found ?? latest)?.members;
    if (members) this.members = members;
    return members;
  }

  private async followOnce(): Promise<void> {
    const members = await this.clusterView();
    if (!members) return;
    const { nodes, log } = this.ctx;
    const leader = members.find((m) => m.role === "leader" && m.state === "running");
    if (!leader) return;
    if (!nodes.has(leader.name)) return this.routeToAnotherHost(leader);
    const wasRemote = this.remote;
    this.remote = undefined;
    if (wasRemote) clearRemotePrimary(this.ctx.paths);
    if (leader.name === nodes.primary) {
      if (wasRemote) {
        log(`primary moved from ${wasRemote.name} (another host) to ${leader.name}: PgBouncer and the direct endpoint send writes to port ${nodes.primaryNode.ports.postgres} again`);
        await this.retargetOnceWritable(leader.name, { host: wasRemote.host, port: wasRemote.port });
      }
      return;
    }
    const from = nodes.primary;
    const fromPort = nodes.primaryNode.ports.postgres;
    nodes.routeTo(leader.name);
    log(`primary moved from ${from} to ${leader.name}: PgBouncer and the direct endpoint now send writes to port ${nodes.primaryNode.ports.postgres}`);
    await this.retargetOnceWritable(leader.name, { host: "127.0.0.1", port: fromPort });
    if (this.plannedMove) return;
    const oldPort = nodes.node(from)?.ports.postgres;
    const cut =
      oldPort === undefined
        ? 0
        : await poolerAdmin(this.ctx.config, this.ctx.paths, (c) => cutClientsOf(c, oldPort)).catch((e) => {
            log(`could not cut the clients stuck on ${from}: ${(e as Error).message}`);
            return 0;
          });
    if (cut > 0) log(`cut ${cut} client(s) whose transaction was on ${from}; they reconnect to ${leader.name}`);
    const seen = this.primaryHealthyAt;
    recordRoleChange(this.ctx.paths, { at: new Date().toISOString(), kind: "failover", from, to: leader.name, timeline: leader.timeline ?? null, outageMs: seen ? Date.now() - seen : null });
  }

  /**
   * The leader is a node of another host: PgBouncer sends writes to its address (over TLS, the
   * node's certificate verified), and the direct endpoint to its server in HAProxy.
   */
  private async routeToAnotherHost(leader: PatroniMember): Promise<void> {
    const target = { name: leader.name, host: leader.host, port: leader.port };
    if (this.remote && this.remote.name === target.name && this.remote.host === target.host && this.remote.port === target.port) return;
    const from = this.remote?.name ?? this.ctx.nodes.primary;
    const old = this.remote ? { host: this.remote.host, port: this.remote.port } : { host: "127.0.0.1", port: this.ctx.nodes.primaryNode.ports.postgres };
    this.remote = target;
    // Where the first host's backups reach it: its host's state directory names its files there.
    const stateDir = this.ctx.network?.hosts.find((h) => h.address === leader.host)?.stateDir;
    if (stateDir) writeRemotePrimary(this.ctx.paths, { ...target, stateDir });
    else clearRemotePrimary(this.ctx.paths);
    this.ctx.log(`primary moved from ${from} to ${leader.name}, a node of another host: PgBouncer (over TLS) and the direct endpoint now send writes to ${target.host}:${target.port}`);
    await this.haproxy.serveRemoteNode(leader);
    // In a failover, writes wait (the pool paused) until the promoted node has left recovery; one
    // that does not answer here is not waited for.
    if (!this.plannedMove && this.children.running("pgbouncer") && (await this.remoteInRecovery(leader.name)) === true) await this.routePaused(leader.name, old);
    else await Promise.all([this.retargetPooler(), this.haproxy.retarget()]);
  }

  /**
   * PgBouncer and the direct endpoint follow a node of this host that Patroni just named leader.
   * Patroni names the leader as it asks PostgreSQL to promote, and a write routed before recovery
   * has ended fails as read-only (seen in the node-loss and host-loss benchmarks). A node already
   * writable is routed to at once. In a failover, one still in recovery is routed to with the pool
   * paused: the clients whose transaction was on the old primary (`old`, gone or demoted) are cut,
   * and new transactions wait until recovery ends (at most 15 s) instead of failing. In a planned
   * switchover the pool is paused already: the routing waits up to 2 s, then follows it anyway.
   */
  private async retargetOnceWritable(node: string, old: { host: string; port: number }): Promise<void> {
    const { ctx } = this;
    if (this.plannedMove || !this.children.running("pgbouncer") || (await this.writable(node))) {
      await this.waitForWritable(node, Date.now() + 2000).catch((e) => ctx.log(`${(e as Error).message} Routing to it anyway.`));
      await Promise.all([this.retargetPooler(), this.haproxy.retarget()]);
      return;
    }
    await this.routePaused(node, old);
  }

  /**
   * Routes to `node`, still in recovery, with the pool paused until it has left it (at most 15 s).
   * The pause is asked for first, so no transaction starts on `node` while it is read-only; the
   * clients whose transaction was on `old` are cut meanwhile, or the pause would wait for them.
   */
  private async routePaused(node: string, old: { host: string; port: number }): Promise<void> {
    const { ctx } = this;
    const started = Date.now();
    // Settled into a value at once: a refusal must not be an unhandled rejection while the cut runs.
    const pausing = pausePool(ctx).then(
      () => undefined,
      (e: Error) => e,
    );
    const cut = await poolerAdmin(ctx.config, ctx.paths, (c) => cutClientsOf(c, old.port, old.host)).catch(() => 0);
    const refused = await pausing;
    if (refused) {
      ctx.log(`could not pause the pool while ${node} leaves recovery (${refused.message}): writes meanwhile may fail as read-only`);
      await Promise.all([this.retargetPooler(), this.haproxy.retarget()]);
      return;
    }
    try {
      await Promise.all([this.retargetPooler(), this.haproxy.retarget()]);
      await this.waitForWritable(node, Date.now() + 15_000);
    } catch (e) {
      ctx.log(`${(e as Error).message} Resuming the pool anyway.`);
    } finally {
      await resumePool(ctx);
    }
    ctx.log(
      `${node} left recovery: the pool was paused ${Date.now() - started} ms meanwhile, so new transactions waited instead of failing as read-only${cut > 0 ? `; cut ${cut} client(s) whose transaction was on the old primary` : ""}`,
    );
  }

  /** The node PgBouncer and the direct endpoint send writes to: this host's primary, or the leader on another host. */
  get writesTo(): string {
    return this.remote?.name ?? this.ctx.nodes.primary;
  }

  /** Where this host routes writes, its own nodes and the other hosts' nodes it serves (the routing part of the watch's state). */
  where(): RoutedWhere {
    const { nodes } = this.ctx;
    return { routedTo: this.remote?.name ?? nodes.primary, routedToHost: this.remote?.host ?? null, localNodes: nodes.all.map((n) => n.name), remoteServed: this.haproxy.served };
  }

  /** Patroni's members as this host's nodes see them, and `where` (a joined data host's state). */
  async state(): Promise<RoutedWhere & { members: PatroniMember[] }> {
    return { members: (await this.clusterView()) ?? this.members, ...this.where() };
  }

  /** PgBouncer's file for the primary as routed now. */
  private poolerIni(): string {
    const { config, paths, settings, nodes } = this.ctx;
    return this.remote ? pgbouncerIni(config, paths, settings.pgbouncer, this.remote.port, this.remote.host) : pgbouncerIni(config, paths, settings.pgbouncer, nodes.primaryNode.ports.postgres);
  }

  /**
   * Whether `node` has left recovery: this host's node asked as the superuser on loopback, another
   * host's as the rewind role over TLS (remote-node.ts). Not answering counts as still in recovery.
   */
  async writable(node: string): Promise<boolean> {
    if (!this.ctx.nodes.has(node)) return (await this.remoteInRecovery(node)) === false;
    const inRecovery = await withSuperuser(this.ctx.config, this.ctx.paths, async (c) => (await c.query<{ r: boolean }>("SELECT pg_is_in_recovery() AS r")).rows[0]?.r ?? true, {
      timeoutMs: 2000,
    }).catch(() => true);
    return !inRecovery;
  }

  /** Whether another host's node is in recovery; undefined when it does not answer. */
  private async remoteInRecovery(node: string): Promise<boolean | undefined> {
    const m = this.members.find((x) => x.name === node);
    return m && this.ctx.network ? remoteNodeInRecovery(this.ctx.paths, m.host, m.port) : undefined;
  }

  /** Waits until the routed primary has left recovery, so a resumed client's write does not fail as read-only. */
  async waitForWritable(node: string, deadline: number): Promise<void> {
    while (!(await this.writable(node))) {
      if (Date.now() > deadline) throw new TuskError("Timeout", `${node} was named primary but PostgreSQL did not leave recovery in time.`, { hint: `See ${this.ctx.paths.logDir}.` });
      await sleep(50);
    }
  }

  /** PgBouncer's files: the primary's port and the settings in force, and the users' SCRAM verifiers. */
  async writePgbouncerFiles(): Promise<void> {
    const { config, paths } = this.ctx;
    writeAtomic(paths.pgbouncerIni, this.poolerIni(), 0o600, pgOwner(this.ctx));
    writeAtomic(paths.pgbouncerUsers, pgbouncerUserlist(await scramVerifiers(config, paths)), 0o600, pgOwner(this.ctx));
    writeAtomic(paths.pgbouncerHba, pgbouncerHba(config.listen_address), 0o600, pgOwner(this.ctx));
  }

  async startPgbouncer(): Promise<void> {
    await this.writePgbouncerFiles();
    await this.children.start("pgbouncer", () => portAccepts(this.ctx.config.ports.pooler), 20_000);
  }

  /** PgBouncer rereads its file: a new primary, or new settings; `users` also rewrites its auth file (an adopted PgBouncer). */
  async retargetPooler(users = false): Promise<void> {
    if (!this.children.running("pgbouncer")) return; // not started yet: it starts with the right target
    const { config, paths } = this.ctx;
    if (users) await this.writePgbouncerFiles();
    else writeAtomic(paths.pgbouncerIni, this.poolerIni(), 0o600, pgOwner(this.ctx));
    // RELOAD alone: PgBouncer tags every server connection of a database whose port changed to be
    // closed (as RECONNECT does). A RECONNECT after it also closed the first logins to the new
    // primary, and server_login_retry added a second to the outage.
    await poolerAdmin(config, paths, (c) => c.query("RELOAD"));
  }

  /** PgBouncer stopped and started from its files (a listen address changed: RELOAD cannot bind it). */
  async restartPgbouncer(): Promise<void> {
    await this.children.retire("pgbouncer");
    await this.startPgbouncer();
  }
}

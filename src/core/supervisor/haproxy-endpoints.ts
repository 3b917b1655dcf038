import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { NodeInfo } from "../cluster/nodes.js";
import { haproxyConfig, type HaproxyServer, type PatroniCheckTls } from "../generate/haproxy-config.js";
import { addServer, removeServer, replaceCertificate, routeDirect } from "../processes/haproxy-runtime.js";
import type { PatroniMember } from "../processes/patroni.js";
import { portAccepts } from "../processes/pgbouncer.js";
import { writeAtomic } from "../state-dir.js";
import { clusterCa } from "../tls/cluster-ca.js";
import type { Children } from "./children.js";
import { pgOwner, type SupervisorContext } from "./context.js";
import { patroniRestTls } from "./node-setup.js";

/**
 * HAProxy's read-only and direct endpoints: its file for the next start, and changes at run time
 * through its admin socket (a node added or removed, the direct endpoint moved, the check
 * certificate replaced), so the sessions of every other node go on; when HAProxy refuses a change,
 * it is restarted from the file. It serves this host's nodes and, once converted, the other hosts'
 * (their Patroni checked over TLS with this host's certificate). The direct endpoint sends sessions
 * to the leader, also when it is another host's node (`remoteLeader`, routing.ts).
 */
export class HaproxyEndpoints {
  /** Other hosts' nodes HAProxy serves beside this host's, by name. */
  private readonly remoteNodes = new Map<string, HaproxyServer>();

  constructor(
    private readonly ctx: SupervisorContext,
    private readonly children: Children,
    /** The leader's name when it is a node of another host. */
    private readonly remoteLeader: () => string | undefined,
  ) {}

  /** The names of the other hosts' nodes HAProxy serves. */
  get served(): string[] {
    return [...this.remoteNodes.keys()];
  }

  /** A removed host's nodes leave HAProxy's backends. */
  async forgetNodesOn(address: string): Promise<void> {
    const gone = [...this.remoteNodes.values()].filter((s) => s.host === address);
    if (gone.length === 0) return;
    for (const s of gone) this.remoteNodes.delete(s.name);
    this.writeConfig();
    if (!this.children.running("haproxy")) return;
    try {
      for (const s of gone) await removeServer(this.ctx.paths.haproxyStatsSocket, s.name);
    } catch (e) {
      this.ctx.log(`could not remove ${gone.map((s) => s.name).join(", ")} through HAProxy's socket (${(e as Error).message}); restarting HAProxy`);
      await this.restart();
    }
  }

  /**
   * A node of another host (a Patroni member that is not this host's) joins HAProxy's backends: its
   * replicas serve the read-only endpoint like local ones, and the direct endpoint can reach it when
   * it leads. Once served it stays (its host lost, its checks fail) until this supervisor restarts.
   */
  async serveRemoteNode(member: PatroniMember): Promise<void> {
    const rest = this.patroniCheckTls();
    if (!rest || this.ctx.nodes.has(member.name)) return;
    const apiPort = Number(member.api_url ? new URL(member.api_url).port : Number.NaN);
    const server: HaproxyServer = {
      name: member.name,
      host: member.host,
      ports: { postgres: member.port, patroni: Number.isInteger(apiPort) && apiPort > 0 ? apiPort : this.ctx.config.ports.patroni },
    };
    const known = this.remoteNodes.get(member.name);
    if (known && known.host === server.host && known.ports.postgres === server.ports.postgres && known.ports.patroni === server.ports.patroni) return;
    this.remoteNodes.set(member.name, server);
    this.ctx.log(`HAProxy serves ${member.name}, a node of another host (${server.host}:${server.ports.postgres}), in the read-only and direct endpoints`);
    this.writeConfig();
    if (!this.children.running("haproxy")) return;
    try {
      if (known) await removeServer(this.ctx.paths.haproxyStatsSocket, member.name);
      await addServer(this.ctx.paths.haproxyStatsSocket, server, rest);
    } catch (e) {
      this.ctx.log(`could not add ${member.name} through HAProxy's socket (${(e as Error).message}); restarting HAProxy`);
      await this.restart();
    }
  }

  /** Every node HAProxy serves: this host's, then the other hosts'. */
  private get servers(): HaproxyServer[] {
    return [...this.ctx.nodes.all, ...this.remoteNodes.values()];
  }

  /** The node the direct endpoint sends sessions to: the leader, also when it is another host's. */
  private get directTo(): string {
    const remote = this.remoteLeader();
    return remote && this.remoteNodes.has(remote) ? remote : this.ctx.nodes.primary;
  }

  /** HAProxy's file, for its next start: the current nodes, the direct endpoint on the current primary. */
  private writeConfig(): void {
    const { config, paths } = this.ctx;
    writeAtomic(paths.haproxyConfig, haproxyConfig(config, this.servers, this.directTo, paths.haproxyStatsSocket, this.patroniCheckTls()), 0o644, pgOwner(this.ctx));
  }

  /** Converted for the network: HAProxy checks Patroni over TLS with this host's certificate, kept beside its file (owner-only). */
  private patroniCheckTls(): PatroniCheckTls | undefined {
    const rest = patroniRestTls(this.ctx);
    if (!rest) return undefined;
    const clientPem = join(this.ctx.paths.haproxyDir, "patroni-client.pem");
    writeAtomic(clientPem, `${rest.cert.toString().trimEnd()}\n${rest.key.toString().trimEnd()}\n`, 0o600, pgOwner(this.ctx));
    return { address: rest.address, caFile: clusterCa(this.ctx.paths).cert, clientPem };
  }

  /** HAProxy's client certificate for its Patroni checks follows a renewed host certificate: replaced at run time, or HAProxy restarts if it refuses. */
  async refreshCheckCertificate(): Promise<void> {
    const rest = this.patroniCheckTls();
    if (!rest || !this.children.running("haproxy")) return;
    try {
      await replaceCertificate(this.ctx.paths.haproxyStatsSocket, rest.clientPem, readFileSync(rest.clientPem, "utf8"));
    } catch (e) {
      this.ctx.log(`${(e as Error).message}; restarting HAProxy`);
      await this.restart();
    }
  }

  /** HAProxy serves the read-only and the direct endpoints. */
  async start(): Promise<void> {
    this.writeConfig();
    const { ports } = this.ctx.config;
    await this.children.start("haproxy", async () => (await portAccepts(ports.readonly)) && portAccepts(ports.direct), 20_000);
    await this.routeDirect(false); // the primary may have moved while it started
  }

  /** Points the direct endpoint at the current primary at once (on Patroni's callback, beside PgBouncer's RELOAD). */
  async retarget(): Promise<void> {
    this.writeConfig();
    await this.routeDirect();
  }

  /**
   * Through HAProxy's admin socket. If HAProxy refuses, it is restarted from the file, which names
   * the primary, unless it has just started from it (no restart loop).
   */
  private async routeDirect(restartOnFailure = true): Promise<void> {
    if (!this.children.running("haproxy")) return; // not started yet, or restarting: it starts from the file
    try {
      await routeDirect(
        this.ctx.paths.haproxyStatsSocket,
        this.servers.map((n) => n.name),
        this.directTo,
      );
    } catch (e) {
      this.ctx.log(`could not route the direct endpoint through HAProxy's socket (${(e as Error).message})${restartOnFailure ? "; restarting HAProxy" : ""}`);
      if (restartOnFailure) await this.restart();
    }
  }

  async restart(): Promise<void> {
    if (!this.children.supervised("haproxy")) return; // not started yet: it starts with the current nodes
    await this.children.retire("haproxy");
    await this.start();
  }

  /**
   * A node joins or leaves HAProxy's backends through its admin socket, so the sessions of every
   * other node (direct writers on the primary, readers on the other replicas) go on. The file is
   * rewritten for the next start; if HAProxy refuses the change, it is restarted from the file.
   */
  async updateNodes(change: { added: NodeInfo } | { removed: string }): Promise<void> {
    this.writeConfig();
    if (!this.children.running("haproxy")) return;
    try {
      if ("added" in change) await addServer(this.ctx.paths.haproxyStatsSocket, change.added, this.patroniCheckTls());
      else await removeServer(this.ctx.paths.haproxyStatsSocket, change.removed);
    } catch (e) {
      this.ctx.log(`could not change HAProxy's nodes through its socket (${(e as Error).message}); restarting HAProxy`);
      await this.restart();
    }
  }
}

import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { freemem } from "node:os";
import { TuskError } from "../errors.js";
import { MAX_REPLICAS } from "../config/config-file.js";
import { asRecord } from "../config/effective-settings.js";
import { MiB, parseMemory } from "../config/units.js";
import { FIRST_NODE, nextNodeName, nodePaths, type NodeInfo } from "../cluster/nodes.js";
import { freePortSet } from "../cluster/free-ports.js";
import { stopOrphanPostmaster } from "../processes/leftovers.js";
import { patroniReinitialize } from "../processes/patroni.js";
import { patroniChild, type Children } from "./children.js";
import type { SupervisorContext } from "./context.js";
import { patroniAuth, prepareNodeDirs, writePatroniConfig } from "./node-setup.js";
import type { Routing } from "./routing.js";

/** Repairs made to a diverged node, for the leader timeline they were made under. */
export interface RepairRecord {
  timeline: number;
  attempts: number;
}

/**
 * The cluster's shape on this machine: replicas added and removed (`tusk scale`), and replicas
 * repaired when they hold WAL the primary never had.
 */
export class Topology {
  readonly repairs = new Map<string, RepairRecord>();

  constructor(
    private readonly ctx: SupervisorContext,
    private readonly children: Children,
    private readonly routing: Routing,
  ) {}

  /** Refuses a replica count the machine cannot hold, before anything is queued. */
  checkScale(replicas: number): void {
    if (!Number.isInteger(replicas) || replicas < 0) throw new TuskError("Usage", `--replicas must be a whole number of 0 or more, not ${replicas}.`);
    if (replicas > MAX_REPLICAS)
      throw new TuskError("InsufficientResources", `${replicas} replicas is more than this machine should hold (at most ${MAX_REPLICAS}: replicas on one machine share its cores and disk).`, {
        hint: "A later version spreads replicas over several hosts.",
      });
    const adding = Math.max(0, replicas - (this.ctx.nodes.all.length - 1));
    if (adding === 0) return;
    const perNode = replicaMemoryBytes(asRecord(this.ctx.settings.postgres));
    const available = freemem(); // MemAvailable on Linux
    if (adding * perNode > available * 0.8) {
      throw new TuskError(
        "InsufficientResources",
        `${adding} more replica(s) need about ${Math.ceil((adding * perNode) / 1024 ** 2)} MB of memory; ${Math.floor(available / 1024 ** 2)} MB is available.`,
        { hint: "Scale to fewer replicas, or lower postgresql.shared_buffers in tusk.yaml." },
      );
    }
  }

  /**
   * Adds or removes streaming replicas on this machine. A new node gets free ports and its own data
   * directory and copies the primary; a removed node is stopped and its data deleted. The primary,
   * and node pg1 (whose directories are the cluster's first), are never removed.
   */
  async scale(replicas: number, report: (progress: string) => void = () => undefined): Promise<void> {
    const { nodes, log } = this.ctx;
    while (nodes.all.length - 1 < replicas) {
      const ports = await freePortSet();
      const node: NodeInfo = { name: nextNodeName([...nodes.all]), ports: { postgres: ports.postgres, patroni: ports.patroni } };
      nodes.add(node);
      log(`adding replica ${node.name} (PostgreSQL ${node.ports.postgres}, Patroni ${node.ports.patroni})`);
      report(`adding replica ${node.name}: copying the primary (pg_basebackup), then streaming`);
      prepareNodeDirs(this.ctx, node);
      writePatroniConfig(this.ctx, node);
      try {
        await this.children.startReplica(node);
      } catch (e) {
        await this.removeNode(node); // a replica that did not come up is not left half-made
        throw e;
      }
      await this.routing.haproxy.updateNodes({ added: node });
    }
    while (nodes.all.length - 1 > replicas) {
      const removable = nodes.all.filter((n) => n.name !== nodes.primary && n.name !== FIRST_NODE);
      const sync = new Set(this.routing.members.filter((m) => m.role === "sync_standby").map((m) => m.name));
      const victim = removable.sort((a, b) => Number(sync.has(a.name)) - Number(sync.has(b.name)) || b.name.localeCompare(a.name, "en", { numeric: true }))[0];
      if (!victim)
        throw new TuskError("IncompatibleState", `Node ${FIRST_NODE} is a replica now and holds the cluster's first directories; it is not removed.`, {
          hint: `Switch over to ${FIRST_NODE} first (tusk switchover --to ${FIRST_NODE}), then scale down.`,
        });
      report(`removing replica ${victim.name}`);
      await this.removeNode(victim);
    }
    await this.routing.followLeader();
  }

  /** Stops a replica's Patroni and PostgreSQL, forgets the node and deletes its data. */
  private async removeNode(node: NodeInfo): Promise<void> {
    const { paths, log } = this.ctx;
    log(`removing replica ${node.name}`);
    const np = nodePaths(paths, node.name);
    this.ctx.nodes.remove(node.name);
    await this.routing.haproxy.updateNodes({ removed: node.name }); // its readers are cut before it stops
    await this.children.retire(patroniChild(node.name));
    await stopOrphanPostmaster(np.dataDir, this.ctx.pgUser, log);
    rmSync(dirname(np.dataDir), { recursive: true, force: true });
    for (const dir of [np.spoolDir, np.lockDir]) rmSync(dir, { recursive: true, force: true });
  }

  /**
   * First repair of a diverged replica: its Patroni restarts with PostgreSQL stopped, so Patroni reads
   * the timeline from pg_control and runs pg_rewind.
   */
  async rewind(name: string, timeline: number): Promise<void> {
    const node = this.ctx.nodes.node(name);
    if (!node) return;
    this.record(name, timeline);
    await this.children.retire(patroniChild(name));
    await stopOrphanPostmaster(nodePaths(this.ctx.paths, name).dataDir, this.ctx.pgUser, this.ctx.log);
    await this.children.startReplica(node);
  }

  /** Second repair, when a rewind did not bring it back: Patroni copies the primary afresh. */
  async reinitialize(name: string, timeline: number): Promise<void> {
    const node = this.ctx.nodes.node(name);
    if (!node) return;
    this.record(name, timeline);
    await patroniReinitialize(node.ports.patroni, patroniAuth(this.ctx));
  }

  private record(name: string, timeline: number): void {
    const prior = this.repairs.get(name);
    this.repairs.set(name, { timeline, attempts: (prior?.timeline === timeline ? prior.attempts : 0) + 1 });
  }
}

/** Memory a replica on this machine takes: its shared_buffers plus per-process and cache overhead. */
export function replicaMemoryBytes(postgres: Record<string, string>): number {
  // Bare numbers are 8kB blocks, as PostgreSQL reads shared_buffers; the validator has refused anything else.
  const sb = parseMemory(postgres.shared_buffers ?? "128MB", "8kB", true) ?? 128 * MiB;
  return sb + 256 * 1024 ** 2;
}

import { FIRST_NODE, readNodes, readPrimary, writePrimary, writeReplicaNodes, type NodeInfo } from "../cluster/nodes.js";
import type { TuskConfig } from "../config/config-file.js";
import type { StatePaths } from "../state-dir.js";

/**
 * The cluster's PostgreSQL nodes and the one writes are routed to, as the supervisor last acted on
 * them. Changes are written through to nodes.json and primary.json, so `tusk status`, the
 * connection strings and a restarted supervisor read the same.
 */
export class NodeSet {
  private list: NodeInfo[];
  private routed: string;

  constructor(
    config: TuskConfig,
    private readonly paths: StatePaths,
  ) {
    this.list = readNodes(config, paths);
    const last = readPrimary(config, paths).name;
    // The first node (pg1, or a joined data host's own) until a routed primary is recorded.
    this.routed = this.list.some((n) => n.name === last) ? last : (this.list[0]?.name ?? FIRST_NODE);
  }

  get all(): readonly NodeInfo[] {
    return this.list;
  }

  /** The node PgBouncer and the direct endpoint send writes to. */
  get primary(): string {
    return this.routed;
  }

  get primaryNode(): NodeInfo {
    return this.node(this.routed)!;
  }

  get replicas(): NodeInfo[] {
    return this.list.filter((n) => n.name !== this.routed);
  }

  node(name: string): NodeInfo | undefined {
    return this.list.find((n) => n.name === name);
  }

  has(name: string): boolean {
    return this.list.some((n) => n.name === name);
  }

  add(node: NodeInfo): void {
    this.list.push(node);
    this.save();
  }

  remove(name: string): void {
    this.list = this.list.filter((n) => n.name !== name);
    this.save();
  }

  /** Writes now go to `name`. */
  routeTo(name: string): void {
    this.routed = name;
    writePrimary(this.paths, this.primaryNode);
  }

  private save(): void {
    writeReplicaNodes(
      this.paths,
      this.list.filter((n) => n.name !== FIRST_NODE),
    );
  }
}

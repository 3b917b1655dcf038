import { clusterKv } from "./cluster-etcd.js";
import type { SupervisorContext } from "./context.js";
import type { OperationRecord } from "./operation-queue.js";

/** One host's operations as its supervisor last published them into etcd. */
export interface HostOperations {
  host: string;
  /** When they were published (ISO 8601). */
  at: string;
  running: OperationRecord[];
  recent: OperationRecord[];
}

const prefix = (cluster: string) => `/tusk-operations/${cluster}/`;

/**
 * Once hosts joined, each host's queue (run/operations.json, which the host's CLI commands share)
 * is also kept in etcd, in tusk's own v3 keys: its supervisor publishes what runs and what ended
 * whenever that changes, so `tusk status` on any host shows the operations of every host (a backup
 * the first host takes, a certificate renewal on a data host). No lease: a lost host's last word
 * stays, with its time, until the host is removed.
 */
export class OperationMirror {
  private published = "";

  constructor(private readonly ctx: SupervisorContext) {}

  /** Publishes this host's operations when they changed since the last publication. */
  async publish(view: { running: OperationRecord[]; recent: OperationRecord[] }): Promise<void> {
    const { network, config } = this.ctx;
    if (!network) return;
    const text = JSON.stringify(view);
    if (text === this.published) return;
    const entry: HostOperations = { host: network.name, at: new Date().toISOString(), ...view };
    await clusterKv(this.ctx, 2000).put(`${prefix(config.cluster_name)}${network.name}`, JSON.stringify(entry));
    this.published = text;
  }

  /** The other hosts' operations, as they last published them; empty when etcd does not answer. */
  async others(): Promise<HostOperations[]> {
    const { network, config } = this.ctx;
    if (!network) return [];
    const entries = await clusterKv(this.ctx, 2000)
      .list(prefix(config.cluster_name))
      .catch(() => []);
    return entries.map((e) => JSON.parse(e.value) as HostOperations).filter((h) => h.host !== network.name);
  }
}

/** A removed host's operations go with it. */
export async function forgetOperations(ctx: SupervisorContext, host: string): Promise<void> {
  await clusterKv(ctx, 2000).delete(`${prefix(ctx.config.cluster_name)}${host}`);
}

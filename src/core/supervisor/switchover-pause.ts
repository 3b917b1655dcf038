import type { EtcdKv } from "../network/etcd-kv.js";
import type { HostNetwork } from "../network/host-network.js";
import type { PatroniMember } from "../processes/patroni.js";
import { sleep } from "../processes/pid-file.js";
import { clusterKv } from "./cluster-etcd.js";
import type { SupervisorContext } from "./context.js";
import { pausePool, resumePool } from "./replication.js";
import type { Routing } from "./routing.js";

/**
 * A planned switchover pauses the pools of every host that serves the cluster's endpoints, not only
 * the pool of the host that runs it: a client of another data host's PgBouncer would otherwise meet
 * the old primary as it demotes (a read-only error) or a refused connection. The host that runs the
 * switchover announces it in etcd (a key under a lease, so it goes when that host dies), waits a
 * moment for the other data hosts to say they paused, and revokes the lease when it is done. Each
 * data host's supervisor looks for an announcement five times a second, pauses its pool and
 * acknowledges, and resumes once the announced candidate is the primary it routes to and has left
 * recovery — or when the announcement goes, or after MAX_PAUSE_MS whatever happens.
 */

/** One switchover as announced: who runs it, from and to which node, and the lease its keys live under. */
export interface PauseAnnouncement {
  id: string;
  host: string;
  from: string;
  to: string;
  lease: string;
}

/** How long a lost announcer's keys outlive it (the lease's TTL), in seconds. */
const LEASE_TTL_S = 30;
/** How long the announcer waits for the other data hosts to pause. */
const ACK_WAIT_MS = 2000;
/** A data host's pool never stays paused longer than this for another host's switchover. */
export const MAX_PAUSE_MS = 30_000;
/** How often a data host looks for an announcement. */
export const FOLLOW_INTERVAL_MS = 200;

const prefix = (cluster: string) => `/tusk-switchover/${cluster}/`;
const announcementKey = (cluster: string) => `${prefix(cluster)}announcement`;
const ackPrefix = (cluster: string) => `${prefix(cluster)}paused/`;

/** The other data hosts whose node Patroni lists: the ones that serve clients now (a lost host's member key has expired). */
export function hostsToPause(network: HostNetwork, members: PatroniMember[]): string[] {
  return network.hosts.filter((h) => h.role === "data" && h.name !== network.name && members.some((m) => m.host === h.address)).map((h) => h.name);
}

/** An announced switchover; `end` revokes its lease (the announcement and the acknowledgements go with it). */
export interface AnnouncedPause {
  end(): Promise<void>;
}

/**
 * Announces a switchover to the other data hosts and waits up to ACK_WAIT_MS for each of `expect`
 * to pause its pool. etcd not answering is logged and the switchover goes on: only those hosts'
 * clients may then see an error, as before hosts paused together.
 */
export async function announceSwitchover(ctx: SupervisorContext, move: { from: string; to: string }, expect: string[]): Promise<AnnouncedPause | undefined> {
  const network = ctx.network;
  if (!network || expect.length === 0) return undefined;
  const kv = clusterKv(ctx, 2000);
  const cluster = ctx.config.cluster_name;
  let lease: string;
  try {
    lease = await kv.grantLease(LEASE_TTL_S);
    const announcement: PauseAnnouncement = { id: `${network.name}-${Date.now()}`, host: network.name, ...move, lease };
    await kv.put(announcementKey(cluster), JSON.stringify(announcement), lease);
    const deadline = Date.now() + ACK_WAIT_MS;
    let paused: string[] = [];
    for (;;) {
      const acks = await kv.list(ackPrefix(cluster)).catch(() => []);
      paused = expect.filter((h) => acks.some((a) => a.key === `${ackPrefix(cluster)}${h}` && a.value === announcement.id));
      if (paused.length === expect.length || Date.now() > deadline) break;
      await sleep(100);
    }
    const missing = expect.filter((h) => !paused.includes(h));
    ctx.log(
      `switchover announced to the other data hosts: ${paused.length > 0 ? `pool paused on ${paused.join(", ")}` : "no pool paused"}${missing.length > 0 ? `; ${missing.join(", ")} did not answer within ${ACK_WAIT_MS / 1000} s (their clients may see errors)` : ""}`,
    );
    return {
      end: () => kv.revokeLease(lease).catch((e) => ctx.log(`could not end the switchover's announcement (${(e as Error).message}); the other hosts resume when it expires`)),
    };
  } catch (e) {
    ctx.log(`could not announce the switchover to the other data hosts (${(e as Error).message}): their pools are not paused, their clients may see errors`);
    return undefined;
  }
}

/** What a data host sees of another host's switchover. */
export interface PauseObservation {
  /** This host's name. */
  self: string;
  now: number;
  /** The announcement in etcd; null when there is none; undefined when etcd did not answer. */
  announced: PauseAnnouncement | null | undefined;
  /** This host's pool paused for an announcement, and since when. */
  paused: { id: string; to: string; since: number } | undefined;
  /** The last announcement this host followed (it pauses once per switchover). */
  followed: string | undefined;
  /** The announced candidate is the primary this host routes to, and it has left recovery. */
  candidateWritable: boolean;
}

export type PauseStep = { kind: "pause"; announcement: PauseAnnouncement } | { kind: "resume"; reason: string } | { kind: "wait" } | { kind: "none" };

/** Pure: what a data host does about another host's switchover this round. */
export function decidePause(o: PauseObservation): PauseStep {
  if (!o.paused) {
    const a = o.announced;
    return a && a.host !== o.self && a.id !== o.followed ? { kind: "pause", announcement: a } : { kind: "none" };
  }
  if (o.candidateWritable) return { kind: "resume", reason: `${o.paused.to} is the primary and writable` };
  if (o.announced === null) return { kind: "resume", reason: "the switchover ended" };
  if (o.announced && o.announced.id !== o.paused.id) return { kind: "resume", reason: "another switchover was announced" };
  if (o.now - o.paused.since > MAX_PAUSE_MS) return { kind: "resume", reason: `paused for ${MAX_PAUSE_MS / 1000} s without ${o.paused.to} becoming the primary` };
  return { kind: "wait" };
}

/** A data host's side: pauses its pool for another host's switchover and resumes it (see the top of this file). */
export class SwitchoverFollower {
  private paused: PauseObservation["paused"];
  private followed: string | undefined;
  private busy = false;
  private kv: { network: HostNetwork; kv: EtcdKv } | undefined;

  constructor(
    private readonly ctx: SupervisorContext,
    private readonly routing: Routing,
  ) {}

  /** One round; a round still running (etcd slow to answer) makes the next one a no-op. */
  async tick(): Promise<void> {
    if (this.busy || !this.ctx.network) return;
    this.busy = true;
    try {
      const o = await this.observe(this.ctx.network);
      await this.act(decidePause(o), o);
    } catch (e) {
      this.ctx.log(`following a switchover: ${(e as Error).message}`);
    } finally {
      this.busy = false;
    }
  }

  private async observe(network: HostNetwork): Promise<PauseObservation> {
    if (this.kv?.network !== network) this.kv = { network, kv: clusterKv(this.ctx, 1000) };
    const cluster = this.ctx.config.cluster_name;
    const announced = await this.kv.kv.list(announcementKey(cluster)).then(
      (entries) => (entries[0] ? (JSON.parse(entries[0].value) as PauseAnnouncement) : null),
      () => undefined,
    );
    let candidateWritable = false;
    if (this.paused) {
      await this.routing.followLeader();
      candidateWritable = this.routing.writesTo === this.paused.to && (await this.routing.writable(this.paused.to));
    }
    return { self: network.name, now: Date.now(), announced, paused: this.paused, followed: this.followed, candidateWritable };
  }

  private async act(step: PauseStep, o: PauseObservation): Promise<void> {
    const { ctx } = this;
    if (step.kind === "pause") {
      const a = step.announcement;
      this.followed = a.id;
      ctx.log(`${a.host} is switching over from ${a.from} to ${a.to}: pausing the pool`);
      await pausePool(ctx);
      this.paused = { id: a.id, to: a.to, since: Date.now() };
      this.routing.plannedMove = true;
      await this.kv?.kv.put(`${ackPrefix(ctx.config.cluster_name)}${o.self}`, a.id, a.lease).catch((e) => ctx.log(`could not tell ${a.host} the pool is paused: ${(e as Error).message}`));
    } else if (step.kind === "resume" && this.paused) {
      const ms = o.now - this.paused.since;
      this.paused = undefined;
      this.routing.plannedMove = false;
      await resumePool(ctx);
      ctx.log(`pool resumed after ${ms} ms: ${step.reason}`);
    }
  }
}

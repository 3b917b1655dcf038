import type { PatroniMember } from "../processes/patroni.js";

/** How long a replica may sit on an older timeline than the leader's without catching up. */
export const DIVERGED_AFTER_MS = 20_000;

/**
 * Finds replicas that hold WAL the current primary never had, so they can never follow it.
 *
 * How it happens: a primary is lost with WAL its synchronous standby had not received (commits
 * not yet acknowledged, or written with synchronous_commit off). When it comes back, Patroni
 * 3.0.2 demotes it and starts it as a replica, then decides whether pg_rewind is needed from the
 * timeline its WAL receiver reports. That receiver has often already connected to the new primary
 * and reports the new timeline, so Patroni finds "no rewind needed" while the startup process has
 * replayed the old timeline past the fork point. Recovery then stops for good ("invalid magic
 * number … waiting for WAL") and Patroni keeps reporting the node as a running replica.
 *
 * The sign: a running replica on a timeline older than the leader's whose lag does not shrink for
 * DIVERGED_AFTER_MS. A replica that is merely behind replays toward the fork and its lag shrinks.
 */
export class DivergenceWatch {
  private readonly seen = new Map<string, { since: number; lag: number; timeline: number }>();

  /** The replicas that have been stuck behind the leader's timeline for DIVERGED_AFTER_MS. */
  observe(members: readonly PatroniMember[], now: number): string[] {
    const leader = members.find((m) => m.role === "leader" && m.state === "running");
    const diverged: string[] = [];
    const stuck = new Set<string>();
    for (const m of members) {
      if (!leader || leader.timeline === undefined || m.role === "leader" || m.timeline === undefined) continue;
      if (!["running", "streaming"].includes(m.state) || m.timeline >= leader.timeline) continue;
      stuck.add(m.name);
      const lag = typeof m.lag === "number" ? m.lag : Number.POSITIVE_INFINITY;
      const prior = this.seen.get(m.name);
      if (!prior || prior.timeline !== leader.timeline || lag < prior.lag) {
        // First sighting, a newer failover, or catching up: the clock starts again.
        this.seen.set(m.name, { since: now, lag, timeline: leader.timeline });
        continue;
      }
      if (now - prior.since >= DIVERGED_AFTER_MS) diverged.push(m.name);
    }
    for (const name of this.seen.keys()) if (!stuck.has(name)) this.seen.delete(name);
    return diverged;
  }

  /** Forgets a node (after a repair, its clock starts again). */
  forget(name: string): void {
    this.seen.delete(name);
  }
}

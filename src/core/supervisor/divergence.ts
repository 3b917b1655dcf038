import type { PatroniMember } from "../processes/patroni.js";

/** How long a suspect replica's replay may stand still before it is repaired. */
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
 * Such a node shows in one of two ways: Patroni reports it on an older timeline than the leader's
 * (once its receiver has given up), or, while the receiver still reports the new timeline, it has
 * replayed past the primary's current WAL position (WAL the primary does not have). The first also
 * fits a healthy replica for a moment (switching timelines, or catching up from far behind), so a
 * node is named only when it has looked like that at every observation for DIVERGED_AFTER_MS and
 * its replayed position has not moved meanwhile: a replica that replays is not stuck. A replica
 * whose replay is merely held (a query conflict, a stopped startup process) is behind the primary
 * on the primary's timeline, which is neither.
 */
export class DivergenceWatch {
  private readonly seen = new Map<string, { since: number; replayed: number; timeline: number }>();

  /**
   * Records one observation: Patroni's members, the replayed WAL position each replica reports
   * itself (its /patroni `xlog.replayed_location`), and the primary's current position, read after
   * those. Returns the replicas that have been suspect, without replaying anything, for
   * DIVERGED_AFTER_MS.
   */
  observe(members: readonly PatroniMember[], replayed: ReadonlyMap<string, number | undefined>, primaryLocation: number | undefined, now: number): string[] {
    const leader = members.find((m) => m.role === "leader" && m.state === "running");
    const suspects = new Set<string>();
    const diverged: string[] = [];
    for (const m of members) {
      const position = replayed.get(m.name);
      if (leader?.timeline === undefined || m.role === "leader" || !["running", "streaming"].includes(m.state) || position === undefined) continue;
      const olderTimeline = m.timeline !== undefined && m.timeline < leader.timeline;
      const ahead = primaryLocation !== undefined && position > primaryLocation;
      if (!olderTimeline && !ahead) continue;
      suspects.add(m.name);
      const prior = this.seen.get(m.name);
      if (!prior || prior.timeline !== leader.timeline || position !== prior.replayed) {
        // First sighting, a newer failover, or replay moving: the clock starts again.
        this.seen.set(m.name, { since: now, replayed: position, timeline: leader.timeline });
      } else if (now - prior.since >= DIVERGED_AFTER_MS) {
        diverged.push(m.name);
      }
    }
    for (const name of this.seen.keys()) if (!suspects.has(name)) this.seen.delete(name);
    return diverged;
  }

  /** Forgets a node (after a repair, its clock starts again). */
  forget(name: string): void {
    this.seen.delete(name);
  }
}

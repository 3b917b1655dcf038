import type { PatroniNodeStatus } from "../processes/patroni.js";

/** "etcd", "pgbouncer", "haproxy", and one Patroni per node: "patroni" for pg1, "patroni-pgN" for the others. */
export type ChildName = string;

export interface RestartDecision {
  restartNow: ChildName[];
  healthy: boolean;
  sentence: string;
}

/**
 * The supervision decision, pure: which exited children to restart now (their back-off has passed),
 * and one sentence describing the situation.
 */
export function decideRestarts(
  down: ChildName[],
  nextRestartAt: ReadonlyMap<ChildName, number>,
  now: number,
  patroni: PatroniNodeStatus | undefined,
  etcdSilentSince: number | null = null,
): RestartDecision {
  const restartNow = down.filter((n) => (nextRestartAt.get(n) ?? 0) <= now);
  const waiting = down.filter((n) => !restartNow.includes(n));
  const pgRunning = patroni?.state === "running";
  const role = patroni?.role === "master" ? "primary" : patroni?.role;
  if (down.length === 0 && pgRunning && etcdSilentSince !== null) {
    const silent = `etcd has not answered for ${Math.round((now - etcdSilentSince) / 1000)} s, so Patroni cannot renew the leader lock`;
    const sentence = patroni?.failsafe_mode_is_active
      ? `${silent}; failsafe mode keeps PostgreSQL ${role} while every member's Patroni answers; no failover or switchover can happen until etcd is back`
      : `${silent}; PostgreSQL is ${role}, and Patroni keeps it so for retry_timeout, then failsafe mode if every member answers`;
    return { restartNow, healthy: false, sentence };
  }
  if (down.length === 0 && pgRunning) {
    return { restartNow, healthy: true, sentence: `no action: all processes are up and PostgreSQL is ${patroni?.role === "master" ? "primary" : patroni?.role}` };
  }
  const parts: string[] = [];
  if (restartNow.length) parts.push(`restarting ${restartNow.join(", ")}`);
  if (waiting.length) parts.push(`waiting to restart ${waiting.join(", ")} (back-off)`);
  if (!pgRunning) parts.push(`PostgreSQL is ${patroni?.state ?? "unreachable through Patroni"}; Patroni restarts it`);
  return { restartNow, healthy: false, sentence: parts.join("; ") };
}

import type { TuskConfig } from "../config/config-file.js";
import { migrationLockHolders } from "../migrations/lock.js";
import { withSuperuser } from "../provision/provision.js";
import type { StatePaths } from "../state-dir.js";
import type { OperationRecord } from "./operation-queue.js";

/**
 * Schema migrations run from a client, not by the supervisor: a session holding tusk's migration
 * lock is an operation of the conflict table all the same (a backup waits for it, for example).
 * None when PostgreSQL does not answer within 2 s.
 */
export async function migrationOperations(config: TuskConfig, paths: StatePaths): Promise<OperationRecord[]> {
  const holders = await withSuperuser(config, paths, migrationLockHolders, { timeoutMs: 2000 }).catch(() => []);
  return holders.map((h) => ({
    id: -h.pid,
    kind: "migration",
    detail: `schema migration (session ${h.pid} on ${h.database}${h.role ? ` as ${h.role}` : ""})`,
    state: "running",
    pid: h.pid,
    startedAt: h.since,
  }));
}

import type { AlertRule } from "../rule.js";
import { rule as archivingFailing } from "./archiving-failing.js";
import { rule as autovacuumStale } from "./autovacuum-stale.js";
import { rule as backupMissing } from "./backup-missing.js";
import { rule as cacheHitLow } from "./cache-hit-low.js";
import { rule as certificateExpiring } from "./certificate-expiring.js";
import { rule as checkpointsRequested } from "./checkpoints-requested.js";
import { rule as connectionsHigh } from "./connections-high.js";
import { rule as deadTuples } from "./dead-tuples.js";
import { rule as diskUsage } from "./disk-usage.js";
import { rule as drillFailed } from "./drill-failed.js";
import { rule as idleInTransaction } from "./idle-in-transaction.js";
import { rule as longTransaction } from "./long-transaction.js";
import { rule as nodeDown } from "./node-down.js";
import { rule as poolerWaiting } from "./pooler-waiting.js";
import { rule as replicaLag } from "./replica-lag.js";
import { rule as syncStandbyLag } from "./sync-standby-lag.js";
import { rule as walDropped } from "./wal-dropped.js";

/** Every built-in rule, one per file. */
export const RULES: readonly AlertRule[] = [
  connectionsHigh,
  replicaLag,
  syncStandbyLag,
  longTransaction,
  idleInTransaction,
  autovacuumStale,
  deadTuples,
  diskUsage,
  checkpointsRequested,
  cacheHitLow,
  archivingFailing,
  walDropped,
  backupMissing,
  drillFailed,
  poolerWaiting,
  nodeDown,
  certificateExpiring,
];

export const RULE_IDS = RULES.map((r) => r.id);

import type { ArchiverStatus, BackupSummary, RestoreWindow } from "../backup/catalog.js";
import type { DrillResult } from "../backup/drill.js";
import type { WalDrop } from "../backup/wal-drops.js";
import type { ReplicationStatus } from "./replication.js";
import type { CollectionStatus } from "../metrics/monitoring.js";
import type { AlertView } from "../alerts/alert-log.js";
import type { OperationRecord } from "./operation-queue.js";
import type { HostOperations } from "./operation-mirror.js";

/** What the supervisor reports through GET /v1/status; the CLI and the dashboard read this shape. */
export type Phase = "starting" | "ready" | "degraded" | "failed" | "stopping";

export interface StepRecord {
  label: string;
  state: "running" | "done" | "failed";
  startedAt: string;
  endedAt?: string;
  detail?: string;
}

export interface ProcessStatus {
  name: string;
  up: boolean;
  pid: number | null;
  /** Every port the process serves (HAProxy: the read-only and the direct endpoint). */
  ports: number[];
  version: string | null;
  restarts: number;
  startedAt: string | null;
  /** Patroni's view of PostgreSQL, for the postgres entry. */
  role?: string | null;
  state?: string | null;
  /** PostgreSQL's timeline: it goes up on every promotion, restore and failover. */
  timeline?: number | null;
}

/** The backup and drill schedule as the supervisor keeps it. */
export interface ScheduleStatus {
  nextBackupAt: string | null;
  nextBackupType: "full" | "diff" | "incr" | null;
  nextDrillAt: string | null;
  /** The job running now, if any. */
  running: string | null;
  lastError: string | null;
}

export interface BackupHealth {
  lastBackup: BackupSummary | null;
  backupCount: number;
  window: RestoreWindow;
  archiver: ArchiverStatus | null;
  lastDrill: DrillResult | null;
  schedule: ScheduleStatus;
  /** Why the figures could not be read, if they could not. */
  error?: string;
  /** pgBackRest's stanza status when it is neither ok nor "no backup yet" (the repository is damaged or unreachable). */
  repositoryProblem?: string;
  /** WAL pgBackRest dropped (backups.archive_queue_max) after the last backup: the archive's gap, open until the next one. */
  walDropped?: WalDrop;
}

export interface SupervisorStatus {
  phase: Phase;
  /** One readable sentence: what the supervisor sees and decided. */
  decision: string;
  failure?: { message: string; hint: string; detail: string; exitCode: number };
  steps: StepRecord[];
  processes: ProcessStatus[];
  /** `release`: the installed copy of tusk the supervisor runs from (install/release.ts). */
  supervisor: { pid: number; startedAt: string; version: string; release: string };
  stateDir: string;
  dataSizeBytes: number | null;
  backups: BackupHealth | null;
  /** The nodes, their roles and lag, and the synchronous mode in force. */
  replication: ReplicationStatus;
  /** Long operations (backups, restores, clones, drills, switchovers, scaling, repairs): running now, and the latest ended. */
  operations: { running: OperationRecord[]; recent: OperationRecord[] };
  /** Once hosts joined: the other hosts' operations, as each last published them into etcd. */
  otherHostsOperations?: HostOperations[];
  /** This host among the cluster's hosts, once converted for the network (network/host-network.ts). */
  host?: { name: string; role: string };
  /** The metrics collector's last round, and the alerts open now (pending and firing). */
  monitoring: CollectionStatus & { alerts: AlertView[] };
}

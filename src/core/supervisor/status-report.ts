import { existsSync, readFileSync } from "node:fs";
import { drillHistory } from "../backup/drill.js";
import { nodePaths } from "../cluster/nodes.js";
import { currentRelease } from "../install/release.js";
import type { CollectorContext } from "../metrics/collector.js";
import type { Monitoring } from "../metrics/monitoring.js";
import { readOnlyServers } from "../processes/haproxy.js";
import type { PatroniNodeStatus } from "../processes/patroni.js";
import { isAlive } from "../processes/pid-file.js";
import { withSuperuser } from "../provision/provision.js";
import { TUSK_VERSION } from "../state-dir.js";
import type { BackupScheduler } from "./backup-scheduler.js";
import { nodeOfChild, type Children } from "./children.js";
import type { CertificateFact } from "../tls/certificate-facts.js";
import type { SupervisorContext } from "./context.js";
import type { OperationQueue } from "./operation-queue.js";
import type { OperationMirror } from "./operation-mirror.js";
import { nodeStatuses, replicationRows, type ReplicationRow, type ReplicationStatus } from "./replication.js";
import type { Routing } from "./routing.js";
import type { Phase, ProcessStatus, StepRecord, SupervisorStatus } from "./status.js";
import type { StatusFigures } from "./status-figures.js";

/** Where the report reads from: the supervisor's parts, and its phase and last Patroni view as they are now. */
export interface StatusSources {
  ctx: SupervisorContext;
  children: Children;
  routing: Routing;
  figures: StatusFigures;
  scheduler: BackupScheduler;
  monitoring: Monitoring;
  queue: OperationQueue;
  /** The other hosts' operations, from etcd once hosts joined. */
  mirror: OperationMirror;
  phase: () => Phase;
  patroni: () => PatroniNodeStatus | undefined;
  /** This host's certificates and those the cluster issued its other hosts. */
  certificates: () => CertificateFact[];
}

/** The supervisor's own account of itself: its phase, decision, start-up steps and failure. */
export interface StatusHead {
  phase: Phase;
  decision: string;
  failure: SupervisorStatus["failure"];
  steps: StepRecord[];
  startedAt: Date;
}

/**
 * What `GET /v1/status` answers (the CLI's status and the dashboard read it), the replication view
 * the API's scale answers with, and what the metrics collector records besides the statistics views.
 */
export class StatusReport {
  constructor(private readonly src: StatusSources) {}

  /** Each node's role, state, timeline, lag and sync state: Patroni's members and the primary's pg_stat_replication. */
  async replication(): Promise<ReplicationStatus> {
    const { ctx, children, routing } = this.src;
    const { nodes } = ctx;
    let rows: ReplicationRow[] = [];
    if (nodes.all.length > 1 && this.src.phase() !== "starting") {
      // Short timeouts: a primary that stopped answering must not hold up status; Patroni's view alone then.
      rows = await withSuperuser(ctx.config, ctx.paths, replicationRows, { timeoutMs: 1500 }).catch(() => []);
    }
    const readers = children.running("haproxy") ? await readOnlyServers(ctx.paths.haproxyStatsSocket) : undefined;
    return { mode: ctx.config.replication_mode, primary: nodes.primary, nodes: nodeStatuses([...nodes.all], routing.members, rows, readers) };
  }

  /** What the collector records besides the statistics views: nodes, processes, disks, backups. */
  async collectorContext(): Promise<CollectorContext> {
    const { ctx, children, routing, figures, scheduler } = this.src;
    // Role, state and timeline come from Patroni's members, which the watch keeps fresh; the lag is
    // the collector's own query, so no connection or HAProxy request is made for this.
    const nodes = nodeStatuses([...ctx.nodes.all], routing.members, []);
    const phase = this.src.phase();
    const health = await figures.backupHealth(phase, scheduler.status);
    const drill = drillHistory(ctx.paths).pop();
    return {
      nodes: nodes.map((n) => ({ name: n.name, role: n.role, up: n.state === "running" || n.state === "streaming", timeline: n.timeline })),
      disks: { data: nodePaths(ctx.paths, ctx.nodes.primary).dataDir, backups: ctx.paths.backupRepo },
      catalogReadable: health !== null && !health.error && !health.repositoryProblem,
      lastBackupEndedAt: health?.lastBackup?.endedAt ?? null,
      walGapSince: health?.walDropped?.at ?? null,
      lastDrillOk: drill ? drill.ok : null,
      backupIntervalSeconds: 86_400,
      dataDirBytes: await figures.dataSize(phase, ctx.nodes.primary),
      backupRepositoryBytes: await figures.backupRepositorySize(),
      processes: children.order().map((name) => ({ name, up: children.running(name) })),
      certificates: this.src.certificates().map(({ host, certificate, expiresAt }) => ({ host, certificate, expiresAt })),
    };
  }

  async status(head: StatusHead): Promise<SupervisorStatus> {
    const { ctx, children, figures, scheduler, monitoring } = this.src;
    const versions = await figures.versions(this.src.patroni());
    const processes: ProcessStatus[] = children.order().map((name) => {
      const child = children.get(name);
      const patroni = name.startsWith("patroni");
      return {
        name,
        up: child?.running ?? false,
        pid: child?.pid ?? null,
        ports: this.processPorts(name),
        version: (patroni ? versions.patroni : versions[name]) ?? null,
        restarts: child?.restarts ?? 0,
        startedAt: child?.startedAt?.toISOString() ?? null,
      };
    });
    processes.splice(
      processes.findIndex((p) => p.name === "pgbouncer"),
      0,
      this.postgres(versions.postgres ?? null),
    );
    return {
      ...(await this.frame(head, processes)),
      dataSizeBytes: await figures.dataSize(head.phase, ctx.nodes.primary),
      backups: await figures.backupHealth(head.phase, scheduler.status),
      replication: await this.replication(),
      monitoring: { ...monitoring.status, alerts: monitoring.openAlerts() },
    };
  }

  /** The ports a supervised process listens on (Patroni: its API). */
  private processPorts(name: string): number[] {
    const { ctx } = this.src;
    const { ports } = ctx.config;
    if (name === "etcd") return [ports.etcd_client];
    if (name.startsWith("patroni")) return [ctx.nodes.node(nodeOfChild(name))!.ports.patroni];
    if (name === "haproxy") return [ports.readonly, ports.direct];
    if (name === "pgbackrest-server") return [ports.backup_server];
    return [ports.pooler];
  }

  /** What every host's status has: the phase and decision, the processes, this supervisor, the host, the operations. */
  private async frame(head: StatusHead, processes: ProcessStatus[]) {
    const { ctx, queue, mirror } = this.src;
    const others = await mirror.others();
    return {
      phase: head.phase,
      decision: head.decision,
      failure: head.failure,
      steps: head.steps,
      processes,
      supervisor: { pid: process.pid, startedAt: head.startedAt.toISOString(), version: TUSK_VERSION, release: currentRelease().id },
      stateDir: ctx.paths.root,
      host: ctx.network ? { name: ctx.network.name, role: ctx.network.role } : undefined,
      operations: queue.view(5),
      ...(others.length > 0 ? { otherHostsOperations: others } : {}),
    };
  }

  /**
   * A host that joined: its processes (a witness's etcd; a data host's etcd, its node's Patroni and the endpoints);
   * no backups or monitoring run here, and the cluster's replication is shown on the first host.
   */
  async joinedStatus(head: StatusHead): Promise<SupervisorStatus> {
    const { ctx, children, figures, monitoring } = this.src;
    const versions = await figures.versions(undefined);
    const { ports } = ctx.config;
    const processes: ProcessStatus[] = children.order().map((name) => {
      const child = children.get(name);
      const patroni = name.startsWith("patroni");
      const node = patroni ? ctx.nodes.node(nodeOfChild(name)) : undefined;
      return {
        name,
        up: child?.running ?? false,
        pid: child?.pid ?? null,
        ports: node ? [node.ports.postgres, node.ports.patroni] : name === "etcd" ? [ports.etcd_client, ports.etcd_peer] : this.processPorts(name),
        version: (patroni ? versions.patroni : versions[name]) ?? null,
        restarts: child?.restarts ?? 0,
        startedAt: child?.startedAt?.toISOString() ?? null,
      };
    });
    return {
      ...(await this.frame(head, processes)),
      dataSizeBytes: null,
      backups: null,
      replication: { mode: ctx.config.replication_mode, primary: "", nodes: [] },
      monitoring: { ...monitoring.status, alerts: [] },
    };
  }

  /** The routed primary's PostgreSQL: its postmaster's pid, and Patroni's view of it. */
  private postgres(version: string | null): ProcessStatus {
    const { ctx } = this.src;
    const pidFile = `${nodePaths(ctx.paths, ctx.nodes.primary).dataDir}/postmaster.pid`;
    let pid: number | null = null;
    if (existsSync(pidFile)) {
      const n = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
      if (isAlive(n)) pid = n;
    }
    const patroni = this.src.patroni();
    return {
      name: "postgres",
      up: pid !== null && patroni?.state === "running",
      pid,
      ports: [ctx.nodes.primaryNode.ports.postgres],
      version,
      restarts: 0,
      startedAt: patroni?.postmaster_start_time ? new Date(patroni.postmaster_start_time).toISOString() : null,
      role: patroni?.role === "master" ? "primary" : (patroni?.role ?? null),
      state: patroni?.state ?? null,
      timeline: patroni?.timeline ?? null,
    };
  }
}

import { join } from "node:path";
import type { TuskConfig } from "../config/config-file.js";
import { readCatalog } from "../backup/catalog.js";
import { gapOpen, lastWalDrop } from "../backup/wal-drops.js";
import { primaryRepository } from "../generate/pgbackrest-config.js";
import { drillHistory } from "../backup/drill.js";
import type { Pgbackrest } from "../backup/pgbackrest.js";
import { nodePaths } from "../cluster/nodes.js";
import { run } from "../exec.js";
import { HAPROXY_BIN, PG_MAJOR, PGBOUNCER } from "../install/components.js";
import { getJson } from "../processes/http-probe.js";
import type { PatroniNodeStatus } from "../processes/patroni.js";
import { sleep } from "../processes/pid-file.js";
import { withSuperuser } from "../provision/provision.js";
import type { StatePaths } from "../state-dir.js";
import type { ChildName } from "./children.js";
import type { BackupHealth, Phase, ScheduleStatus } from "./status.js";

/**
 * The figures `tusk status` and the collector read that take time to measure — versions, the data
 * directory's and the repository's sizes, backup health — each kept for a while, since status is
 * polled often. Observations only: nothing here changes the cluster.
 */
export class StatusFigures {
  private readonly versionCache: Partial<Record<ChildName | "postgres", string>> = {};
  private backupHealthCache: { value: BackupHealth; at: number } | undefined;
  private backupHealthRefresh: Promise<void> | undefined;
  private dataSizeCache: { bytes: number | null; at: number } | undefined;
  private repoSizeCache: { bytes: number | null; at: number } | undefined;

  constructor(
    private readonly config: TuskConfig,
    private readonly paths: StatePaths,
    private readonly backups: Pgbackrest,
  ) {}

  /** Each process's version, asked once (Patroni's and PostgreSQL's from Patroni's last answer). */
  async versions(lastPatroni: PatroniNodeStatus | undefined): Promise<Partial<Record<ChildName | "postgres", string>>> {
    const v = this.versionCache;
    v.pgbouncer ??= PGBOUNCER.installedVersion();
    if (!v.haproxy) v.haproxy = /version (\S+)/.exec((await run(HAPROXY_BIN, ["-v"]).catch(() => undefined))?.stdout ?? "")?.[1];
    if (!v.etcd) v.etcd = (await getJson<{ etcdserver?: string }>(`http://127.0.0.1:${this.config.ports.etcd_client}/version`))?.json.etcdserver;
    if (!v.patroni && lastPatroni?.patroni?.version) v.patroni = lastPatroni.patroni.version;
    if (lastPatroni?.server_version) {
      const n = lastPatroni.server_version;
      v.postgres = `${Math.floor(n / 10000)}.${n % 10000}`;
    } else v.postgres ??= String(PG_MAJOR);
    return v;
  }

  /** A backup or drill changed the figures: read them again at the next status. */
  forgetBackups(): void {
    this.backupHealthCache = undefined;
  }

  /**
   * Backup figures for status, at most 15 s old. They come from `pgbackrest info`, which waits on
   * every repository — an unreachable object store can hold it for a minute — so they are read in
   * the background and status answers with the last figures it has.
   */
  async backupHealth(phase: Phase, schedule: ScheduleStatus): Promise<BackupHealth | null> {
    if (phase === "starting" || phase === "stopping") return null;
    const fresh = this.backupHealthCache && Date.now() - this.backupHealthCache.at < 15_000;
    if (!fresh && !this.backupHealthRefresh) {
      this.backupHealthRefresh = this.readBackupHealth(schedule).finally(() => {
        this.backupHealthRefresh = undefined;
      });
    }
    if (!this.backupHealthCache && this.backupHealthRefresh) await Promise.race([this.backupHealthRefresh, sleep(5000)]);
    const cached = this.backupHealthCache?.value;
    if (!cached) return null;
    // Read from this host's logs each time: a drop shows even while the repository cannot be read.
    const drop = lastWalDrop(join(this.paths.logDir, "pgbackrest"), this.config.cluster_name);
    const walDropped = drop && gapOpen(drop, cached.lastBackup?.endedAt ?? null) ? { walDropped: drop } : {};
    return { ...cached, lastDrill: drillHistory(this.paths).pop() ?? null, schedule, ...walDropped };
  }

  private async readBackupHealth(schedule: ScheduleStatus): Promise<void> {
    let value: BackupHealth;
    try {
      const c = await withSuperuser(this.config, this.paths, (client) => readCatalog(this.backups, client, this.paths));
      value = {
        lastBackup: c.backups.filter((b) => b.repo === primaryRepository(this.config)).pop() ?? null,
        backupCount: c.backups.length,
        window: c.window,
        archiver: c.archiver,
        lastDrill: null,
        schedule,
      };
      // "missing stanza path" and the like: the repository is unreadable, not empty.
      if (c.status && c.status.code !== 0 && c.status.code !== 2) value.repositoryProblem = c.status.message;
    } catch (e) {
      value = { lastBackup: null, backupCount: 0, window: { from: null, to: null }, archiver: null, lastDrill: null, schedule, error: (e as Error).message };
    }
    this.backupHealthCache = { value, at: Date.now() };
  }

  /** Size of the primary's data directory, measured with du at most every 30 s. */
  async dataSize(phase: Phase, primary: string): Promise<number | null> {
    if (phase === "starting") return null; // the data directory is still being created
    if (this.dataSizeCache && Date.now() - this.dataSizeCache.at < 30_000) return this.dataSizeCache.bytes;
    const r = await run("du", ["-sb", nodePaths(this.paths, primary).dataDir]);
    this.dataSizeCache = { bytes: r.code === 0 ? Number(r.stdout.split("\t")[0]) : null, at: Date.now() };
    return this.dataSizeCache.bytes;
  }

  /** Size of the local backup repository (backups and archived WAL), measured with du at most every 5 minutes. */
  async backupRepositorySize(): Promise<number | null> {
    if (this.repoSizeCache && Date.now() - this.repoSizeCache.at < 300_000) return this.repoSizeCache.bytes;
    const r = await run("du", ["-sb", this.paths.backupRepo]);
    this.repoSizeCache = { bytes: r.code === 0 ? Number(r.stdout.split("\t")[0]) : null, at: Date.now() };
    return this.repoSizeCache.bytes;
  }
}

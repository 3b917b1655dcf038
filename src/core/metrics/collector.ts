import { readdirSync, readFileSync, statfsSync } from "node:fs";
import pg from "pg";
import type { Sample } from "./sample.js";
import { counterDelta, Snapshot } from "./sample.js";
import type { StatementDelta, StatementText } from "./store.js";

const COLLECT_DIR = new URL("./sql/collect/", import.meta.url);
const QUERIES = readdirSync(COLLECT_DIR)
  .filter((f) => f.endsWith(".sql"))
  .sort()
  .map((f) => ({ file: f, text: readFileSync(new URL(f, COLLECT_DIR), "utf8") }));
const STATEMENTS = readFileSync(new URL("./sql/statements.sql", import.meta.url), "utf8");
const STATEMENT_TEXTS = readFileSync(new URL("./sql/statement-texts.sql", import.meta.url), "utf8");

/** What the supervisor knows that no statistics view says. */
export interface CollectorContext {
  /** Each node: whether Patroni reports it running, its role and timeline. */
  nodes: { name: string; role: string; up: boolean; timeline: number | null }[];
  /** Filesystems to report free space for, by name (data, wal, backups). */
  disks: Record<string, string>;
  /** Backup and drill facts, when known (catalogReadable: pgBackRest's info answered). */
  catalogReadable: boolean;
  lastBackupEndedAt: string | null;
  /** When pgBackRest last dropped WAL (archive_queue_max) if no backup has started since: the archive's gap is open. */
  walGapSince: string | null;
  lastDrillOk: boolean | null;
  /** How often a backup is expected (the schedule), in seconds. */
  backupIntervalSeconds: number;
  /** Sizes measured with du (the primary's data directory; the local backup repository). */
  dataDirBytes: number | null;
  backupRepositoryBytes: number | null;
  /** Processes the supervisor runs, and whether each is up. */
  processes: { name: string; up: boolean }[];
  /** Certificates: this host's, and those the cluster issued its other hosts; when each ends (ISO 8601). */
  certificates: { host: string; certificate: string; expiresAt: string }[];
}

interface StatementRow {
  key: string;
  queryid: string;
  dbname: string;
  username: string;
  calls: string;
  total_ms: number;
  max_ms: number;
  stddev_ms: number;
  mean_ms: number;
  rows: string;
  shared_blks_hit: string;
  shared_blks_read: string;
}

/**
 * One collection: the statistics views (one query per file in sql/collect, each returning name,
 * labels, value), PgBouncer's SHOW POOLS and SHOW STATS, free space, and the supervisor's own facts.
 * Keeps the previous snapshot for interval figures (cache hit ratio) and pg_stat_statements deltas.
 */
export class Collector {
  private previous: Snapshot | undefined;
  private statements = new Map<string, StatementRow>();
  private statementsBaseline = false;
  /** Statements whose text has been fetched (by key). */
  private texts = new Set<string>();
  /** The primary's WAL position at each collection of the last hour, for replicas' lag in seconds. */
  private walHistory: { at: number; lsn: number }[] = [];

  constructor(
    private appDb: pg.Pool,
    private readonly pooler: () => pg.ClientConfig,
  ) {}

  /** After a failover the statistics are the new primary's: counters restart from its values. */
  retarget(appDb: pg.Pool): void {
    if (appDb === this.appDb) return;
    this.appDb = appDb;
    this.previous = undefined;
    this.statements.clear();
    this.statementsBaseline = false;
    this.texts.clear();
    this.walHistory = [];
  }

  async collect(context: CollectorContext): Promise<{ snapshot: Snapshot; statements: StatementDelta[]; texts: StatementText[] }> {
    const at = new Date();
    const samples: Sample[] = [];
    const client = await this.appDb.connect();
    let statementRows: StatementRow[] = [];
    let texts: StatementText[] = [];
    try {
      for (const q of QUERIES) {
        const rows = (await client.query<{ name: string; labels: Record<string, string>; value: number | null }>(q.text)).rows;
        for (const r of rows) if (r.value !== null && Number.isFinite(r.value)) samples.push({ name: r.name, labels: r.labels, value: Number(r.value) });
      }
      statementRows = (await client.query<StatementRow>(STATEMENTS)).rows;
      const fresh = statementRows.filter((r) => !this.texts.has(r.key));
      if (fresh.length > 0) {
        const byKey = new Map((await client.query<{ key: string; query: string }>(STATEMENT_TEXTS, [fresh.map((r) => r.key)])).rows.map((r) => [r.key, r.query]));
        texts = fresh.filter((r) => byKey.has(r.key)).map((r) => ({ queryid: r.queryid, dbname: r.dbname, username: r.username, query: byKey.get(r.key)! }));
        for (const t of fresh) if (byKey.has(t.key)) this.texts.add(t.key);
      }
    } finally {
      client.release();
    }
    samples.push(...(await this.poolerSamples()));
    samples.push(...diskSamples(context.disks));
    samples.push(...contextSamples(context, at));
    const snapshot = new Snapshot(at, samples);
    samples.push(...this.intervalSamples(snapshot), ...this.replicationLag(snapshot));
    const statements = this.statementDeltas(statementRows);
    this.previous = snapshot;
    return { snapshot: new Snapshot(at, samples), statements, texts };
  }

  /** Cache hit ratios over the interval since the previous collection, when blocks were touched. */
  private intervalSamples(now: Snapshot): Sample[] {
    const out: Sample[] = [];
    for (const kind of ["heap", "idx"] as const) {
      const hit = counterDelta(now, this.previous, `pg_${kind}_blks_hit_total`);
      const read = counterDelta(now, this.previous, `pg_${kind}_blks_read_total`);
      if (hit !== undefined && read !== undefined && hit + read > 0) out.push({ name: "pg_cache_hit_ratio", labels: { kind: kind === "idx" ? "index" : "heap" }, value: hit / (hit + read) });
    }
    return out;
  }

  /**
   * Each replica's lag in seconds: at least as old as the oldest WAL position the primary had, at an
   * earlier collection, that the replica has not replayed yet (a lower bound, exact to one interval),
   * and never less than PostgreSQL's replay_lag. Unlike replay_lag alone, it grows while a replica's
   * replay or receiver is stalled.
   */
  private replicationLag(now: Snapshot): Sample[] {
    const t = now.at.getTime();
    const current = now.value("pg_current_wal_lsn_bytes");
    if (current !== undefined) this.walHistory.push({ at: t, lsn: current });
    this.walHistory = this.walHistory.filter((h) => t - h.at <= 3_600_000);
    return now.all("pg_replication_replay_lsn_bytes").map((r) => {
      const reported = now.value("pg_replication_replay_lag_reported_seconds", r.labels) ?? 0;
      const behind = (now.value("pg_replication_lag_bytes", r.labels) ?? 0) > 0;
      const oldestUnreplayed = behind ? this.walHistory.find((h) => h.lsn > r.value) : undefined;
      const derived = oldestUnreplayed && oldestUnreplayed.at < t ? (t - oldestUnreplayed.at) / 1000 : 0;
      return { name: "pg_replication_lag_seconds", labels: r.labels, value: Math.max(reported, derived) };
    });
  }

  /**
   * pg_stat_statements differences. The first collection is the baseline; a statement seen for the
   * first time later counts from zero (it is new, or new to the top 500); a reset starts over.
   */
  private statementDeltas(rows: StatementRow[]): StatementDelta[] {
    const out: StatementDelta[] = [];
    for (const r of rows) {
      const before = this.statements.get(r.key);
      this.statements.set(r.key, r);
      if (!this.statementsBaseline) continue;
      const calls = Number(r.calls) - Number(before?.calls ?? 0);
      const base = calls >= 0 && before ? before : undefined;
      const n = base ? calls : Number(r.calls);
      if (n <= 0) continue;
      const total = r.total_ms - (base?.total_ms ?? 0);
      // Sum of squares of each call's time, from PostgreSQL's mean and (population) stddev.
      const sq = (x: StatementRow) => Number(x.calls) * (x.stddev_ms ** 2 + x.mean_ms ** 2);
      const sumSq = sq(r) - (base ? sq(base) : 0);
      out.push({
        queryid: r.queryid,
        dbname: r.dbname,
        username: r.username,
        calls: n,
        totalMs: total,
        maxMs: r.max_ms,
        sumSqDev: Math.max(0, sumSq - (total * total) / n),
        rows: Number(r.rows) - Number(base?.rows ?? 0),
        sharedBlksHit: Number(r.shared_blks_hit) - Number(base?.shared_blks_hit ?? 0),
        sharedBlksRead: Number(r.shared_blks_read) - Number(base?.shared_blks_read ?? 0),
      });
    }
    this.statementsBaseline = true;
    return out;
  }

  /** PgBouncer's pools and averages for every database entry (the monitoring role is a stats user). */
  private async poolerSamples(): Promise<Sample[]> {
    const c = new pg.Client(this.pooler());
    c.on("error", () => undefined);
    try {
      await c.connect();
      const out: Sample[] = [];
      for (const p of (await c.query<Record<string, string>>("SHOW POOLS")).rows) {
        if (p.database === "pgbouncer") continue;
        const labels = { database: p.database!, user: p.user! };
        out.push(
          { name: "pgbouncer_clients_active", labels, value: Number(p.cl_active) },
          { name: "pgbouncer_clients_waiting", labels, value: Number(p.cl_waiting) },
          { name: "pgbouncer_servers_active", labels, value: Number(p.sv_active) },
          { name: "pgbouncer_servers_idle", labels, value: Number(p.sv_idle) },
          { name: "pgbouncer_max_wait_seconds", labels, value: Number(p.maxwait) + Number(p.maxwait_us) / 1e6 },
        );
      }
      for (const s of (await c.query<Record<string, string>>("SHOW STATS")).rows) {
        if (s.database === "pgbouncer") continue;
        const labels = { database: s.database! };
        out.push(
          { name: "pgbouncer_transactions_total", labels, value: Number(s.total_xact_count) },
          { name: "pgbouncer_queries_total", labels, value: Number(s.total_query_count) },
          { name: "pgbouncer_avg_wait_seconds", labels, value: Number(s.avg_wait_time) / 1e6 },
          { name: "pgbouncer_avg_query_seconds", labels, value: Number(s.avg_query_time) / 1e6 },
        );
      }
      out.push({ name: "pgbouncer_up", labels: {}, value: 1 });
      return out;
    } catch {
      return [{ name: "pgbouncer_up", labels: {}, value: 0 }];
    } finally {
      await c.end().catch(() => undefined);
    }
  }
}

function diskSamples(disks: Record<string, string>): Sample[] {
  const out: Sample[] = [];
  for (const [name, path] of Object.entries(disks)) {
    try {
      const s = statfsSync(path);
      const total = s.blocks * s.bsize;
      const free = s.bavail * s.bsize;
      out.push(
        { name: "disk_total_bytes", labels: { disk: name }, value: total },
        { name: "disk_free_bytes", labels: { disk: name }, value: free },
        { name: "disk_used_ratio", labels: { disk: name }, value: total > 0 ? 1 - free / total : 0 },
      );
    } catch {
      /* not there (yet) */
    }
  }
  return out;
}

function contextSamples(c: CollectorContext, at: Date): Sample[] {
  const out: Sample[] = [];
  for (const n of c.nodes) {
    out.push({ name: "tusk_node_up", labels: { node: n.name, role: n.role }, value: n.up ? 1 : 0 });
    if (n.timeline !== null) out.push({ name: "tusk_node_timeline", labels: { node: n.name }, value: n.timeline });
  }
  for (const p of c.processes) out.push({ name: "tusk_process_up", labels: { process: p.name }, value: p.up ? 1 : 0 });
  out.push({ name: "tusk_backup_catalog_readable", labels: {}, value: c.catalogReadable ? 1 : 0 });
  if (c.lastBackupEndedAt) out.push({ name: "tusk_last_backup_age_seconds", labels: {}, value: (at.getTime() - Date.parse(c.lastBackupEndedAt)) / 1000 });
  out.push({ name: "tusk_backup_interval_seconds", labels: {}, value: c.backupIntervalSeconds });
  if (c.walGapSince) out.push({ name: "tusk_wal_gap_open_seconds", labels: {}, value: (at.getTime() - Date.parse(c.walGapSince)) / 1000 });
  if (c.dataDirBytes !== null) out.push({ name: "tusk_data_directory_bytes", labels: {}, value: c.dataDirBytes });
  if (c.backupRepositoryBytes !== null) out.push({ name: "tusk_backup_repository_bytes", labels: {}, value: c.backupRepositoryBytes });
  if (c.lastDrillOk !== null) out.push({ name: "tusk_last_drill_ok", labels: {}, value: c.lastDrillOk ? 1 : 0 });
  for (const cert of c.certificates) {
    out.push({ name: "tusk_certificate_expiry_seconds", labels: { host: cert.host, certificate: cert.certificate }, value: (Date.parse(cert.expiresAt) - at.getTime()) / 1000 });
  }
  return out;
}

import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";
import type { Sample } from "./sample.js";
import { seriesKey } from "./sample.js";

const sql = (name: string) => readFileSync(new URL(`./sql/${name}`, import.meta.url), "utf8");

const MIGRATIONS_DIR = new URL("./sql/migrations/", import.meta.url);
/** sql/migrations/NNNN-name.sql, in order. */
const MIGRATIONS = readdirSync(MIGRATIONS_DIR)
  .filter((f) => /^\d{4}-.+\.sql$/.test(f))
  .sort()
  .map((f) => ({ version: Number(f.slice(0, 4)), name: f.slice(5, -4), sql: readFileSync(new URL(f, MIGRATIONS_DIR), "utf8") }));

/** A pg_stat_statements difference between two collections. */
export interface StatementDelta {
  queryid: string;
  dbname: string;
  username: string;
  calls: number;
  totalMs: number;
  maxMs: number;
  sumSqDev: number;
  rows: number;
  sharedBlksHit: number;
  sharedBlksRead: number;
}

export interface StatementText {
  queryid: string;
  dbname: string;
  username: string;
  query: string;
}

export interface TopQuery {
  queryid: string;
  dbname: string;
  username: string;
  query: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  maxMs: number;
  stddevMs: number;
  rows: number;
  hitRatio: number | null;
}

/** Narrows statements to one database and/or one role. */
export interface StatementFilter {
  database?: string;
  role?: string;
}

export type TopQueryOrder = "total" | "mean" | "stddev" | "calls" | "max";

export interface SeriesPoint {
  at: string;
  value: number;
}

export interface Series {
  labels: Record<string, string>;
  points: SeriesPoint[];
}

export interface RetentionPolicy {
  /** Raw samples and statement deltas: whole days kept. */
  rawDays: number;
  /** Hourly rollups. */
  rollupDays: number;
}

const DAY_MS = 86_400_000;
const dayOf = (d: Date) => d.toISOString().slice(0, 10);

/**
 * tusk's metrics database: writes each collection, keeps daily partitions ahead of time, drops the
 * expired ones, rolls samples up by the hour, and answers the range queries the API, the dashboard
 * and the alert rules ask.
 */
export class MetricsStore {
  /**
   * A pool, or one checked-out client (inside writeCollection's transaction). seriesCache maps a
   * series key to its id in metrics.series; the monitoring service keeps one for the store's life.
   */
  constructor(
    private readonly db: pg.Pool | pg.PoolClient,
    private readonly seriesCache = new Map<string, number>(),
  ) {}

  /**
   * The metrics schema as numbered migrations (sql/migrations/NNNN-*.sql), each applied once in its
   * own transaction under an advisory lock, so two supervisors racing (a restart) apply it once.
   */
  async ensureSchema(now: Date): Promise<void> {
    await this.inTransaction(async (c) => {
      await c.query("CREATE SCHEMA IF NOT EXISTS metrics");
      await c.query("CREATE TABLE IF NOT EXISTS metrics.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
    });
    for (const m of MIGRATIONS) {
      await this.inTransaction(async (c) => {
        await c.query("SELECT pg_advisory_xact_lock(hashtext('tusk metrics migrations'))");
        if ((await c.query("SELECT 1 FROM metrics.migrations WHERE version = $1", [m.version])).rowCount) return;
        await c.query(m.sql);
        await c.query("INSERT INTO metrics.migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
      });
    }
    await this.ensurePartitions(now);
  }

  /** Runs work in one transaction on one client of the pool; rolls back if it throws. */
  private async inTransaction(work: (c: pg.PoolClient) => Promise<void>): Promise<void> {
    if (!(this.db instanceof pg.Pool)) throw new Error("a transaction starts from the pool, not inside another");
    const client = await this.db.connect();
    try {
      await client.query("BEGIN");
      await work(client);
      await client.query("COMMIT");
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /** Yesterday (late rows after midnight), today and the next two days. */
  async ensurePartitions(now: Date): Promise<void> {
    const first = dayOf(new Date(now.getTime() - DAY_MS));
    for (const parent of ["samples", "statements"]) await this.db.query("SELECT metrics.ensure_partitions($1, $2::date, 4)", [parent, first]);
  }

  /**
   * One collection in one transaction, with synchronous_commit off (also the metrics pool's session
   * default): monitoring history may lose its last moment in a crash, and in exchange never waits
   * for a WAL flush or for the synchronous standby that the application's commits wait for.
   */
  async writeCollection(at: Date, samples: readonly Sample[], statements: readonly StatementDelta[], texts: readonly StatementText[]): Promise<void> {
    await this.inTransaction(async (c) => {
      await c.query("SET LOCAL synchronous_commit = off");
      const store = new MetricsStore(c, this.seriesCache);
      await store.writeQueryTexts(texts);
      await store.write(at, samples);
      await store.writeStatements(at, statements);
    });
  }

  async write(at: Date, samples: readonly Sample[]): Promise<void> {
    const ids = await this.seriesIds(samples);
    await this.db.query("INSERT INTO metrics.samples (at, series_id, value) SELECT $1, i, v FROM unnest($2::int[], $3::float8[]) AS u(i, v)", [
      at,
      samples.map((s) => ids.get(seriesKey(s.name, s.labels))!),
      samples.map((s) => s.value),
    ]);
  }

  /** Each sample's series id: from the cache, else found or created in metrics.series. */
  private async seriesIds(samples: readonly Sample[]): Promise<Map<string, number>> {
    const missing = new Map<string, Sample>();
    for (const s of samples) {
      const key = seriesKey(s.name, s.labels);
      if (!this.seriesCache.has(key)) missing.set(key, s);
    }
    if (missing.size > 0) {
      const list = [...missing.values()];
      const rows = (await this.db.query<{ id: number; name: string; labels: Record<string, string> }>(sql("series-ids.sql"), [list.map((s) => s.name), list.map((s) => JSON.stringify(s.labels))]))
        .rows;
      for (const r of rows) this.seriesCache.set(seriesKey(r.name, r.labels), r.id);
    }
    return this.seriesCache;
  }

  async writeStatements(at: Date, rows: readonly StatementDelta[]): Promise<void> {
    if (rows.length === 0) return;
    const col = <K extends keyof StatementDelta>(k: K) => rows.map((r) => r[k]);
    await this.db.query(
      `INSERT INTO metrics.statements (at, queryid, dbname, username, calls, total_ms, max_ms, sum_sq_dev, mean_ms, rows, shared_blks_hit, shared_blks_read)
       SELECT $1, q::bigint, d, u, c, tot, mx, ssd, tot / greatest(c, 1), r, h, rd
       FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::float8[], $7::float8[], $8::float8[], $9::bigint[], $10::bigint[], $11::bigint[]) AS x(q, d, u, c, tot, mx, ssd, r, h, rd)`,
      [at, col("queryid"), col("dbname"), col("username"), col("calls"), col("totalMs"), col("maxMs"), col("sumSqDev"), col("rows"), col("sharedBlksHit"), col("sharedBlksRead")],
    );
  }

  /** The text of statements seen for the first time, stored once. */
  async writeQueryTexts(rows: readonly StatementText[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.query(
      "INSERT INTO metrics.queries (queryid, dbname, username, query) SELECT q::bigint, d, u, t FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS x(q, d, u, t) ON CONFLICT DO NOTHING",
      [rows.map((r) => r.queryid), rows.map((r) => r.dbname), rows.map((r) => r.username), rows.map((r) => r.query)],
    );
  }

  /** Partitions ahead, expired partitions dropped, expired rollups deleted. Returns what was dropped. */
  async applyRetention(now: Date, policy: RetentionPolicy): Promise<number> {
    await this.ensurePartitions(now);
    const cutoff = dayOf(new Date(now.getTime() - policy.rawDays * DAY_MS));
    let dropped = 0;
    for (const parent of ["samples", "statements"]) {
      dropped += (await this.db.query<{ n: number }>("SELECT metrics.drop_partitions_before($1, $2::date) AS n", [parent, cutoff])).rows[0]?.n ?? 0;
    }
    await this.db.query("DELETE FROM metrics.samples_hourly WHERE hour < $1", [new Date(now.getTime() - policy.rollupDays * DAY_MS)]);
    return dropped;
  }

  /** Rolls up one hour of samples (idempotent: a later run replaces the hour's rows). */
  async rollup(hour: Date): Promise<void> {
    const end = new Date(hour.getTime() + 3_600_000);
    await this.db.query(
      `INSERT INTO metrics.samples_hourly (hour, series_id, min, max, avg, last, count)
       SELECT $1, series_id, min(value), max(value), avg(value), (array_agg(value ORDER BY at DESC))[1], count(*)
       FROM metrics.samples WHERE at >= $1 AND at < $2 GROUP BY series_id
       ON CONFLICT (series_id, hour) DO UPDATE SET min = EXCLUDED.min, max = EXCLUDED.max, avg = EXCLUDED.avg, last = EXCLUDED.last, count = EXCLUDED.count`,
      [hour, end],
    );
  }

  /**
   * The series of one metric over [from, to): raw samples while they are kept, hourly averages
   * beyond. `rate` turns counters into per-second rates. `match` keeps series whose labels contain it.
   */
  async series(name: string, from: Date, to: Date, opts: { rate?: boolean; match?: Record<string, string>; rawDays: number }): Promise<Series[]> {
    const rawFrom = new Date(Date.now() - opts.rawDays * DAY_MS);
    const hourly = from < rawFrom;
    const rows = (
      await this.db.query<{ labels: Record<string, string>; at: Date; value: number }>(
        hourly
          ? "SELECT s.labels, h.hour AS at, h.last AS value FROM metrics.series s JOIN metrics.samples_hourly h ON h.series_id = s.id WHERE s.name = $1 AND h.hour >= $2 AND h.hour < $3 AND s.labels @> $4 ORDER BY s.id, h.hour"
          : "SELECT s.labels, x.at, x.value FROM metrics.series s JOIN metrics.samples x ON x.series_id = s.id WHERE s.name = $1 AND x.at >= $2 AND x.at < $3 AND s.labels @> $4 ORDER BY s.id, x.at",
        [name, from, to, JSON.stringify(opts.match ?? {})],
      )
    ).rows;
    const out = new Map<string, Series>();
    const previous = new Map<string, { at: Date; value: number }>();
    for (const r of rows) {
      const key = JSON.stringify(r.labels);
      let s = out.get(key);
      if (!s) {
        s = { labels: r.labels, points: [] };
        out.set(key, s);
      }
      if (opts.rate) {
        const p = previous.get(key);
        previous.set(key, { at: r.at, value: r.value });
        if (!p) continue;
        const seconds = (r.at.getTime() - p.at.getTime()) / 1000;
        if (seconds <= 0) continue;
        s.points.push({ at: r.at.toISOString(), value: (r.value >= p.value ? r.value - p.value : r.value) / seconds });
      } else s.points.push({ at: r.at.toISOString(), value: r.value });
    }
    return [...out.values()];
  }

  /** The statements that took the most time (or were slowest, most variable, most called) in [from, to). */
  async topQueries(from: Date, to: Date, order: TopQueryOrder, limit: number, only: StatementFilter = {}): Promise<TopQuery[]> {
    const orderBy = { total: '"totalMs"', mean: '"meanMs"', stddev: '"stddevMs"', calls: "calls", max: '"maxMs"' }[order];
    return (
      await this.db.query<TopQuery>(
        sql("top-queries.sql").replaceAll("$ORDER", () => orderBy),
        [from, to, limit, only.database ?? null, only.role ?? null],
      )
    ).rows;
  }

  /** The databases and roles that ran statements in a range: the choices of the Queries filters. */
  async statementSources(from: Date, to: Date): Promise<{ databases: string[]; roles: string[] }> {
    const rows = (await this.db.query<{ databases: string[] | null; roles: string[] | null }>(sql("statement-sources.sql"), [from, to])).rows;
    return { databases: rows[0]?.databases ?? [], roles: rows[0]?.roles ?? [] };
  }

  /** Calls and mean time of one statement per collection, for its chart (in one database and role when given). */
  async querySeries(queryid: string, from: Date, to: Date, only: StatementFilter = {}): Promise<{ at: string; calls: number; meanMs: number }[]> {
    const rows = (
      await this.db.query<{ at: Date; calls: string; mean_ms: number }>(
        "SELECT at, sum(calls) AS calls, sum(total_ms) / greatest(sum(calls), 1) AS mean_ms FROM metrics.statements WHERE queryid = $1::bigint AND at >= $2 AND at < $3 AND ($4::text IS NULL OR dbname = $4) AND ($5::text IS NULL OR username = $5) GROUP BY at ORDER BY at",
        [queryid, from, to, only.database ?? null, only.role ?? null],
      )
    ).rows;
    return rows.map((r) => ({ at: r.at.toISOString(), calls: Number(r.calls), meanMs: r.mean_ms }));
  }
}

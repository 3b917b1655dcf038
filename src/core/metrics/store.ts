import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";
import type { Sample } from "./sample.js";

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
  /** A pool, or one checked-out client (inside writeCollection's transaction). */
  constructor(private readonly db: pg.Pool | pg.PoolClient) {}

  /**
   * The metrics schema as numbered migrations (sql/migrations/NNNN-*.sql), each applied once in its
   * own transaction under an advisory lock, so two supervisors racing (a restart) apply it once.
   */
  async ensureSchema(now: Date): Promise<void> {
    if (!(this.db instanceof pg.Pool)) throw new Error("ensureSchema runs on the pool");
    const client = await this.db.connect();
    try {
      await client.query("CREATE SCHEMA IF NOT EXISTS metrics");
      await client.query("CREATE TABLE IF NOT EXISTS metrics.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
      for (const m of MIGRATIONS) {
        await client.query("BEGIN");
        try {
          await client.query("SELECT pg_advisory_xact_lock(hashtext('tusk metrics migrations'))");
          const done = (await client.query("SELECT 1 FROM metrics.migrations WHERE version = $1", [m.version])).rowCount;
          if (!done) {
            await client.query(m.sql);
            await client.query("INSERT INTO metrics.migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
          }
          await client.query("COMMIT");
        } catch (e) {
          await client.query("ROLLBACK").catch(() => undefined);
          throw e;
        }
      }
    } finally {
      client.release();
    }
    await this.ensurePartitions(now);
  }

  /** Yesterday (late rows after midnight), today and the next two days. */
  async ensurePartitions(now: Date): Promise<void> {
    const first = dayOf(new Date(now.getTime() - DAY_MS));
    for (const parent of ["samples", "statements"]) await this.db.query("SELECT metrics.ensure_partitions($1, $2::date, 4)", [parent, first]);
  }

  /**
   * One collection in one transaction, with synchronous_commit off: monitoring history may lose its
   * last moment in a crash, and in exchange never waits for a WAL flush or for the synchronous
   * standby that the application's commits wait for.
   */
  async writeCollection(at: Date, samples: readonly Sample[], statements: readonly StatementDelta[], texts: readonly StatementText[]): Promise<void> {
    if (!(this.db instanceof pg.Pool)) throw new Error("writeCollection runs on the pool, not inside a transaction");
    const client = await this.db.connect();
    const store = new MetricsStore(client);
    try {
      await client.query("BEGIN");
      await client.query("SET LOCAL synchronous_commit = off");
      await store.writeQueryTexts(texts);
      await store.write(at, samples);
      await store.writeStatements(at, statements);
      await client.query("COMMIT");
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  async write(at: Date, samples: readonly Sample[]): Promise<void> {
    await this.db.query(
      "INSERT INTO metrics.samples (at, name, labels, value) SELECT $1, n, l, v FROM unnest($2::text[], $3::jsonb[], $4::float8[]) AS u(n, l, v)",
      [at, samples.map((s) => s.name), samples.map((s) => JSON.stringify(s.labels)), samples.map((s) => s.value)],
    );
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
      `INSERT INTO metrics.samples_hourly (hour, name, labels, min, max, avg, last, count)
       SELECT $1, name, labels, min(value), max(value), avg(value), (array_agg(value ORDER BY at DESC))[1], count(*)
       FROM metrics.samples WHERE at >= $1 AND at < $2 GROUP BY name, labels
       ON CONFLICT (name, labels, hour) DO UPDATE SET min = EXCLUDED.min, max = EXCLUDED.max, avg = EXCLUDED.avg, last = EXCLUDED.last, count = EXCLUDED.count`,
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
          ? "SELECT labels, hour AS at, last AS value FROM metrics.samples_hourly WHERE name = $1 AND hour >= $2 AND hour < $3 AND labels @> $4 ORDER BY labels::text, hour"
          : "SELECT labels, at, value FROM metrics.samples WHERE name = $1 AND at >= $2 AND at < $3 AND labels @> $4 ORDER BY labels::text, at",
        [name, from, to, JSON.stringify(opts.match ?? {})],
      )
    ).rows;
    const out = new Map<string, Series>();
    const previous = new Map<string, { at: Date; value: number }>();
    for (const r of rows) {
      const key = JSON.stringify(r.labels);
      let s = out.get(key);
      if (!s) out.set(key, (s = { labels: r.labels, points: [] }));
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

  /** The samples of the latest collection. */
  async latest(): Promise<{ at: Date | null; samples: Sample[] }> {
    const rows = (await this.db.query<{ at: Date; name: string; labels: Record<string, string>; value: number }>(
      "SELECT at, name, labels, value FROM metrics.samples WHERE at = (SELECT max(at) FROM metrics.samples WHERE at > now() - interval '1 day')",
    )).rows;
    return { at: rows[0]?.at ?? null, samples: rows.map((r) => ({ name: r.name, labels: r.labels, value: r.value })) };
  }

  /** The statements that took the most time (or were slowest, most variable, most called) in [from, to). */
  async topQueries(from: Date, to: Date, order: TopQueryOrder, limit: number): Promise<TopQuery[]> {
    const orderBy = { total: '"totalMs"', mean: '"meanMs"', stddev: '"stddevMs"', calls: "calls", max: '"maxMs"' }[order];
    return (await this.db.query<TopQuery>(sql("top-queries.sql").replaceAll("$ORDER", () => orderBy), [from, to, limit])).rows;
  }

  /** Calls and mean time of one statement per collection, for its chart. */
  async querySeries(queryid: string, from: Date, to: Date): Promise<{ at: string; calls: number; meanMs: number }[]> {
    const rows = (await this.db.query<{ at: Date; calls: string; mean_ms: number }>(
      "SELECT at, sum(calls) AS calls, sum(total_ms) / greatest(sum(calls), 1) AS mean_ms FROM metrics.statements WHERE queryid = $1::bigint AND at >= $2 AND at < $3 GROUP BY at ORDER BY at",
      [queryid, from, to],
    )).rows;
    return rows.map((r) => ({ at: r.at.toISOString(), calls: Number(r.calls), meanMs: r.mean_ms }));
  }

  /** Bytes the metrics database holds, and the days of raw history it covers. */
  async footprint(): Promise<{ bytes: number; rawDays: number; rows: number }> {
    const r = (await this.db.query<{ bytes: string; days: number; rows: string }>(
      "SELECT pg_database_size(current_database()) AS bytes, (SELECT count(DISTINCT at::date) FROM metrics.samples)::int AS days, (SELECT count(*) FROM metrics.samples) AS rows",
    )).rows[0]!;
    return { bytes: Number(r.bytes), rawDays: r.days, rows: Number(r.rows) };
  }
}

import pg from "pg";

export interface WriterReport {
  acked: number[];
  errors: string[];
  /** The longest time between two acknowledged commits: the outage a client saw. */
  maxGapMs: number;
}

/**
 * Synthetic write load for failover drills, tests and the benchmark: a client that commits one row every 10 ms through a connection string and records every id whose
 * commit was acknowledged. Each query gives up after `queryTimeoutMs` (as an application would), and
 * the connection is then replaced.
 */
export class Writer {
  private stopped = false;
  /** When the last commit was acknowledged (ms since the epoch). */
  lastAckAt = Date.now();
  /** Commits acknowledged so far. */
  commits = 0;
  private readonly done: Promise<WriterReport>;

  constructor(url: string, table: string, queryTimeoutMs = 5000) {
    this.done = this.loop(url, table, queryTimeoutMs);
  }

  private async loop(url: string, table: string, queryTimeoutMs: number): Promise<WriterReport> {
    const report: WriterReport = { acked: [], errors: [], maxGapMs: 0 };
    let client: pg.Client | undefined;
    let id = 0;
    let lastOk = Date.now();
    while (!this.stopped) {
      try {
        if (!client) {
          client = new pg.Client({ connectionString: url, query_timeout: queryTimeoutMs, connectionTimeoutMillis: queryTimeoutMs });
          client.on("error", () => undefined);
          await client.connect();
        }
        const next = ++id;
        await client.query(`INSERT INTO ${table} (id) VALUES ($1)`, [next]);
        report.acked.push(next);
        report.maxGapMs = Math.max(report.maxGapMs, Date.now() - lastOk);
        lastOk = Date.now();
        this.lastAckAt = lastOk;
        this.commits++;
      } catch (e) {
        report.errors.push((e as Error).message);
        void client?.end().catch(() => undefined);
        client = undefined;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await client?.end().catch(() => undefined);
    return report;
  }

  stop(): Promise<WriterReport> {
    this.stopped = true;
    return this.done;
  }
}

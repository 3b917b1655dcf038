/**
 * Vector workload benchmark: the same 100,000 × 768 Gaussian-mixture vectors, HNSW (m 16,
 * ef_construction 64, cosine) built and queried (ef_search 40, 4 clients) on PostgreSQL with its stock
 * configuration, on PostgreSQL tuned by hand (the best configuration found in STACK-NOTES), on tusk
 * with its own tuning (no user settings), and — as the ceiling — a raw in-memory HNSW library
 * (hnswlib) on one thread. Prints one table from one run.
 *
 *   bash bench/run.sh vector [--rows N] [--dims N] [--queries N] [--clients N] [--targets stock,byhand,tusk,hnswlib] [--pgbench-seconds S]
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { mkdtempSync, chmodSync, rmSync, writeFileSync } from "node:fs";
import { run } from "../src/core/exec.js";
import { PG_BIN_DIR } from "../src/core/install/components.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { runCli } from "../test/helpers/cli.js";
import { freePortSet as freePorts } from "../src/core/cluster/free-ports.js";
import type { ConnectionStrings } from "../src/core/cluster/connection-strings.js";
import { StockPostgres } from "../test/helpers/stock-postgres.js";
import { machineLine, printTable, seconds } from "./lib/report.js";
import { exactTopK, mixture, recallAt, row, toText } from "./lib/vectors.js";

const { values: opts } = parseArgs({
  options: {
    rows: { type: "string", default: "100000" },
    dims: { type: "string", default: "768" },
    queries: { type: "string", default: "2000" },
    "recall-queries": { type: "string", default: "200" },
    clients: { type: "string", default: "4" },
    clusters: { type: "string", default: "100" },
    spread: { type: "string", default: "0.5" },
    targets: { type: "string", default: "stock,byhand,tusk,hnswlib" },
    "pgbench-seconds": { type: "string", default: "15" },
  },
});
const ROWS = Number(opts.rows);
const DIMS = Number(opts.dims);
const QUERIES = Number(opts.queries);
const RECALL_QUERIES = Math.min(QUERIES, Number(opts["recall-queries"]));
const CLIENTS = Number(opts.clients);
const EF_SEARCH = 40;
const TARGETS = new Set(opts.targets!.split(","));

interface HnswIndex {
  initIndex(maxElements: number, m?: number, efConstruction?: number, seed?: number): void;
  addPoint(point: number[], label: number): void;
  setEf(ef: number): void;
  searchKnn(q: number[], k: number): { neighbors: number[] };
}

const log = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);

async function withClient<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

/** Runs the query set over `clients` connections; returns QPS and the top-10 ids per query. */
async function queryRun(url: string, queries: string[], clients: number): Promise<{ qps: number; results: number[][] }> {
  const conns = await Promise.all(
    Array.from({ length: clients }, async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  const sql = { name: "knn", text: "SELECT id FROM items ORDER BY embedding <=> $1::vector LIMIT 10" };
  // Warm-up: the index and heap pages into cache, the plan prepared.
  await Promise.all(
    conns.map(async (c, k) => {
      for (let i = k; i < Math.min(queries.length, 400); i += clients) await c.query({ ...sql, values: [queries[i]] });
    }),
  );
  const results: number[][] = new Array(queries.length);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    conns.map(async (c) => {
      for (let i = next++; i < queries.length; i = next++) {
        const r = await c.query<{ id: number }>({ ...sql, values: [queries[i]] });
        results[i] = r.rows.map((x) => x.id);
      }
    }),
  );
  const elapsed = performance.now() - started;
  await Promise.all(conns.map((c) => c.end()));
  return { qps: queries.length / (elapsed / 1000), results };
}

const PGBENCH_SECONDS = Number(opts["pgbench-seconds"]);

/**
 * Server capacity without Node in the way: pgbench (C, prepared statements) with 4 clients picks a
 * random query vector from a table each transaction. The InitPlan's result is a Param, so the HNSW
 * index still orders the scan.
 */
async function pgbenchRun(url: string, queryCount: number, clients: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "tusk-bench-pgbench-"));
  const script = join(dir, "knn.sql");
  writeFileSync(script, `\\set q random(0, ${queryCount - 1})\nSELECT id FROM items ORDER BY embedding <=> (SELECT v FROM bench_queries WHERE qid = :q) LIMIT 10;\n`);
  try {
    const r = await run(`${PG_BIN_DIR}/pgbench`, ["-n", "-M", "prepared", "-c", String(clients), "-j", String(Math.min(clients, 2)), "-T", String(PGBENCH_SECONDS), "-f", script, url]);
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(r.stdout)?.[1];
    if (r.code !== 0 || !tps) throw new Error(`pgbench failed: ${r.stderr || r.stdout}`);
    return Number(tps);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  log(`generating ${ROWS} × ${DIMS} vectors (${opts.clusters} clusters) and ${QUERIES} queries`);
  const data = mixture({ count: ROWS, dims: DIMS, clusters: Number(opts.clusters), spread: Number(opts.spread), seed: 1 });
  const queryData = mixture({ count: QUERIES, dims: DIMS, clusters: Number(opts.clusters), spread: Number(opts.spread), seed: 2 });
  const queryText = Array.from({ length: QUERIES }, (_, i) => toText(row(queryData, i, DIMS)));
  log(`exact top-10 for ${RECALL_QUERIES} queries (brute force)`);
  const truth = Array.from({ length: RECALL_QUERIES }, (_, i) => exactTopK(data, ROWS, DIMS, row(queryData, i, DIMS), 10));
  const recall = (results: number[][]) => truth.reduce((s, t, i) => s + recallAt(results[i]!, t), 0) / truth.length;

  // tusk gets a whole set of free ports; the baselines take ports of a second set that excludes it
  // (a port next to one of tusk's may be one of tusk's).
  const ports = await freePorts();
  const spare = await freePorts(Object.values(ports));
  const stock = TARGETS.has("stock") ? await StockPostgres.start(spare.postgres) : undefined;
  // The best configuration found by hand on this kind of machine (STACK-NOTES): a fair baseline for
  // tusk's automatic tuning. Its table also gets ALTER TABLE … SET (parallel_workers = 1) below.
  const byHand = TARGETS.has("byhand") ? await StockPostgres.start(spare.pooler, ["shared_buffers=6GB", "effective_cache_size=18GB", "random_page_cost=1.1", "maintenance_work_mem=2GB"]) : undefined;
  const stateDir = mkdtempSync(join(tmpdir(), "tusk-bench-vector-"));
  chmodSync(stateDir, 0o755);
  const { stringify } = await import("yaml");
  writeFileSync(join(stateDir, "tusk.yaml"), stringify({ ports }));
  try {
    log("starting tusk with its own tuning (no overrides)");
    const up = await runCli(["--state-dir", stateDir, "up", "--json"]);
    if (up.code !== 0) throw new Error(`tusk up failed: ${up.stderr}`);
    const urls = JSON.parse(up.stdout) as ConnectionStrings;
    const targets = [
      ...(stock ? [{ key: "stock", name: "PostgreSQL, stock configuration", ddl: stock.url, query: stock.url }] : []),
      ...(byHand ? [{ key: "byhand", name: "PostgreSQL, tuned by hand (STACK-NOTES)", ddl: byHand.url, query: byHand.url }] : []),
      ...(TARGETS.has("tusk") ? [{ key: "tusk", name: "tusk (direct)", ddl: urls.migrations, query: urls.direct }] : []),
    ];
    const versions = await withClient(
      urls.direct,
      async (c) =>
        (
          await c.query(
            `SELECT current_setting('server_version') AS pg, (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS vector, current_setting('shared_buffers') AS sb, current_setting('maintenance_work_mem') AS mwm, current_setting('max_parallel_maintenance_workers') AS pmw, current_setting('min_parallel_table_scan_size') AS mpts, current_setting('random_page_cost') AS rpc, current_setting('effective_cache_size') AS ecs`,
          )
        ).rows[0],
    );
    for (const pgUrl of [stock?.url, byHand?.url].filter((u) => u !== undefined)) await withClient(pgUrl, (c) => c.query("CREATE EXTENSION IF NOT EXISTS vector"));
    for (const t of targets) {
      await withClient(t.ddl, async (c) => {
        await c.query(`CREATE TABLE items (id int PRIMARY KEY, embedding vector(${DIMS}) NOT NULL)`);
        if (t.key === "byhand") await c.query("ALTER TABLE items SET (parallel_workers = 1)");
        await c.query(`CREATE TABLE bench_queries (qid int PRIMARY KEY, v vector(${DIMS}) NOT NULL)`);
        await c.query(`INSERT INTO bench_queries SELECT * FROM unnest($1::int[], $2::vector[])`, [queryText.map((_, i) => i), queryText]);
      });
    }

    log("loading both databases");
    const loaders = await Promise.all(
      targets.map(async (t) => {
        const c = new pg.Client({ connectionString: t.ddl });
        await c.connect();
        return c;
      }),
    );
    for (let i = 0; i < ROWS; i += 500) {
      const ids: number[] = [];
      const vecs: string[] = [];
      for (let j = i; j < Math.min(ROWS, i + 500); j++) {
        ids.push(j);
        vecs.push(toText(row(data, j, DIMS)));
      }
      await Promise.all(loaders.map((c) => c.query("INSERT INTO items SELECT * FROM unnest($1::int[], $2::vector[])", [ids, vecs])));
      if (i % 20000 === 0) log(`  ${i} rows`);
    }
    await Promise.all(
      loaders.map(async (c) => {
        await c.query("VACUUM ANALYZE items");
        await c.end();
      }),
    );

    const rows: (string | number)[][] = [];
    for (const t of targets) {
      log(`CREATE INDEX on ${t.name}`);
      const build = await withClient(t.ddl, async (c) => {
        const started = performance.now();
        await c.query("CREATE INDEX items_embedding_hnsw ON items USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)");
        return performance.now() - started;
      });
      log(`  ${seconds(build)} s; querying with ${CLIENTS} clients (node-postgres, then pgbench)`);
      const q = await queryRun(t.query, queryText, CLIENTS);
      const bench = await pgbenchRun(t.query, QUERIES, CLIENTS);
      rows.push([t.name, seconds(build), Math.round(bench), Math.round(q.qps), recall(q.results).toFixed(3)]);
      if (t.name.startsWith("tusk")) {
        log("querying through tusk's pooler (transaction mode)");
        const pooled = await queryRun(urls.pooled, queryText, CLIENTS);
        const pooledBench = await pgbenchRun(urls.pooled, QUERIES, CLIENTS);
        rows.push(["tusk (through PgBouncer, transaction mode)", "(same index)", Math.round(pooledBench), Math.round(pooled.qps), recall(pooled.results).toFixed(3)]);
      }
    }

    if (TARGETS.has("hnswlib")) {
      log("raw hnswlib: build and query on one thread");
      const require = createRequire(fileURLToPath(new URL("../../bench/package.json", import.meta.url)));
      const hnswlib = require("hnswlib-node") as { HierarchicalNSW: new (space: string, dims: number) => HnswIndex };
      const index = new hnswlib.HierarchicalNSW("cosine", DIMS);
      const t0 = performance.now();
      index.initIndex(ROWS, 16, 64, 100);
      // hnswlib-node takes plain arrays; the copy is part of the build time (well under a second).
      for (let i = 0; i < ROWS; i++) index.addPoint(Array.from(row(data, i, DIMS)), i);
      const rawBuild = performance.now() - t0;
      index.setEf(EF_SEARCH);
      const rawResults: number[][] = [];
      const rawQueries = Array.from({ length: QUERIES }, (_, i) => Array.from(row(queryData, i, DIMS)));
      for (let i = 0; i < Math.min(400, QUERIES); i++) index.searchKnn(rawQueries[i]!, 10);
      const t1 = performance.now();
      for (let i = 0; i < QUERIES; i++) rawResults.push(index.searchKnn(rawQueries[i]!, 10).neighbors);
      const rawQps = QUERIES / ((performance.now() - t1) / 1000);
      rows.push(["hnswlib in memory (1 thread, ef 40)", seconds(rawBuild), "-", Math.round(rawQps), recall(rawResults).toFixed(3)]);
    }

    console.log(`\nMachine: ${machineLine()}`);
    console.log(
      `PostgreSQL ${versions.pg}, pgvector ${versions.vector}${TARGETS.has("hnswlib") ? ", hnswlib-node 3.0.0" : ""}. Data: ${ROWS} × ${DIMS} (Gaussian mixture, ${opts.clusters} clusters), ${QUERIES} queries, recall@10 over ${RECALL_QUERIES} against brute force.`,
    );
    console.log(
      `tusk chose: shared_buffers ${versions.sb}, effective_cache_size ${versions.ecs}, maintenance_work_mem ${versions.mwm}, max_parallel_maintenance_workers ${versions.pmw}, min_parallel_table_scan_size ${versions.mpts}, random_page_cost ${versions.rpc}.`,
    );
    printTable(
      `HNSW (m 16, ef_construction 64, cosine); queries at ef_search ${EF_SEARCH}, ${CLIENTS} clients (hnswlib: 1 thread)`,
      ["target", "CREATE INDEX s", "queries/s pgbench", "queries/s node-postgres", "recall@10"],
      rows,
    );
  } finally {
    await stock?.stop();
    await byHand?.stop();
    await runCli(["--state-dir", stateDir, "destroy", "--yes"]);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

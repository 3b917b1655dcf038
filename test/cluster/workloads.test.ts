import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import pgvector from "pgvector/pg";
import { TestCluster } from "../helpers/test-cluster.js";

/**
 * The generalist patterns tusk promises, run through the pooled endpoint as the application role with
 * node-postgres and pgvector, against one real cluster. Schema changes run as the owner role (as
 * migrations would), through the pooler's session entry.
 */
let cluster: TestCluster;
let owner: pg.Pool;
let app: pg.Pool;

const plan = async (pool: pg.Pool, sql: string, values: unknown[] = []) => (await pool.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, values)).rows.map((r) => r["QUERY PLAN"]).join("\n");

before(async () => {
  cluster = await TestCluster.start("workloads");
  owner = cluster.pool("session", "owner", 2);
  app = cluster.pool("pooled", "app", 10);
});

after(async () => {
  await owner?.end();
  await app?.end();
  await cluster?.destroy();
});

describe("roles", () => {
  test("the application role is a plain login: not superuser, not owner, cannot create tables", async () => {
    const r = await app.query("SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = current_user");
    assert.deepEqual(r.rows[0], { rolsuper: false, rolbypassrls: false, rolcreaterole: false });
    await assert.rejects(app.query("CREATE TABLE nope (id int)"), /permission denied for schema public/);
  });

  test("the monitoring role reads statistics and cannot write", async () => {
    const r = await cluster.query(cluster.urls.monitoring, "SELECT pg_has_role('pg_monitor', 'member') AS monitor, count(*) >= 0 AS sees FROM pg_stat_activity");
    assert.deepEqual(r.rows[0], { monitor: true, sees: true });
    await assert.rejects(cluster.query(cluster.urls.monitoring, "CREATE TEMP TABLE t (x int)"), /read-only transaction/);
  });

  test("every extension tusk promises is installed in the application database", async () => {
    const r = await app.query<{ extname: string }>("SELECT extname FROM pg_extension ORDER BY 1");
    const names = r.rows.map((x) => x.extname);
    for (const ext of ["vector", "pg_trgm", "pg_stat_statements", "btree_gist", "pg_partman", "pg_cron"]) assert.ok(names.includes(ext), `${ext} missing: ${names}`);
    const v = await app.query("SELECT extversion FROM pg_extension WHERE extname = 'vector'");
    assert.match(v.rows[0].extversion, /^0\.8\./);
  });
});

describe("JSONB documents", () => {
  before(async () => {
    await owner.query(`CREATE TABLE events (id bigserial PRIMARY KEY, doc jsonb NOT NULL)`);
    await owner.query(`INSERT INTO events (doc)
      SELECT jsonb_build_object('type', (ARRAY['click','view','buy','share'])[1 + i % 4] || (i % 500)::text,
                                'user', jsonb_build_object('id', i % 1000), 'n', i)
      FROM generate_series(1, 20000) i`);
    await owner.query(`CREATE INDEX events_type_idx ON events ((doc->>'type'))`);
    await owner.query(`CREATE INDEX events_doc_idx ON events USING gin (doc jsonb_path_ops)`);
    await owner.query(`ANALYZE events`);
  });

  test("an expression index on ->> serves equality", async () => {
    const p = await plan(app, `SELECT * FROM events WHERE doc->>'type' = 'buy2'`);
    assert.match(p, /events_type_idx/);
    const r = await app.query(`SELECT count(*)::int AS n FROM events WHERE doc->>'type' = $1`, ["buy2"]);
    assert.equal(r.rows[0].n, 40);
  });

  test("a GIN jsonb_path_ops index serves @> containment", async () => {
    const p = await plan(app, `SELECT * FROM events WHERE doc @> '{"user": {"id": 42}}'`);
    assert.match(p, /events_doc_idx/);
    const r = await app.query(`SELECT count(*)::int AS n FROM events WHERE doc @> $1`, [{ user: { id: 42 } }]);
    assert.equal(r.rows[0].n, 20);
  });
});

describe("full-text search", () => {
  before(async () => {
    await owner.query(`CREATE TABLE articles (
      id bigserial PRIMARY KEY, title text NOT NULL, body text NOT NULL,
      search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')) STORED)`);
    await owner.query(`CREATE INDEX articles_search_idx ON articles USING gin (search)`);
    await app.query(`INSERT INTO articles (title, body)
      SELECT 'Note ' || i, 'filler text about gardening and weather number ' || i FROM generate_series(1, 5000) i`);
    await app.query(`INSERT INTO articles (title, body) VALUES
      ('Tuning PostgreSQL for vectors', 'How shared buffers and HNSW indexes interact.'),
      ('A guide to gardening', 'PostgreSQL appears once in this body about tomatoes.'),
      ('MySQL and PostgreSQL compared', 'A comparison of two databases.')`);
    await owner.query(`ANALYZE articles`);
  });

  test("websearch_to_tsquery finds matches through the GIN index, title hits ranked first, with snippets", async () => {
    const q = `SELECT title, ts_rank(search, q) AS rank, ts_headline('english', body, q) AS snippet
               FROM articles, websearch_to_tsquery('english', $1) q WHERE search @@ q ORDER BY rank DESC`;
    assert.match(await plan(app, q, ["postgresql"]), /articles_search_idx/);
    const r = await app.query(q, ["postgresql"]);
    assert.deepEqual(
      r.rows.map((x) => x.title),
      ["Tuning PostgreSQL for vectors", "MySQL and PostgreSQL compared", "A guide to gardening"],
    );
    assert.ok(r.rows[0].rank >= r.rows[1].rank && r.rows[1].rank > r.rows[2].rank, JSON.stringify(r.rows));
    assert.match(r.rows[2].snippet, /<b>PostgreSQL<\/b>/);
  });

  test("websearch syntax: quoted phrases and -exclusion", async () => {
    const q = `SELECT title FROM articles WHERE search @@ websearch_to_tsquery('english', $1) ORDER BY title`;
    assert.deepEqual(
      (await app.query(q, ["postgresql -mysql"])).rows.map((x) => x.title),
      ["A guide to gardening", "Tuning PostgreSQL for vectors"],
    );
    assert.deepEqual(
      (await app.query(q, ['"shared buffers"'])).rows.map((x) => x.title),
      ["Tuning PostgreSQL for vectors"],
    );
  });
});

describe("vectors (pgvector)", () => {
  const dims = 16;
  const rows = 2000;
  let vectors: number[][];
  const random = (() => {
    let s = 12345;
    return () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return (s / 2147483648) * 2 - 1;
    };
  })();

  before(async () => {
    await owner.query(`CREATE TABLE items (id int PRIMARY KEY, embedding vector(${dims}) NOT NULL)`);
    vectors = Array.from({ length: rows }, () => Array.from({ length: dims }, random));
    const client = await app.connect();
    try {
      await pgvector.registerTypes(client);
      for (let i = 0; i < rows; i += 500) {
        const chunk = vectors.slice(i, i + 500);
        await client.query(`INSERT INTO items (id, embedding) SELECT * FROM unnest($1::int[], $2::vector[])`, [chunk.map((_, j) => i + j), chunk.map((v) => pgvector.toSql(v))]);
      }
    } finally {
      client.release();
    }
    await owner.query(`CREATE INDEX items_hnsw_idx ON items USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)`);
    await owner.query(`CREATE INDEX items_ivf_idx ON items USING ivfflat (embedding vector_l2_ops) WITH (lists = 20)`);
    await owner.query(`ANALYZE items`);
  });

  /** Top-10 ids for an operator, inside one transaction through the transaction pooler. */
  async function topIds(op: string, query: number[], settings: string[]): Promise<number[]> {
    const client = await app.connect();
    try {
      await client.query("BEGIN");
      for (const s of settings) await client.query(s);
      const r = await client.query<{ id: number }>(`SELECT id FROM items ORDER BY embedding ${op} $1 LIMIT 10`, [pgvector.toSql(query)]);
      await client.query("COMMIT");
      return r.rows.map((x) => x.id);
    } finally {
      client.release();
    }
  }

  test("the planner uses HNSW for cosine and IVFFlat for L2", async () => {
    const q = pgvector.toSql(vectors[0]!);
    assert.match(await plan(app, `SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 10`, [q]), /items_hnsw_idx/);
    assert.match(await plan(app, `SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 10`, [q]), /items_ivf_idx/);
  });

  test("SET LOCAL hnsw.ef_search through the transaction pooler; index results equal exact search", async () => {
    for (const probe of [vectors[3]!, vectors[777]!, Array.from({ length: dims }, random)]) {
      const exact = await topIds("<=>", probe, ["SET LOCAL enable_indexscan = off"]);
      const viaIndex = await topIds("<=>", probe, ["SET LOCAL hnsw.ef_search = 200"]);
      assert.deepEqual(viaIndex, exact);
      const exactL2 = await topIds("<->", probe, ["SET LOCAL enable_indexscan = off"]);
      const ivf = await topIds("<->", probe, ["SET LOCAL ivfflat.probes = 20"]);
      assert.deepEqual(ivf, exactL2);
    }
    // SET LOCAL did not leak into the pooled server connection after COMMIT
    const r = await app.query("SHOW hnsw.ef_search");
    assert.equal(r.rows[0]["hnsw.ef_search"], "40");
  });

  test("<=>, <-> and <#> agree with distances computed here", async () => {
    const a = vectors[10]!;
    const b = vectors[20]!;
    const dot = a.reduce((s, x, i) => s + x * b[i]!, 0);
    const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    const r = await app.query(`SELECT $1::vector <=> $2::vector AS cos, $1::vector <-> $2::vector AS l2, $1::vector <#> $2::vector AS ip`, [pgvector.toSql(a), pgvector.toSql(b)]);
    const l2 = Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]!) ** 2, 0));
    assert.ok(Math.abs(r.rows[0].cos - (1 - dot / (norm(a) * norm(b)))) < 1e-5);
    assert.ok(Math.abs(r.rows[0].l2 - l2) < 1e-5);
    assert.ok(Math.abs(r.rows[0].ip - -dot) < 1e-5);
  });
});

describe("time series (pg_partman)", () => {
  before(async () => {
    await owner.query(`CREATE TABLE readings (at timestamptz NOT NULL, device int NOT NULL, value double precision) PARTITION BY RANGE (at)`);
    await owner.query(`SELECT partman.create_parent(p_parent_table => 'public.readings', p_control => 'at', p_type => 'native',
                        p_interval => 'monthly', p_premake => 2, p_start_partition => '2026-01-01')`);
    await owner.query(`CREATE INDEX readings_at_brin ON readings USING brin (at)`);
    await app.query(`INSERT INTO readings SELECT '2026-01-01'::timestamptz + (i || ' minutes')::interval, i % 10, i FROM generate_series(0, 100000) i`);
    await app.query(`INSERT INTO readings VALUES ('2031-05-05', 1, 1)`); // beyond the premade partitions
    await owner.query(`ANALYZE readings`);
  });

  test("monthly partitions and a DEFAULT partition exist; rows land in the right ones", async () => {
    const r = await app.query<{ name: string }>(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass ORDER BY 1`);
    const names = r.rows.map((x) => x.name);
    assert.ok(names.includes("readings_default"), names.join());
    assert.ok(names.includes("readings_p2026_01") && names.includes("readings_p2026_02"), names.join());
    const d = await app.query(`SELECT count(*)::int AS n FROM readings_default`);
    assert.equal(d.rows[0].n, 1);
  });

  test("a query on one month touches only that partition, via BRIN", async () => {
    const p = await plan(app, `SELECT avg(value) FROM readings WHERE at >= '2026-02-01' AND at < '2026-02-08'`);
    assert.match(p, /readings_p2026_02/);
    assert.doesNotMatch(p, /readings_p2026_01|readings_default/);
    assert.match(p, /brin|Bitmap Index Scan/i);
  });
});

describe("materialized view refreshed by pg_cron", () => {
  test("a unique-indexed view refreshes CONCURRENTLY, on a pg_cron schedule", async () => {
    await owner.query(`CREATE TABLE sales (day date NOT NULL, amount numeric NOT NULL)`);
    await owner.query(`INSERT INTO sales SELECT '2026-01-01'::date + (i % 30), i FROM generate_series(1, 3000) i`);
    await owner.query(`CREATE MATERIALIZED VIEW daily_sales AS SELECT day, sum(amount) AS total, count(*) AS n FROM sales GROUP BY day`);
    await owner.query(`CREATE UNIQUE INDEX daily_sales_day ON daily_sales (day)`);
    await owner.query(`GRANT SELECT ON daily_sales TO app`);
    await owner.query(`REFRESH MATERIALIZED VIEW CONCURRENTLY daily_sales`);
    await app.query(`INSERT INTO sales VALUES ('2026-03-01', 1)`);
    const job = await owner.query(`SELECT cron.schedule('refresh-daily-sales', '* * * * *', 'REFRESH MATERIALIZED VIEW CONCURRENTLY daily_sales') AS id`);
    assert.ok(Number(job.rows[0].id) > 0);
    // pg_cron's finest schedule in 1.4 is a minute: wait for one run (bounded).
    const deadline = Date.now() + 75_000;
    let status: string | undefined;
    while (Date.now() < deadline) {
      const r = await owner.query(`SELECT status FROM cron.job_run_details WHERE jobid = $1 ORDER BY start_time DESC LIMIT 1`, [job.rows[0].id]);
      status = r.rows[0]?.status;
      if (status === "succeeded" || status === "failed") break;
      await new Promise((res) => setTimeout(res, 1000));
    }
    assert.equal(status, "succeeded");
    const r = await app.query(`SELECT n::int FROM daily_sales WHERE day = '2026-03-01'`);
    assert.equal(r.rows[0]?.n, 1);
    await owner.query(`SELECT cron.unschedule('refresh-daily-sales')`);
  });
});

describe("row-level security through the transaction pooler", () => {
  test("1,000 interleaved transactions from 50 clients: no tenant ever sees another tenant's row", async () => {
    await owner.query(`CREATE TABLE notes (id bigserial PRIMARY KEY, tenant_id int NOT NULL DEFAULT nullif(current_setting('app.tenant_id', true), '')::int, body text NOT NULL)`);
    await owner.query(`ALTER TABLE notes ENABLE ROW LEVEL SECURITY`);
    await owner.query(`ALTER TABLE notes FORCE ROW LEVEL SECURITY`);
    // After SET LOCAL on a pooled server connection the setting reads '' (not NULL) in later
    // transactions, hence nullif: an unset tenant then matches no row instead of raising an error.
    const tenant = `nullif(current_setting('app.tenant_id', true), '')::int`;
    await owner.query(`CREATE POLICY tenant_isolation ON notes USING (tenant_id = ${tenant}) WITH CHECK (tenant_id = ${tenant})`);
    const pool = cluster.pool("pooled", "app", 50);
    const inserted = new Map<number, number>();
    let violations = 0;
    let done = 0;
    const worker = async (w: number) => {
      for (let i = 0; i < 20; i++) {
        const tenant = (w * 7 + i * 3) % 10;
        const client = await pool.connect();
        try {
          await client.query("BEGIN");
          await client.query(`SET LOCAL app.tenant_id = '${tenant}'`);
          await client.query(`INSERT INTO notes (body) VALUES ($1)`, [`w${w} i${i}`]);
          const seen = await client.query<{ tenant_id: number }>(`SELECT tenant_id FROM notes`);
          violations += seen.rows.filter((r) => r.tenant_id !== tenant).length;
          await client.query("COMMIT");
          inserted.set(tenant, (inserted.get(tenant) ?? 0) + 1);
          done++;
        } finally {
          client.release();
        }
      }
    };
    await Promise.all(Array.from({ length: 50 }, (_, w) => worker(w)));
    await pool.end();
    assert.equal(done, 1000);
    assert.equal(violations, 0);
    // Without a tenant, nothing is visible; each tenant sees exactly its own rows.
    assert.equal((await app.query(`SELECT count(*)::int AS n FROM notes`)).rows[0].n, 0);
    for (const [tenant, n] of inserted) {
      const client = await app.connect();
      try {
        await client.query("BEGIN");
        await client.query(`SET LOCAL app.tenant_id = '${tenant}'`);
        const r = await client.query(`SELECT count(*)::int AS n FROM notes`);
        await client.query("COMMIT");
        assert.equal(r.rows[0].n, n);
      } finally {
        client.release();
      }
    }
    // Writing another tenant's row is refused by the policy.
    const client = await app.connect();
    try {
      await client.query("BEGIN");
      await client.query(`SET LOCAL app.tenant_id = '1'`);
      await assert.rejects(client.query(`INSERT INTO notes (tenant_id, body) VALUES (2, 'x')`), /row-level security/);
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
  });
});

describe("transactions and sessions", () => {
  test("REPEATABLE READ sees one snapshot while another client commits", async () => {
    await owner.query(`CREATE TABLE ledger (id serial PRIMARY KEY, amount int NOT NULL)`);
    await app.query(`INSERT INTO ledger (amount) VALUES (10), (20)`);
    const reader = await app.connect();
    try {
      await reader.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
      const before = (await reader.query(`SELECT sum(amount)::int AS s FROM ledger`)).rows[0].s;
      await app.query(`INSERT INTO ledger (amount) VALUES (5)`);
      const during = (await reader.query(`SELECT sum(amount)::int AS s FROM ledger`)).rows[0].s;
      await reader.query("COMMIT");
      const afterwards = (await reader.query(`SELECT sum(amount)::int AS s FROM ledger`)).rows[0].s;
      assert.equal(before, 30);
      assert.equal(during, 30);
      assert.equal(afterwards, 35);
    } finally {
      reader.release();
    }
  });

  test("the session entry keeps LISTEN/NOTIFY, temp tables and advisory locks across statements", async () => {
    const listener = new pg.Client({ connectionString: cluster.url("session") });
    await listener.connect();
    try {
      await listener.query(`CREATE TEMP TABLE scratch (x int)`);
      await listener.query(`INSERT INTO scratch VALUES (1)`);
      assert.equal((await listener.query(`SELECT count(*)::int AS n FROM scratch`)).rows[0].n, 1);
      assert.equal((await listener.query(`SELECT pg_try_advisory_lock(42) AS ok`)).rows[0].ok, true);
      const got = new Promise<string>((resolve) => listener.on("notification", (m) => resolve(m.payload ?? "")));
      await listener.query(`LISTEN jobs`);
      await app.query(`SELECT pg_notify('jobs', 'hello')`);
      assert.equal(await got, "hello");
    } finally {
      await listener.end();
    }
  });

  test("protocol-level named prepared statements work through the transaction pooler from 20 clients", async () => {
    const clients = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const c = new pg.Client({ connectionString: cluster.url("pooled") });
        await c.connect();
        return c;
      }),
    );
    try {
      let ok = 0;
      await Promise.all(
        clients.map(async (c, n) => {
          for (let i = 0; i < 25; i++) {
            const r = await c.query({ name: "ledger_plus", text: "SELECT $1::int + count(*)::int AS v FROM ledger", values: [n * 100 + i] });
            assert.equal(r.rows[0].v, n * 100 + i + 3);
            ok++;
          }
        }),
      );
      assert.equal(ok, 500);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });
});

describe("statistics and connection scale", () => {
  test("pg_stat_statements records the queries", async () => {
    for (let i = 0; i < 50; i++) await app.query(`SELECT count(*) FROM ledger WHERE amount > $1`, [i]);
    const r = await cluster.query(cluster.urls.monitoring, `SELECT calls::int FROM pg_stat_statements WHERE query LIKE 'SELECT count(*) FROM ledger WHERE amount > $1%'`);
    assert.ok((r.rows[0]?.calls ?? 0) >= 50, JSON.stringify(r.rows));
  });

  test("1,000 concurrent client connections through the pooler all succeed while max_connections stays 100", async () => {
    const clients: pg.Client[] = [];
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 1000 }, async () => {
          const c = new pg.Client({ connectionString: cluster.url("pooled"), connectionTimeoutMillis: 60_000 });
          clients.push(c);
          await c.connect();
          return (await c.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
        }),
      );
      const failed = results.filter((r) => r.status === "rejected");
      assert.equal(failed.length, 0, String((failed[0] as PromiseRejectedResult | undefined)?.reason));
      const serverPids = new Set(results.map((r) => (r as PromiseFulfilledResult<number>).value));
      assert.ok(serverPids.size <= 60, `${serverPids.size} server connections`);
      const mc = await app.query("SHOW max_connections");
      assert.equal(mc.rows[0].max_connections, "100");
    } finally {
      await Promise.allSettled(clients.map((c) => c.end()));
    }
  });
});

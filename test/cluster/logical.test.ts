import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { ExitCode } from "../../src/core/errors.js";
import { TestCluster } from "../helpers/test-cluster.js";
import { StockPostgres } from "../helpers/stock-postgres.js";
import { freePortSet as freePorts } from "../../src/core/cluster/free-ports.js";

/** Logical import and export: users migrate in from another PostgreSQL, and take data out. */
let cluster: TestCluster;
let source: StockPostgres;
const work = mkdtempSync(join(tmpdir(), "tusk-logical-"));

before(async () => {
  [cluster, source] = await Promise.all([TestCluster.start("logical"), freePorts().then((p) => StockPostgres.start(p.postgres))]);
  const c = new pg.Client({ connectionString: source.url });
  await c.connect();
  await c.query("CREATE EXTENSION vector");
  await c.query("CREATE SCHEMA shop");
  await c.query("CREATE TABLE shop.products (id int PRIMARY KEY, name text NOT NULL, embedding vector(3))");
  await c.query("INSERT INTO shop.products SELECT i, 'product ' || i, ARRAY[i, i * 2, i * 3]::vector FROM generate_series(1, 500) i");
  await c.query("CREATE INDEX products_embedding ON shop.products USING hnsw (embedding vector_l2_ops)");
  await c.query("CREATE TABLE notes (id serial PRIMARY KEY, body text)");
  await c.query("INSERT INTO notes (body) VALUES ('one'), ('two')");
  await c.query("COMMENT ON TABLE notes IS 'kept across the import'");
  await c.end();
});

after(async () => {
  await source?.stop();
  await cluster?.destroy();
  rmSync(work, { recursive: true, force: true });
});

test("tusk import --from a running PostgreSQL moves schema and data, pgvector columns and indexes included", async () => {
  const r = await cluster.cli("import", "--from", source.url, "--jobs", "2");
  assert.equal(r.code, 0, r.stderr);
  const app = cluster.url("pooled");
  const rows = await cluster.query(app, "SELECT count(*)::int AS n, max(embedding <-> '[1,2,3]')::float AS far FROM shop.products");
  assert.equal(rows.rows[0]!.n, 500);
  assert.ok(rows.rows[0]!.far > 1000);
  const nearest = await cluster.query(app, "SELECT id FROM shop.products ORDER BY embedding <-> '[10,20,30]' LIMIT 1");
  assert.equal(nearest.rows[0]!.id, 10);
  const owner = await cluster.query(
    cluster.url("direct", "owner"),
    "SELECT tableowner, (SELECT indexdef FROM pg_indexes WHERE indexname = 'products_embedding') AS idx, obj_description('public.notes'::regclass) AS comment FROM pg_tables WHERE tablename = 'products'",
  );
  assert.equal(owner.rows[0]!.tableowner, "app_owner");
  assert.match(owner.rows[0]!.idx, /USING hnsw/);
  assert.equal(owner.rows[0]!.comment, "kept across the import");
  // The application role writes the imported tables through its default privileges.
  await cluster.query(app, "INSERT INTO notes (body) VALUES ('three')");
  assert.equal((await cluster.query(app, "SELECT count(*)::int AS n FROM notes")).rows[0]!.n, 3);
});

test("tusk dump of chosen tables; importing it where those tables exist fails with pg_restore's reason", async () => {
  const file = join(work, "notes.dump");
  const d = await cluster.cli("dump", "--table", "notes", "--file", file);
  assert.equal(d.code, 0, d.stderr);
  assert.ok(existsSync(file));
  // Importing the same tables again collides, and says so without a stack trace.
  const again = await cluster.cli("import", file);
  assert.equal(again.code, ExitCode.ProcessFailed);
  assert.match(again.stderr, /pg_restore failed[\s\S]*already exists/);
  assert.doesNotMatch(again.stderr, /\n\s+at /);
});

test("import refusals: no source, both sources, a file that is not a dump, an unreachable server", async () => {
  assert.equal((await cluster.cli("import")).code, ExitCode.Usage);
  assert.equal((await cluster.cli("import", "x.dump", "--from", "postgresql://a@b/c")).code, ExitCode.Usage);
  const notDump = await cluster.cli("import", "/etc/hostname");
  assert.equal(notDump.code, ExitCode.Usage);
  assert.match(notDump.stderr, /not a pg_dump custom-format file/);
  const unreachable = await cluster.cli("import", "--from", "postgresql://nobody:x@127.0.0.1:1/none");
  assert.equal(unreachable.code, ExitCode.ProcessFailed);
  assert.match(unreachable.stderr, /Could not dump the source database/);
});

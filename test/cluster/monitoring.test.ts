import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { RULES } from "../../src/core/alerts/rules/index.js";
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import pg from "pg";
import { stringify } from "yaml";
import { PROMETHEUS_BIN } from "../../src/core/install/components.js";
import { freePortSet } from "../../src/core/cluster/free-ports.js";
import { ROUTES } from "../../src/core/endpoints.js";
import { ExitCode } from "../../src/core/errors.js";
import { MetricsStore } from "../../src/core/metrics/store.js";
import type { AlertView } from "../../src/core/alerts/alert-log.js";
import type { WebhookPayload } from "../../src/core/alerts/webhooks.js";
import { TestCluster } from "../helpers/test-cluster.js";

/**
 * Monitoring on a live cluster: the collector's figures against the statistics views after a
 * known workload, the metrics database's partitions, BRIN index, retention and rollups, the HTTP
 * API (auth, schema errors, every route), and alert rules fired by real provoked conditions and
 * resolved, with notifications to a real HTTP receiver. Thresholds and "for" durations are lowered
 * in tusk.yaml (as a user can) so that each condition shows within seconds; the collector runs
 * every second.
 */
let cluster: TestCluster;
let token = "";
let receiver: Server;
const received: WebhookPayload[] = [];
const started = new Date();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const freePort = async () => (await freePortSet()).api;

/** The backup repository is a 64 MB tmpfs the test mounts: a small filesystem to fill. */
const REPO_FS_BYTES = 64 * 1024 * 1024;
let repoMount = "";

/** `timeoutMs`: how long the client waits (a clone is a whole cluster's start: the CLI waits up to 300 s for one). */
async function api<T>(path: string, init: { method?: string; body?: unknown; token?: string | null; timeoutMs?: number } = {}): Promise<{ status: number; json: T; text: string }> {
  const headers: Record<string, string> = {};
  const t = init.token === undefined ? token : init.token;
  if (t) headers.authorization = `Bearer ${t}`;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(`http://127.0.0.1:${cluster.ports.api}${path}`, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(init.timeoutMs ?? 120_000),
  });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    /* text */
  }
  return { status: r.status, json: json as T, text };
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(500);
  }
}

async function openAlert(rule: string, match: (a: AlertView) => boolean = () => true, state: "pending" | "firing" = "firing"): Promise<AlertView> {
  return eventually(`${rule} ${state}`, async () => (await api<{ open: AlertView[] }>(ROUTES.alerts)).json.open.find((a) => a.rule === rule && a.state === state && match(a)));
}

async function resolved(rule: string, match: (a: AlertView) => boolean = () => true): Promise<void> {
  await eventually(`${rule} resolved`, async () => ((await api<{ open: AlertView[] }>(ROUTES.alerts)).json.open.some((a) => a.rule === rule && match(a)) ? undefined : true));
}

const superuserUrl = (db: string) => `postgresql://postgres:${readFileSync(join(cluster.stateDir, "secrets/superuser.secret"), "utf8").trim()}@127.0.0.1:${cluster.ports.postgres}/${db}`;

before(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      received.push(JSON.parse(body) as WebhookPayload);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const port = (receiver.address() as { port: number }).port;
  cluster = await TestCluster.start(
    "monitoring",
    {
      monitoring: { interval_seconds: 1 },
      alerts: {
        webhooks: [`http://127.0.0.1:${port}/hook`],
        rules: {
          "long-transaction": { threshold: 3, for: 2 },
          "idle-in-transaction": { threshold: 3 },
          "connections-high": { threshold: 50, for: 0 },
          "dead-tuples": { for: 0 },
          "pooler-waiting": { threshold: 2 },
          "disk-usage": { for: 0 },
          "checkpoints-requested": { threshold: 2, for: 0, window: 30 },
          "cache-hit-low": { for: 0, window: 4 },
          "archiving-failing": { for: 0 },
          "autovacuum-stale": { threshold: 0.001, for: 0, window: 4 },
          "backup-missing": { threshold: 45 },
        },
      },
    },
    (stateDir) => {
      repoMount = join(stateDir, "backups");
      execFileSync("mkdir", ["-p", repoMount]);
      execFileSync("mount", ["-t", "tmpfs", "-o", `size=${REPO_FS_BYTES},mode=0750`, "tmpfs", repoMount]);
    },
  );
  token = (await cluster.cli("token", "create", "monitoring-test")).stdout.trim();
});

after(async () => {
  await cluster?.cli("down");
  if (repoMount) execFileSync("umount", [repoMount]);
  await cluster?.destroy();
  receiver?.close();
});

test("the collector's figures agree with the statistics views after a known workload", async () => {
  const owner = new pg.Client({ connectionString: cluster.url("direct", "owner") });
  await owner.connect();
  await owner.query("CREATE TABLE churn (id int PRIMARY KEY, note text) WITH (autovacuum_enabled = off)");
  await owner.query("INSERT INTO churn SELECT i, 'row ' || i FROM generate_series(1, 10000) i");
  await owner.query("DELETE FROM churn WHERE id % 2 = 0");
  await owner.end();
  const app = new pg.Client({ connectionString: cluster.url("direct") });
  await app.connect();
  for (let i = 0; i < 500; i++) await app.query("SELECT count(*) FROM churn WHERE id = $1", [i]);
  await app.end();
  // The views as PostgreSQL reports them, then the same figures through the collector.
  const views = new pg.Client({ connectionString: superuserUrl("app") });
  await views.connect();
  const stmt = (await views.query<{ calls: string }>("SELECT calls FROM pg_stat_statements WHERE query LIKE 'SELECT count(*) FROM churn WHERE id = $1'")).rows[0];
  assert.equal(Number(stmt?.calls), 500);
  const table = await eventually("churn with its dead rows in /v1/tables", async () => {
    const t = (await api<{ tables: { table: string; liveTuples: number; deadTuples: number; deadPercent: number }[] }>(ROUTES.tables)).json.tables.find((x) => x.table === "churn");
    return t && t.deadTuples === 5000 ? t : undefined;
  });
  const stat = (await views.query<{ n_live_tup: string; n_dead_tup: string }>("SELECT n_live_tup, n_dead_tup FROM pg_stat_user_tables WHERE relname = 'churn'")).rows[0]!;
  await views.end();
  assert.equal(table.liveTuples, Number(stat.n_live_tup));
  assert.equal(table.deadTuples, Number(stat.n_dead_tup));
  assert.equal(Math.round(table.deadPercent), 50);
  const q = await eventually("the statement's 500 calls in /v1/queries", async () => {
    const r = await api<{ queries: { query: string; calls: number; meanMs: number; stddevMs: number; totalMs: number }[] }>(`${ROUTES.queries}?from=${started.toISOString()}&limit=100`);
    return r.json.queries.find((x) => x.query.startsWith("SELECT count(*) FROM churn WHERE id = $1") && x.calls === 500);
  });
  assert.ok(q.meanMs > 0 && q.totalMs >= q.meanMs * 499 && q.stddevMs >= 0);
  const commits = await api<{ series: { labels: Record<string, string>; points: { value: number }[] }[] }>(
    `${ROUTES.series}?name=pg_xact_commit_total&rate=true&match=database=app&from=${started.toISOString()}`,
  );
  assert.equal(commits.status, 200, commits.text);
  assert.ok(
    commits.json.series[0]!.points.some((p) => p.value > 0),
    "commits per second were recorded",
  );
});

test("the metrics database: daily partitions, a BRIN index on time, retention by dropping partitions, hourly rollups", async () => {
  const pool = new pg.Pool({ connectionString: superuserUrl("tusk_metrics"), max: 1 });
  try {
    const parts = (
      await pool.query<{ relname: string }>("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'metrics.samples'::regclass ORDER BY 1")
    ).rows.map((r) => r.relname);
    const day = (offset: number) => `samples_p${new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10).replaceAll("-", "")}`;
    assert.ok(parts.includes(day(0)) && parts.includes(day(1)), `today's and tomorrow's partitions exist: ${parts.join(", ")}`);
    const brin = (
      await pool.query<{ amname: string }>("SELECT am.amname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_am am ON am.oid = c.relam WHERE x.indrelid = $1::regclass", [
        `metrics.${day(0)}`,
      ])
    ).rows;
    assert.ok(
      brin.some((r) => r.amname === "brin"),
      "today's partition has a BRIN index",
    );
    // A partition 30 days old goes with retention (14 days by default); today's stays.
    await pool.query("SELECT metrics.ensure_partitions('samples', (now() - interval '30 days')::date, 1)");
    await pool.query("INSERT INTO metrics.series (name, labels) VALUES ('old', '{}')");
    await pool.query("INSERT INTO metrics.samples SELECT now() - interval '30 days', id, 1 FROM metrics.series WHERE name = 'old'");
    const dropped = await new MetricsStore(pool).applyRetention(new Date(), { rawDays: 14, rollupDays: 365 });
    assert.ok(dropped >= 1);
    assert.equal((await pool.query("SELECT 1 FROM metrics.samples x JOIN metrics.series s ON s.id = x.series_id WHERE s.name = 'old'")).rowCount, 0);
    assert.equal((await pool.query(`SELECT to_regclass('metrics.${day(0)}') IS NOT NULL AS ok`)).rows[0].ok, true);
    const rollup = (
      await pool.query<{ last: number; count: number }>(
        "SELECT h.last, h.count FROM metrics.samples_hourly h JOIN metrics.series s ON s.id = h.series_id WHERE s.name = 'pg_max_connections' ORDER BY h.hour DESC LIMIT 1",
      )
    ).rows[0];
    const max = (await pool.query<{ v: string }>("SELECT current_setting('max_connections') AS v")).rows[0]!.v;
    assert.ok(rollup && rollup.count >= 1 && rollup.last === Number(max), `hourly rollup of pg_max_connections: ${JSON.stringify(rollup)}`);
  } finally {
    await pool.end();
  }
});

test("API: a token is required and checked against its hash; revoked tokens stop working; bad requests name the field", async () => {
  assert.equal((await api(ROUTES.status, { token: null })).status, 401);
  assert.equal((await api(ROUTES.status, { token: "tusk_not-a-token" })).status, 401);
  assert.equal((await api(ROUTES.prometheus, { token: null })).status, 401);
  assert.equal((await api(ROUTES.alerts, { method: "GET", token: null })).status, 401);
  assert.equal((await api(ROUTES.silences, { method: "POST", body: { rule: "disk-usage", seconds: 600 }, token: null })).status, 401);
  const stored = readFileSync(join(cluster.stateDir, "secrets/api-tokens.json"), "utf8");
  assert.ok(!stored.includes(token) && stored.includes("monitoring-test"), "only the token's hash is stored");
  const second = (await cluster.cli("token", "create", "short-lived")).stdout.trim();
  assert.equal((await api(ROUTES.status, { token: second })).status, 200);
  assert.equal((await cluster.cli("token", "revoke", "short-lived")).code, 0);
  assert.equal((await api(ROUTES.status, { token: second })).status, 401);
  assert.equal((await cluster.cli("token", "create", "Bad Name")).code, ExitCode.Usage);

  const badName = await api<{ error: string }>(`${ROUTES.series}?name=DROP%20TABLE`);
  assert.equal(badName.status, 400);
  assert.match(badName.json.error, /querystring\/name/);
  const badTime = await api<{ error: string }>(`${ROUTES.queries}?from=yesterday`);
  assert.equal(badTime.status, 400);
  assert.match(badTime.json.error, /querystring\/from/);
  const badOrder = await api<{ error: string }>(`${ROUTES.queries}?order=fastest`);
  assert.match(badOrder.json.error, /querystring\/order must be equal to one of the allowed values/);
  const badSilence = await api<{ error: string }>(ROUTES.silences, { method: "POST", body: { rule: "disk-usage", seconds: "forever" } });
  assert.equal(badSilence.status, 400);
  assert.match(badSilence.json.error, /body\/seconds/);
  const unknownRule = await api<{ error: string }>(ROUTES.silences, { method: "POST", body: { rule: "meteor", seconds: 600 } });
  assert.equal(unknownRule.status, 400);
  assert.match(unknownRule.json.error, /no rule "meteor"/);
  const backwards = await api<{ error: string }>(`${ROUTES.queries}?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`);
  assert.equal(backwards.status, 400);
});

test("API: every route answers from the live cluster, and the OpenAPI document lists them", async () => {
  const doc = await api<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(ROUTES.openapi, { token: null });
  assert.equal(doc.status, 200);
  assert.match(doc.json.openapi, /^3\./);
  for (const path of [
    ROUTES.status,
    ROUTES.locks,
    ROUTES.history,
    ROUTES.series,
    ROUTES.queries,
    "/v1/queries/{queryid}/series",
    ROUTES.tables,
    ROUTES.indexes,
    ROUTES.alerts,
    ROUTES.rules,
    ROUTES.silences,
    ROUTES.backups,
    ROUTES.drills,
    "/v1/drills",
    ROUTES.scale,
    ROUTES.switchover,
    ROUTES.prometheus,
  ]) {
    assert.ok(doc.json.paths[path], `${path} in the OpenAPI document`);
  }
  assert.ok((doc.json.paths[ROUTES.queries]!.get as { parameters: { name: string }[] }).parameters.some((p) => p.name === "order"));
  // README's routes are the OpenAPI document's, no more and no fewer, so the two cannot drift apart.
  const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
  const documented = new Set(
    [...readme.matchAll(/`((?:GET|POST|PUT|DELETE)(?:\|(?:GET|POST|PUT|DELETE))*) (\/[^`?\s]*)[^`]*`/g)].flatMap(([, methods, path]) => methods!.split("|").map((m) => `${m} ${path}`)),
  );
  const served = new Set(
    Object.entries(doc.json.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => m !== "head")
        .map((m) => `${m.toUpperCase()} ${path}`),
    ),
  );
  assert.deepEqual([...served].filter((r) => !documented.has(r)).sort(), [], "API routes missing from README");
  assert.deepEqual([...documented].filter((r) => !served.has(r)).sort(), [], "README routes the API does not serve");

  const status = await eventually("a few collections", async () => {
    const s = await api<{ phase: string; monitoring: { collections: number; lastError: string | null } }>(ROUTES.status);
    return s.json.monitoring.collections > 3 ? s : undefined;
  });
  assert.equal(status.json.phase, "ready");
  assert.equal(status.json.monitoring.lastError, null);
  const top = await api<{ queries: { queryid: string; calls: number }[] }>(`${ROUTES.queries}?order=calls&limit=5&from=${started.toISOString()}`);
  assert.equal(top.status, 200);
  const one = top.json.queries[0]!;
  const perQuery = await api<{ points: { calls: number }[] }>(`/v1/queries/${one.queryid}/series?from=${started.toISOString()}`);
  assert.equal(perQuery.status, 200);
  assert.equal(
    perQuery.json.points.reduce((a, p) => a + p.calls, 0),
    one.calls,
    "the chart's points add up to the statement's calls",
  );
  const indexes = await api<{ indexes: { index: string; unused: boolean; unique: boolean }[] }>(ROUTES.indexes);
  assert.ok(indexes.json.indexes.some((i) => i.index === "churn_pkey" && i.unique && !i.unused));
  const rules = await api<{ rules: { id: string; threshold: number; doc: { action: string } }[] }>(ROUTES.rules);
  assert.equal(rules.json.rules.length, RULES.length);
  assert.equal(rules.json.rules.find((r) => r.id === "long-transaction")!.threshold, 3, "tusk.yaml's override is in force");
  assert.ok(rules.json.rules.every((r) => r.doc.action.length > 20));
  const backups = await api<{ backups: { type: string }[] }>(ROUTES.backups);
  assert.ok(backups.json.backups.some((b) => b.type === "full"));
  const backup = await api<{ backups: { type: string }[] }>(ROUTES.backups, { method: "POST", body: { type: "incr" } });
  assert.equal(backup.status, 200, backup.text);
  assert.ok(backup.json.backups.some((b) => b.type === "incr"));
  const drill = await api<{ ok: boolean }>(ROUTES.drills, { method: "POST" });
  assert.equal(drill.status, 200, drill.text);
  assert.equal(drill.json.ok, true);
  assert.equal((await api<{ drills: unknown[] }>("/v1/drills")).json.drills.length, 1);
});

test("API: a clone restored to a moment through POST /v1/clones runs beside the source; bad targets are refused", async () => {
  const moment = new Date().toISOString();
  await sleep(1000);
  await cluster.query(cluster.url("direct", "owner"), "CREATE TABLE after_moment (i int)");
  const bad = await api<{ error: string }>(ROUTES.clones, { method: "POST", body: { name: "Bad Name" } });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error, /body\/name/);
  const both = await api<{ error: string }>(ROUTES.clones, { method: "POST", body: { name: "x", time: moment, lsn: "0/1" } });
  assert.equal(both.status, 400);
  const noOffset = await api<{ error: string }>(ROUTES.clones, { method: "POST", body: { name: "x", time: moment.replace("Z", "") } });
  assert.equal(noOffset.status, 400, "the API takes RFC 3339 times with an offset only");
  assert.match(noOffset.json.error, /body\/time|no UTC offset/);
  const r = await api<{ name: string; stateDir: string; ports: { postgres: number } }>(ROUTES.clones, { method: "POST", body: { name: "api_clone", time: moment }, timeoutMs: 300_000 });
  assert.equal(r.status, 200, r.text);
  const password = readFileSync(join(cluster.stateDir, "secrets/superuser.secret"), "utf8").trim();
  const url = `postgresql://postgres:${password}@127.0.0.1:${r.json.ports.postgres}/app`;
  assert.equal((await cluster.query<{ n: number }>(url, "SELECT count(*)::int AS n FROM churn")).rows[0]!.n, 5000, "the clone has the data of that moment");
  assert.equal((await cluster.query<{ t: string | null }>(url, "SELECT to_regclass('after_moment')::text AS t")).rows[0]!.t, null, "and not what came after");
  const taken = await api<{ error: string; exitCode: number }>(ROUTES.clones, { method: "POST", body: { name: "api_clone" } });
  assert.equal(taken.status, 409);
  assert.equal(taken.json.exitCode, ExitCode.AlreadyExists);
});

test("who blocks whom: /v1/locks names the waiting session and the one holding the lock", async () => {
  const holder = new pg.Client({ connectionString: cluster.url("direct", "owner") });
  const waiter = new pg.Client({ connectionString: cluster.url("direct") });
  await holder.connect();
  await waiter.connect();
  try {
    await holder.query("BEGIN");
    await holder.query("LOCK TABLE churn IN ACCESS EXCLUSIVE MODE");
    const holderPid = (await holder.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
    const blocked = waiter.query("SELECT count(*) FROM churn");
    const wait = await eventually("the waiting session in /v1/locks", async () =>
      (await api<{ waits: { query: string; blockedBy: { pid: number; query: string }[] }[] }>(ROUTES.locks)).json.waits.find((w) => w.query.includes("FROM churn")),
    );
    assert.equal(wait.blockedBy[0]!.pid, holderPid);
    assert.match(wait.blockedBy[0]!.query, /pg_backend_pid|LOCK TABLE churn/);
    await holder.query("ROLLBACK");
    await blocked;
  } finally {
    await holder.end();
    await waiter.end();
  }
});

test("long transaction and idle in transaction: pending, firing, resolved, each sent to the webhook", async () => {
  const seenBefore = received.length;
  const c = new pg.Client({ connectionString: cluster.url("direct") });
  await c.connect();
  await c.query("BEGIN");
  await c.query("SELECT 1");
  const pending = await openAlert("long-transaction", () => true, "pending");
  assert.match(pending.summary, /a transaction has been open for \d+ s/);
  const firing = await openAlert("long-transaction");
  assert.ok(Date.parse(firing.firedAt!) - Date.parse(firing.startedAt) >= 2000, "fired after its 'for' of 2 s");
  const idle = await openAlert("idle-in-transaction");
  assert.match(idle.summary, /idle in a transaction for \d+ s \(limit 3 s\)/);
  assert.match((await cluster.cli("status")).stdout, /Alerts: \d+ firing[^]*WARNING long-transaction: a transaction has been open/);
  await c.query("COMMIT");
  await c.end();
  await resolved("long-transaction");
  await resolved("idle-in-transaction");
  await eventually("firing and resolved webhooks", async () => (received.some((p) => p.rule === "long-transaction" && p.status === "resolved") ? true : undefined));
  const sent = received.slice(seenBefore).filter((p) => p.rule === "long-transaction");
  assert.deepEqual(
    sent.map((p) => p.status),
    ["firing", "resolved"],
  );
  assert.equal(sent[0]!.cluster, "tusk");
  assert.ok(sent[1]!.resolvedAt && sent[1]!.firedAt && sent[0]!.action.length > 20);
  const history = await api<{ recent: AlertView[] }>(ROUTES.alerts);
  assert.ok(history.json.recent.some((a) => a.rule === "long-transaction" && a.state === "resolved"));
});

test("connections above the threshold fire, and resolve when they close", async () => {
  const max = Number((await cluster.query<{ v: string }>(superuserUrl("app"), "SELECT current_setting('max_connections') AS v")).rows[0]!.v);
  const clients: pg.Client[] = [];
  try {
    for (let i = 0; i < Math.ceil(max * 0.55); i++) {
      const c = new pg.Client({ connectionString: cluster.url("direct") });
      await c.connect();
      clients.push(c);
    }
    const a = await openAlert("connections-high");
    assert.match(a.summary, /\d+ of \d+ connections in use/);
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
  await resolved("connections-high");
});

test("dead tuples above 20 % fire on the table, and VACUUM resolves it", async () => {
  const a = await openAlert("dead-tuples", (x) => x.labels.table === "churn");
  assert.match(a.summary, /public\.churn: 50 % of rows are dead \(5000 rows\)/);
  await cluster.query(cluster.url("direct", "owner"), "VACUUM churn");
  await resolved("dead-tuples", (x) => x.labels.table === "churn");
});

test("clients waiting at the pooler fire; a silenced alert is shown as silenced and sends no webhook", async () => {
  const silence = await api<{ until: string }>(ROUTES.silences, { method: "POST", body: { rule: "pooler-waiting", seconds: 600, comment: "test" } });
  assert.equal(silence.status, 200, silence.text);
  const admin = new pg.Client({
    host: "127.0.0.1",
    port: cluster.ports.pooler,
    user: "postgres",
    password: readFileSync(join(cluster.stateDir, "secrets/superuser.secret"), "utf8").trim(),
    database: "pgbouncer",
  });
  await admin.connect();
  // A logged-in client whose query finds no server connection (the pool paused) waits in the queue.
  const waiting = new pg.Client({ connectionString: cluster.url("pooled") });
  await waiting.connect();
  await admin.query("PAUSE app");
  let query: Promise<unknown> | undefined;
  try {
    query = waiting.query("SELECT 1").catch(() => undefined);
    const a = await openAlert("pooler-waiting");
    assert.equal(a.silenced, true);
    assert.match(a.summary, /a client of app has waited \d+ s for a server connection/);
  } finally {
    await admin.query("RESUME app");
    await admin.end();
    await query;
    await waiting.end().catch(() => undefined);
  }
  await resolved("pooler-waiting");
  await sleep(2000);
  assert.ok(!received.some((p) => p.rule === "pooler-waiting"), "no webhook for a silenced alert");
  assert.match((await cluster.cli("alerts")).stdout, /Silences:[^]*pooler-waiting/);
});

test("a filling disk fires (the backup repository's 64 MB filesystem) and resolves when space is freed", async () => {
  const s = statfsSync(repoMount);
  const free = s.bavail * s.bsize;
  const filler = join(repoMount, "filler");
  writeFileSync(filler, Buffer.alloc(Math.max(0, free - 4 * 1024 * 1024)));
  try {
    const a = await openAlert("disk-usage", (x) => x.labels.disk === "backups");
    assert.match(a.summary, /the backups filesystem is \d+ % full/);
  } finally {
    rmSync(filler);
  }
  await resolved("disk-usage", (x) => x.labels.disk === "backups");
});

test("checkpoints-requested: CHECKPOINT, DROP DATABASE and a backup raise nothing; a write burst with a tiny max_wal_size fires it", async () => {
  const su = superuserUrl("app");
  const quiet = async (what: string) => {
    // Six seconds of collections (one a second) with the rule's window covering all of it.
    for (let i = 0; i < 12; i++) {
      const open = (await api<{ open: AlertView[] }>(ROUTES.alerts)).json.open.filter((a) => a.rule === "checkpoints-requested");
      assert.deepEqual(open, [], `after ${what}`);
      await sleep(500);
    }
  };
  for (let i = 0; i < 3; i++) await cluster.query(su, "CHECKPOINT");
  await cluster.query(su, "CREATE DATABASE scratch_drop");
  await cluster.query(su, "DROP DATABASE scratch_drop");
  const backup = await cluster.cli("backup", "--type", "incr");
  assert.equal(backup.code, 0, backup.stderr);
  await quiet("3 CHECKPOINTs, DROP DATABASE and a backup");
  await cluster.query(su, "ALTER SYSTEM SET max_wal_size = '32MB'");
  await cluster.query(su, "SELECT pg_reload_conf()");
  try {
    // About 200 MB of WAL (compressible, for the small repository); every ~17 MB forces a checkpoint.
    await cluster.query(cluster.url("direct", "owner"), "CREATE TABLE wal_burst AS SELECT g, repeat('x', 900) AS pad FROM generate_series(1, 200000) g");
    const a = await openAlert("checkpoints-requested");
    assert.match(a.summary, /MB of WAL in .* forced about \d+ checkpoints \(max_wal_size 32 MB\); \d+ were requested/);
  } finally {
    await cluster.query(su, "ALTER SYSTEM RESET max_wal_size");
    await cluster.query(su, "SELECT pg_reload_conf()");
    await cluster.query(cluster.url("direct", "owner"), "DROP TABLE IF EXISTS wal_burst");
  }
  await resolved("checkpoints-requested");
});

test("a low cache hit ratio fires while a table larger than a quarter of shared_buffers is scanned, and resolves after", async () => {
  // Sequential scans of a table over 1/4 of shared_buffers (256 MB here) use a small ring of
  // buffers: its blocks are read again every time.
  await cluster.query(cluster.url("direct", "owner"), "CREATE TABLE big AS SELECT i, repeat('x', 200) AS pad FROM generate_series(1, 400000) i");
  const app = new pg.Client({ connectionString: cluster.url("direct") });
  await app.connect();
  let scanning = true;
  const scans = (async () => {
    while (scanning) await app.query("SELECT count(*) FROM big");
  })();
  try {
    const a = await openAlert("cache-hit-low");
    assert.match(a.summary, /% of \d+ blocks read recently were in shared_buffers/);
  } finally {
    scanning = false;
    await scans;
    await app.end();
  }
  await resolved("cache-hit-low");
});

test("a table written to without vacuum fires autovacuum-stale; when writes stop it resolves", async () => {
  await cluster.query(cluster.url("direct", "owner"), "CREATE TABLE unvacuumed (i int) WITH (autovacuum_enabled = off)");
  let writing = true;
  const writes = (async () => {
    while (writing) {
      await cluster.query(cluster.url("direct", "owner"), "INSERT INTO unvacuumed VALUES (1)");
      await sleep(200);
    }
  })();
  try {
    const a = await openAlert("autovacuum-stale", (x) => x.labels.table === "unvacuumed");
    assert.match(a.summary, /public\.unvacuumed is written to but was last vacuumed/);
  } finally {
    writing = false;
    await writes;
  }
  await resolved("autovacuum-stale", (x) => x.labels.table === "unvacuumed");
});

test("WAL archiving failing fires (the repository made unwritable) and resolves once a segment is archived again", async () => {
  const archive = join(repoMount, "archive");
  chmodSync(archive, 0o000);
  try {
    await cluster.query(superuserUrl("app"), "CREATE TABLE IF NOT EXISTS wal_churn (i int); INSERT INTO wal_churn VALUES (1); SELECT pg_switch_wal()");
    const a = await openAlert("archiving-failing", () => true);
    assert.match(a.summary, /archive-push is failing/);
  } finally {
    chmodSync(archive, 0o750);
  }
  await cluster.query(superuserUrl("app"), "INSERT INTO wal_churn VALUES (2); SELECT pg_switch_wal()");
  await resolved("archiving-failing");
});

test("no backup within the schedule fires; a backup through the API resolves it", async () => {
  const a = await openAlert("backup-missing", () => true);
  assert.match(a.summary, /^the last successful backup ended \d+ (s|min) ago \(limit 45 s\)$/);
  const r = await api(ROUTES.backups, { method: "POST", body: { type: "incr" } });
  assert.equal(r.status, 200, r.text);
  await resolved("backup-missing");
});

test("tusk alerts, alerts explain, alerts rules and queries print what the API holds", async () => {
  const list = await cluster.cli("alerts");
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /Recently resolved:[^]*long-transaction/);
  const explain = await cluster.cli("alerts", "explain", "dead-tuples");
  assert.match(explain.stdout, /What it means:[^]*Why it matters:[^]*What to do:/);
  assert.equal((await cluster.cli("alerts", "explain", "meteor")).code, ExitCode.Usage);
  assert.match((await cluster.cli("alerts", "rules")).stdout, /connections-high +critical +on +50 %/);
  const rulesJson = JSON.parse((await cluster.cli("alerts", "rules", "--json")).stdout) as { rules: { id: string }[] };
  assert.ok(
    rulesJson.rules.some((r) => r.id === "certificate-expiring"),
    "alerts rules --json prints JSON (alerts takes --json too)",
  );
  assert.equal((await cluster.cli("alerts", "silence", "disk-usage", "--for", "forever")).code, ExitCode.Usage);
  const queries = await cluster.cli("queries", "--since", "1h", "--order", "calls");
  assert.equal(queries.code, 0, queries.stderr);
  assert.match(queries.stdout, /CALLS +TOTAL MS[^]*500 +[\d.]+ +[\d.]+ .*SELECT count\(\*\) FROM churn/);
});

test("a real Prometheus scrapes /metrics with a bearer token: the target is up and the figures are queryable", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tusk-prometheus-"));
  const port = await freePort();
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, token, { mode: 0o600 });
  writeFileSync(
    join(dir, "prometheus.yml"),
    stringify({
      global: { scrape_interval: "1s", scrape_timeout: "1s" },
      scrape_configs: [
        { job_name: "tusk", metrics_path: ROUTES.prometheus, authorization: { type: "Bearer", credentials_file: tokenFile }, static_configs: [{ targets: [`127.0.0.1:${cluster.ports.api}`] }] },
      ],
    }),
  );
  const prom = spawn(PROMETHEUS_BIN, [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  prom.stderr.on("data", (d: Buffer) => (log += d.toString()));
  t.after(() => {
    prom.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });
  const query = async (q: string) => {
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`).catch(() => undefined);
    if (!r?.ok) return [];
    return ((await r.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
  };
  const up = await eventually(`Prometheus scraping tusk (log: ${log.slice(-500)})`, async () => {
    const r = await query('up{job="tusk"}');
    return r.length && r[0]!.value[1] === "1" ? r : undefined;
  });
  assert.equal(up[0]!.metric.instance, `127.0.0.1:${cluster.ports.api}`);
  const max = await eventually("pg_max_connections in Prometheus", async () => {
    const r = await query('pg_max_connections{cluster="tusk"}');
    return r.length ? r : undefined;
  });
  const setting = (await cluster.query<{ v: string }>(superuserUrl("app"), "SELECT current_setting('max_connections') AS v")).rows[0]!.v;
  assert.equal(max[0]!.value[1], setting);
  const commits = await eventually("a commit rate from the counter", async () => {
    const r = await query('rate(pg_xact_commit_total{database="app"}[10s])');
    return r.length && Number(r[0]!.value[1]) > 0 ? r : undefined;
  });
  assert.ok(Number(commits[0]!.value[1]) > 0);
  for (const size of ["tusk_data_directory_bytes", "tusk_backup_repository_bytes", "pg_wal_dir_bytes"]) {
    const r = await eventually(size, async () => {
      const x = await query(size);
      return x.length ? x : undefined;
    });
    assert.ok(Number(r[0]!.value[1]) > 0, size);
  }
  const firing = await query("tusk_alerts_firing");
  assert.equal(firing.length, RULES.length, "one series per rule");
});

test("API: a restore in place through POST /v1/restore, confirmed, brings the cluster back at the moment behind the same strings", async () => {
  await cluster.query(cluster.url("direct", "owner"), "CREATE TABLE before_restore (i int)");
  await sleep(1000);
  const moment = new Date().toISOString();
  await sleep(1000);
  await cluster.query(cluster.url("direct", "owner"), "CREATE TABLE after_restore_moment (i int)");
  const unconfirmed = await api<{ error: string }>(ROUTES.restore, { method: "POST", body: { time: moment } });
  assert.equal(unconfirmed.status, 400);
  assert.match(unconfirmed.json.error, /body must have required property 'confirm'/);
  const outside = await api<{ exitCode: number }>(ROUTES.restore, { method: "POST", body: { confirm: "replace all data", time: "2001-01-01T00:00:00Z" } });
  assert.equal(outside.status, 400);
  assert.equal(outside.json.exitCode, ExitCode.OutsideWindow);
  const r = await api<{ log: string }>(ROUTES.restore, { method: "POST", body: { confirm: "replace all data", time: moment } });
  assert.equal(r.status, 202, r.text);
  // The restore stops this API and starts a new supervisor; wait for the cluster to be back.
  const log = r.json.log;
  await eventually("the restore to finish", async () => (/Restored in place/.test(readFileSync(log, "utf8")) ? true : undefined), 300_000);
  const tables = await cluster.query<{ before: string | null; after: string | null }>(
    cluster.url("pooled", "owner"),
    "SELECT to_regclass('before_restore')::text AS before, to_regclass('after_restore_moment')::text AS after",
  );
  assert.equal(tables.rows[0]!.before, "before_restore");
  assert.equal(tables.rows[0]!.after, null);
});

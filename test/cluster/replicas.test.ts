import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { parse, stringify } from "yaml";
import { postgresUser } from "../../src/core/os-user.js";
import { join } from "node:path";
import { ExitCode } from "../../src/core/errors.js";
import type { SupervisorStatus } from "../../src/core/supervisor/status.js";
import { primaryOf, type NodeStatus } from "../../src/core/supervisor/replication.js";
import { freezeNode, holdPatroniOnRestart, killPostmaster, pidOf, postgresProcesses } from "../../src/core/failover/faults.js";
import { nodePaths } from "../../src/core/cluster/nodes.js";
import { StatePaths } from "../../src/core/state-dir.js";
import pg from "pg";
import { TestCluster } from "../helpers/test-cluster.js";
import { Writer, type WriterReport } from "../../src/core/failover/writer.js";
import { MIGRATION_LOCK_KEY } from "../../src/core/migrations/lock.js";

/**
 * Streaming replicas and failover on real Patroni, etcd, PostgreSQL and PgBouncer: scaling with data
 * present, a switchover under write load, a killed postmaster, the loss of the primary's node, and
 * the refusals. A writer commits a row every 10 ms through the unchanged pooled connection string
 * and records every acknowledged id; none may be missing afterwards.
 */
let cluster: TestCluster;
let table = 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function status(): Promise<SupervisorStatus> {
  const r = await cluster.cli("status", "--json");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as SupervisorStatus;
}

async function waitFor(what: string, check: (s: SupervisorStatus) => boolean, timeoutMs = 90_000): Promise<SupervisorStatus> {
  const deadline = Date.now() + timeoutMs;
  let s = await status();
  while (!check(s)) {
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs / 1000} s; nodes: ${JSON.stringify(s.replication.nodes)}`);
    await sleep(500);
    s = await status();
  }
  return s;
}

function superuserUrl(port: number): string {
  const password = readFileSync(join(cluster.stateDir, "secrets/superuser.secret"), "utf8").trim();
  return `postgresql://postgres:${password}@127.0.0.1:${port}/app`;
}

/**
 * A fresh table for one scenario's writer, created by the owner role through the pooler. Just after
 * a crash the primary may still be finishing recovery (read-only for a moment), so it retries.
 */
async function writerTable(): Promise<string> {
  const name = `acked_${++table}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await cluster.query(cluster.url("pooled", "owner"), `CREATE TABLE ${name} (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())`);
      return name;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(500);
    }
  }
}

/** Every acknowledged id is on the current primary. */
async function assertNoneLost(name: string, report: WriterReport): Promise<void> {
  assert.ok(report.acked.length > 100, `the writer made progress (${report.acked.length} commits)`);
  const r = await cluster.query<{ n: number }>(cluster.url("pooled"), `SELECT count(*)::int AS n FROM ${name} WHERE id = ANY($1)`, [report.acked]);
  assert.equal(r.rows[0]?.n, report.acked.length, "every acknowledged row is on the primary");
}

/** Waits until a file of that name is in the backup repository's WAL archive. */
async function waitForArchived(file: string, timeoutMs: number): Promise<void> {
  const archive = join(cluster.stateDir, "backups", "archive");
  const deadline = Date.now() + timeoutMs;
  while (!(readdirSync(archive, { recursive: true }) as string[]).some((f) => f.endsWith(`/${file}`))) {
    if (Date.now() > deadline) assert.fail(`${file} was not archived within ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

let markers = 0;

/**
 * Waits until `port`'s node has replayed a table just created on the primary: the proof that it
 * follows the primary (status alone can show a stuck node on the right timeline with no lag).
 */
async function waitForReplay(name: string, port: number, timeoutMs: number): Promise<void> {
  const marker = `replayed_${++markers}`;
  // Through the pooler, as an application writes: right after a failover its session may be cut
  // (the supervisor cuts those left on the old primary), and an application tries again.
  const createBy = Date.now() + 30_000;
  for (;;) {
    const error = await cluster.query(cluster.url("pooled", "owner"), `CREATE TABLE IF NOT EXISTS ${marker} AS SELECT 1 AS one`).then(
      () => undefined,
      (e: Error) => e,
    );
    if (!error) break;
    if (Date.now() > createBy) throw error;
    await sleep(500);
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await cluster.query<{ t: string | null }>(superuserUrl(port), `SELECT to_regclass('${marker}')::text AS t`).then(
      (r) => r.rows[0]?.t,
      () => null,
    );
    if (found) return;
    if (Date.now() > deadline) assert.fail(`${name} did not replay a table created on the primary within ${timeoutMs / 1000} s`);
    await sleep(500);
  }
}

before(async () => {
  // The collector every second and short alert delays, so the replication alerts show within the tests.
  cluster = await TestCluster.start("replicas", {
    monitoring: { interval_seconds: 1 },
    alerts: { rules: { "replica-lag": { threshold: 3, for: 0 }, "sync-standby-lag": { threshold: 3, for: 0 }, "node-down": { for: 0 } } },
  });
});

interface AlertsJson {
  open: { rule: string; labels: Record<string, string>; state: string; summary: string }[];
  recent: { rule: string; labels: Record<string, string>; state: string; startedAt: string }[];
}

async function alerts(): Promise<AlertsJson> {
  const r = await cluster.cli("alerts", "--json", "--limit", "100");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as AlertsJson;
}

after(async () => {
  for (const close of leftOpen) await Promise.race([close().catch(() => undefined), sleep(2000)]);
  await cluster?.destroy();
});

/** A process's title (PostgreSQL sets it: "postgres: tusk: walreceiver …"); "" once it has exited. */
function processTitle(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

/** HAProxy processes serving this cluster's read-only and direct endpoints (exactly one, or one leaked). */
function haproxyPids(): number[] {
  const config = join(cluster.stateDir, "haproxy", "haproxy.cfg");
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => processTitle(Number(pid)).includes(config))
    .map(Number);
}

/** The node a fresh session on the direct connection string lands on: its port, and whether it is the primary. */
async function directTarget(): Promise<{ port: number; primary: boolean }> {
  const r = await cluster.query<{ port: number; recovery: boolean }>(cluster.urls.direct, "SELECT inet_server_port() AS port, pg_is_in_recovery() AS recovery");
  return { port: r.rows[0]!.port, primary: !r.rows[0]!.recovery };
}

/**
 * Clients and writers a test leaves open when an assertion fails before it closes them: ended after
 * the file's tests, so an open socket does not keep the test process alive until its timeout.
 */
const leftOpen: (() => Promise<unknown>)[] = [];

/** A session held open on the direct connection string. */
async function directSession(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: cluster.urls.direct });
  c.on("error", () => undefined); // a cut session reports here as well as on its next query
  await c.connect();
  leftOpen.push(() => c.end());
  return c;
}

/** A writer that is stopped after the file's tests if the test that started it fails first. */
function startWriter(url: string, table: string, queryTimeoutMs?: number): Writer {
  const w = new Writer(url, table, queryTimeoutMs);
  leftOpen.push(() => w.stop());
  return w;
}

/**
 * The PostgreSQL port each of `n` fresh read-only sessions landed on. HAProxy cuts the sessions of a
 * replica whose check fails (a replica just added can still be catching up), and a client then
 * reconnects, as this one does, at most three times per session.
 */
async function readOnlyPorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await cluster.query<{ port: number }>(cluster.urls.readOnly, "SELECT inet_server_port() AS port");
        ports.push(r.rows[0]!.port);
        break;
      } catch (e) {
        if (attempt >= 3 || !/Connection terminated/.test((e as Error).message)) throw e;
        await sleep(200);
      }
    }
  }
  return ports;
}

async function waitForReadOnly(what: string, check: (ports: Set<number>) => boolean, timeoutMs = 30_000): Promise<Set<number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = new Set(await readOnlyPorts(6));
    if (check(seen)) return seen;
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs / 1000} s; read-only sessions landed on ports ${[...seen].join(", ")}`);
    await sleep(500);
  }
}

test("read-only endpoint without replicas: served by the primary, and read-only", async () => {
  const ports = await readOnlyPorts(3);
  assert.deepEqual([...new Set(ports)], [cluster.ports.postgres]);
  await assert.rejects(cluster.query(cluster.urls.readOnly, "CREATE TABLE ro_write (i int)"), /read-only transaction/);
});

test("scale from 0 to 2 replicas with data present: one synchronous standby, data on every node, direct sessions kept", async () => {
  await cluster.query(cluster.url("direct", "owner"), "CREATE TABLE seed AS SELECT i FROM generate_series(1, 20000) i");
  assert.deepEqual(await directTarget(), { port: cluster.ports.postgres, primary: true });
  const held = await directSession();
  const haproxy = haproxyPids();
  const r = await cluster.cli("scale", "--replicas", "2", "--json");
  assert.equal(r.code, 0, r.stderr);
  const s = await waitFor(
    "two streaming replicas, one synchronous",
    (x) => x.replication.nodes.filter((n) => n.role === "sync standby").length === 1 && x.replication.nodes.filter((n) => n.role !== "primary" && n.state === "running").length === 2,
  );
  assert.deepEqual(
    s.replication.nodes.map((n) => n.name),
    ["pg1", "pg2", "pg3"],
  );
  await sleep(2000);
  // The new nodes joined HAProxy through its admin socket: the same process, the open session untouched.
  assert.deepEqual(haproxyPids(), haproxy, "one HAProxy, not restarted");
  assert.equal((await held.query<{ n: number }>("SELECT count(*)::int AS n FROM seed")).rows[0]?.n, 20000);
  await held.end();
  assert.equal(s.replication.mode, "sync");
  for (const n of s.replication.nodes) {
    const count = await cluster.query<{ n: number }>(superuserUrl(n.postgresPort), "SELECT count(*)::int AS n FROM seed");
    assert.equal(count.rows[0]?.n, 20000, `seed rows on ${n.name}`);
  }
  // A replica that falls behind the primary's WAL fetches it from the repository: its own
  // restore_command, run as PostgreSQL runs it (as postgres, from its data directory), gets a segment.
  for (const name of ["pg2", "pg3"]) {
    const np = nodePaths(new StatePaths(cluster.stateDir), name);
    const command = (parse(readFileSync(np.patroniConfig, "utf8")) as { postgresql: { recovery_conf: { restore_command: string } } }).postgresql.recovery_conf.restore_command;
    const archived = (readdirSync(join(cluster.stateDir, "backups", "archive"), { recursive: true }) as string[])
      .map((f) => f.split("/").at(-1)!)
      .find((f) => /^[0-9A-F]{24}-/.test(f))!
      .slice(0, 24);
    const target = join(np.dataDir, "restore-command-check");
    const user = postgresUser();
    const r = spawnSync("sh", ["-c", command.replace("%f", archived).replace('"%p"', target)], { cwd: np.dataDir, uid: user.uid, gid: user.gid, encoding: "utf8" });
    rmSync(target, { force: true });
    assert.equal(r.status, 0, `${name}'s restore_command fetched ${archived}: ${r.stdout}${r.stderr}`);
  }
  const text = (await cluster.cli("status")).stdout;
  assert.match(text, /Replication: synchronous/);
  assert.match(text, /pg\d +sync standby +running/);
});

test("read-only endpoint spreads reads over the replicas and stops using one whose lag passes the limit", async () => {
  // The lag is made on the asynchronous replica, so wait until Patroni has named the synchronous one.
  const s = await waitFor("a synchronous standby", (x) => x.replication.nodes.some((n) => n.role === "sync standby"));
  const replicas = s.replication.nodes.filter((n) => n.role !== "primary");
  const replicaPorts = replicas.map((n) => n.postgresPort);
  await waitForReadOnly("reads on both replicas", (seen) => replicaPorts.every((p) => seen.has(p)) && seen.size === 2);
  // Lag on the asynchronous replica (a stalled synchronous one would hold the primary's commits):
  // its WAL receiver is frozen while the primary writes more WAL than the limit (16 MB by default).
  const laggard = replicas.find((n) => n.role !== "sync standby")!;
  const dataDir = nodePaths(new StatePaths(cluster.stateDir), laggard.name).dataDir;
  const titles = () =>
    postgresProcesses(dataDir)
      .slice(1)
      .map((pid) => ({ pid, title: processTitle(pid).replaceAll("\0", " ").trim() }));
  const deadline = Date.now() + 30_000;
  let receiver: number | undefined;
  for (;;) {
    receiver = titles().find((p) => p.title.includes("walreceiver"))?.pid;
    if (receiver) break;
    if (Date.now() > deadline) assert.fail(`no WAL receiver on ${laggard.name}: ${JSON.stringify(titles())}`);
    await sleep(500);
  }
  process.kill(receiver, "SIGSTOP");
  try {
    await cluster.query(cluster.url("direct", "owner"), "CREATE TABLE ro_lag AS SELECT i, repeat('x', 500) AS pad FROM generate_series(1, 60000) i");
    const seen = await waitForReadOnly(`${laggard.name} out of the read-only endpoint`, (ports) => !ports.has(laggard.postgresPort));
    assert.ok(
      [...seen].every((p) => replicaPorts.includes(p)),
      "reads still go to the caught-up replica",
    );
    const lagging = (await status()).replication.nodes.find((n) => n.name === laggard.name)!;
    assert.ok((lagging.lagBytes ?? 0) > 16 * 1024 * 1024, `lag shown in status: ${JSON.stringify(lagging)}`);
    assert.equal(lagging.servesReads, false, "status says the lagging replica serves no reads");
    const deadline = Date.now() + 30_000;
    let lagAlert: AlertsJson["open"][number] | undefined;
    for (;;) {
      lagAlert = (await alerts()).open.find((a) => a.rule === "replica-lag" && a.labels.node === laggard.name && a.state === "firing");
      if (lagAlert) break;
      if (Date.now() > deadline) assert.fail("replica-lag did not fire for the frozen replica");
      await sleep(1000);
    }
    assert.match(lagAlert.summary, new RegExp(`${laggard.name} replays [\\d.]+ s behind the primary`));
    assert.match((await cluster.cli("status")).stdout, new RegExp(`${laggard.name} +replica +\\S+ .* no\\n`));
  } finally {
    process.kill(receiver, "SIGCONT");
  }
  await waitForReadOnly(`${laggard.name} back in the read-only endpoint once caught up`, (ports) => ports.has(laggard.postgresPort));
  const resolveBy = Date.now() + 30_000;
  while ((await alerts()).open.some((a) => a.rule === "replica-lag")) {
    if (Date.now() > resolveBy) assert.fail("replica-lag did not resolve");
    await sleep(1000);
  }
  await cluster.query(cluster.url("direct", "owner"), "DROP TABLE ro_lag");
});

test("a synchronous standby whose replay stalls fires sync-standby-lag while commits go on; it resolves when replay resumes", async () => {
  const s = await waitFor("a synchronous standby", (x) => x.replication.nodes.some((n) => n.role === "sync standby" && n.state === "running"));
  const standby = s.replication.nodes.find((n) => n.role === "sync standby")!;
  // The startup process replays WAL; frozen, the standby still receives and flushes WAL (so
  // synchronous commits are acknowledged) but applies none of it.
  const dataDir = nodePaths(new StatePaths(cluster.stateDir), standby.name).dataDir;
  const startup = postgresProcesses(dataDir)
    .slice(1)
    .find((pid) => processTitle(pid).includes("startup"));
  assert.ok(startup, `the startup (recovery) process of ${standby.name}`);
  process.kill(startup, "SIGSTOP");
  try {
    const name = await writerTable();
    const writer = startWriter(cluster.url("pooled"), name);
    const deadline = Date.now() + 60_000;
    let fired: AlertsJson["open"][number] | undefined;
    for (;;) {
      fired = (await alerts()).open.find((a) => a.rule === "sync-standby-lag" && a.state === "firing");
      if (fired) break;
      if (Date.now() > deadline) assert.fail(`sync-standby-lag did not fire: ${JSON.stringify((await alerts()).open)}`);
      await sleep(1000);
    }
    assert.match(fired.summary, new RegExp(`synchronous standby ${standby.name} replays [\\d.]+ s behind`));
    const report = await writer.stop();
    assert.ok(report.acked.length > 10 && report.errors.length === 0, `commits were acknowledged meanwhile: ${report.acked.length}, errors ${JSON.stringify(report.errors.slice(0, 3))}`);
  } finally {
    process.kill(startup, "SIGCONT");
  }
  const resolveBy = Date.now() + 60_000;
  while ((await alerts()).open.some((a) => a.rule === "sync-standby-lag")) {
    if (Date.now() > resolveBy) assert.fail("sync-standby-lag did not resolve");
    await sleep(1000);
  }
});

test("etcd frozen past the leader ttl: no failover, the primary keeps acknowledging writes (failsafe), status explains", async () => {
  const s = await waitFor("a synchronous standby", (x) => x.replication.nodes.some((n) => n.role === "sync standby"));
  const leader = primaryOf(s.replication)!;
  const etcd = s.processes.find((p) => p.name === "etcd")!.pid!;
  const name = await writerTable();
  const writer = startWriter(cluster.url("pooled"), name);
  await sleep(1000);
  process.kill(etcd, "SIGSTOP");
  const frozenAt = Date.now();
  let explained = "";
  try {
    // 15 s: well past the ttl (6 s), so only failsafe mode can keep the primary primary.
    while (Date.now() - frozenAt < 15_000) {
      const now = await status();
      if (/failsafe mode keeps PostgreSQL primary/.test(now.decision)) explained = now.decision;
      await sleep(1000);
    }
    assert.ok(writer.lastAckAt > frozenAt + 12_000, `writes acknowledged late in the etcd stall (last at +${writer.lastAckAt - frozenAt} ms)`);
  } finally {
    process.kill(etcd, "SIGCONT");
  }
  assert.match(explained, /etcd has not answered for \d+ s/, "status explained the stall");
  const after = await waitFor("etcd back and the same primary", (x) => x.decision.startsWith("no action") && primaryOf(x.replication)?.name === leader.name);
  assert.equal(primaryOf(after.replication)!.timeline, leader.timeline, "no promotion happened");
  const report = await writer.stop();
  assert.deepEqual(report.errors, [], "no client error");
  await assertNoneLost(name, report);
});

test("PostgreSQL on the primary stalled for 4 s (its processes stopped, as in a stall of its disk): no failover, writes wait and go on", async () => {
  const s = await waitFor("a synchronous standby", (x) => x.replication.nodes.some((n) => n.role === "sync standby") && primaryOf(x.replication)?.state === "running");
  const leader = primaryOf(s.replication)!;
  const name = await writerTable();
  const writer = startWriter(cluster.url("pooled"), name, 15_000);
  await sleep(1000);
  const pids = postgresProcesses(nodePaths(new StatePaths(cluster.stateDir), leader.name).dataDir);
  for (const pid of pids) process.kill(pid, "SIGSTOP");
  try {
    await sleep(4000);
  } finally {
    for (const pid of pids) process.kill(pid, "SIGCONT");
  }
  await sleep(3000);
  const report = await writer.stop();
  assert.deepEqual(report.errors, [], "clients waited instead of failing");
  await assertNoneLost(name, report);
  const after = await waitFor("the same primary, running", (x) => primaryOf(x.replication)?.state === "running");
  assert.equal(primaryOf(after.replication)!.name, leader.name, "no failover");
  assert.equal(primaryOf(after.replication)!.timeline, leader.timeline, "no promotion");
});

test("refusals: switchover to an unknown node, scaling below zero or beyond the machine", async () => {
  const unknown = await cluster.cli("switchover", "--to", "pg9");
  assert.equal(unknown.code, ExitCode.Usage, unknown.stderr);
  assert.match(unknown.stderr, /no node named "pg9"[^]*Nodes: pg1, pg2, pg3/);
  const negative = await cluster.cli("scale", "--replicas", "-1");
  assert.equal(negative.code, ExitCode.Usage, negative.stderr);
  const many = await cluster.cli("scale", "--replicas", "50");
  assert.equal(many.code, ExitCode.InsufficientResources, many.stderr);
  assert.match(many.stderr, /more than this machine should hold/);
});

test("switchover under write load: no client error, no acknowledged row lost, the pooled string unchanged", async () => {
  const name = await writerTable();
  const before = primaryOf((await status()).replication)!.name;
  // Clients wait in the paused pool; a switchover right after an etcd stall took 5.1 s here (2 s
  // usually), so the client's own timeout is 15 s: an error would be PgBouncer's, not the clock's.
  const writer = startWriter(cluster.url("pooled"), name, 15_000);
  await sleep(1500);
  const onOld = await directSession();
  const r = await cluster.cli("switchover", "--json");
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { from: string; to: string; pausedMs: number };
  assert.equal(result.from, before);
  await sleep(1500);
  const report = await writer.stop();
  assert.deepEqual(report.errors, [], "clients waited in the paused pool instead of failing");
  await assertNoneLost(name, report);
  const s = await status();
  assert.equal(primaryOf(s.replication)!.name, result.to);
  // The direct string now reaches the new primary; a session left on the old one was cut.
  assert.deepEqual(await directTarget(), { port: primaryOf(s.replication)!.postgresPort, primary: true });
  await assert.rejects(onOld.query("SELECT 1"));
  await onOld.end().catch(() => undefined);
});

test("tusk.yaml applied live with replicas: a rolling restart (replicas, a switchover, the old primary) under write load, no client error, nothing lost", async () => {
  const name = await writerTable();
  const before = await status();
  const file = join(cluster.stateDir, "tusk.yaml");
  const config = parse(readFileSync(file, "utf8")) as { postgresql?: Record<string, string> };
  const primaryPort = primaryOf(before.replication)!.postgresPort;
  const current = Number((await cluster.query(superuserUrl(primaryPort), "SHOW max_connections")).rows[0]!.max_connections);
  config.postgresql = { ...config.postgresql, max_connections: String(current + 20) };
  writeFileSync(file, stringify(config));
  const writer = startWriter(cluster.url("pooled"), name, 15_000);
  await sleep(1000);
  const r = await cluster.cli("config", "apply");
  await sleep(1000);
  const report = await writer.stop();
  assert.equal(r.code, 0, r.stderr);
  const replicas = before.replication.nodes.filter((n) => n.role !== "primary").map((n) => n.name);
  const old = primaryOf(before.replication)!.name;
  assert.match(r.stdout, new RegExp(`restarted ${[...replicas, old].join(", ")}\\.`), "the replicas first, the old primary last");
  assert.deepEqual(report.errors, [], "clients waited in the paused pool during the switchover");
  await assertNoneLost(name, report);
  const after = await waitFor("every node running, none pending a restart", (s) => s.decision.startsWith("no action") && s.replication.nodes.every((n) => ["running", "streaming"].includes(n.state)));
  assert.notEqual(primaryOf(after.replication)!.name, old, "the primary moved to a replica before its own restart");
  for (const node of after.replication.nodes) {
    const v = await cluster.query(superuserUrl(node.postgresPort), "SHOW max_connections");
    assert.equal(Number(v.rows[0]!.max_connections), current + 20, `${node.name} runs the new max_connections`);
  }
  const history = await cluster.cli("history", "--json");
  assert.match(history.stdout, /"kind": ?"switchover"/);
});

test("a switchover waits for a schema migration holding tusk's migration lock, then runs", async () => {
  const holder = new pg.Client({ connectionString: cluster.url("direct", "owner") });
  await holder.connect();
  leftOpen.push(() => holder.end().catch(() => undefined));
  await holder.query("SELECT pg_advisory_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
  const started = Date.now();
  const switching = cluster.cli("switchover", "--json");
  await sleep(4000);
  assert.ok(!(await status()).operations.running.some((o) => o.kind === "switchover"), "the switchover has not started under the migration");
  await holder.query("SELECT pg_advisory_unlock($1::bigint)", [MIGRATION_LOCK_KEY]);
  await holder.end();
  const r = await switching;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() - started >= 4000);
  const log = readFileSync(join(cluster.stateDir, "log", "supervisor.log"), "utf8");
  assert.match(log, /operations: switchover waits for the schema migration \(session \d+ on \w+ as \w+\)/);
});

test("kill -9 of the primary's postmaster: writes resume through the same string, nothing acknowledged is lost, and new writes wait instead of failing as read-only (the pool holds them while Patroni restarts the leader in place)", async () => {
  const name = await writerTable();
  const s = await status();
  const primary = primaryOf(s.replication)!;
  const writer = startWriter(cluster.url("pooled"), name);
  await sleep(1500);
  killPostmaster(cluster.stateDir, primary.name);
  await waitFor("a running primary again", (x) => primaryOf(x.replication)?.state === "running" && x.replication.nodes.filter((n) => n.state === "running").length === 3);
  // Writes resume: 50 more commits after recovery (and over 100 in all), however loaded the machine.
  const atRecovery = writer.commits;
  const deadline = Date.now() + 30_000;
  while ((writer.commits < atRecovery + 50 || writer.commits <= 100) && Date.now() < deadline) await sleep(200);
  const report = await writer.stop();
  await assertNoneLost(name, report);
  assert.ok(report.acked.length > 0 && report.maxGapMs < 60_000, `writes resumed (longest gap ${report.maxGapMs} ms)`);
  // The transactions the crash itself cut fail; new ones wait instead of reaching the node while it is
  // read-only. Without the hold this writer saw about 60 read-only errors; a loaded machine may
  // delay the supervisor's look at the postmaster (every 200 ms) past the first few.
  const readOnly = report.errors.filter((e) => /read-only/.test(e));
  assert.ok(readOnly.length <= 5, `${readOnly.length} writes failed as read-only: ${report.errors.slice(0, 5).join("; ")}`);
  console.log(`postmaster kill: longest gap ${report.maxGapMs} ms, client errors: ${report.errors.length} (${[...new Set(report.errors)].join(" | ")})`);
});

test("loss of the primary's node (Patroni and PostgreSQL frozen): failover, nothing lost, the old node rejoins as a replica", async () => {
  const name = await writerTable();
  // A healthy cluster to start from: every replica streaming and caught up, one of them named the
  // synchronous standby. (Patroni names none for a moment after a primary restarts, and in
  // synchronous mode it promotes only the synchronous standby.)
  const s = await waitFor(
    "replicas caught up and a synchronous standby",
    (x) => x.replication.nodes.some((n) => n.role === "sync standby") && x.replication.nodes.every((n) => n.role === "primary" || (n.state === "running" && (n.lagBytes ?? 1) === 0)),
  );
  const old = primaryOf(s.replication)!;
  const writer = startWriter(cluster.url("pooled"), name);
  // A second writer on the unpooled direct string, which HAProxy sends to the primary.
  const directName = await writerTable();
  const direct = startWriter(cluster.urls.direct, directName);
  await sleep(1500);
  const frozenAt = new Date().toISOString();
  let promotedAt = Infinity;
  const thaw = freezeNode(cluster.stateDir, old.name);
  try {
    const after = await waitFor(
      "a replica promoted",
      (x) => {
        const p = primaryOf(x.replication);
        return p !== undefined && p.name !== old.name && p.state === "running";
      },
      60_000,
    );
    assert.notEqual(primaryOf(after.replication)!.name, old.name);
    promotedAt = Date.now();
    await sleep(3000);
    // The old primary wakes up after its lock expired: it must demote, not take the lock back.
    thaw();
    await waitFor(
      `${old.name} back as a replica`,
      (x) => {
        const n = x.replication.nodes.find((m: NodeStatus) => m.name === old.name);
        return n !== undefined && n.role !== "primary" && n.state === "running";
      },
      120_000,
    );
    // And following the new primary. (It may have had WAL the new primary never got; pg_rewind, or
    // the supervisor's repair, removes that.)
    await waitForReplay(old.name, old.postgresPort, 150_000);
    await sleep(2000);
  } finally {
    thaw();
  }
  const directResumed = direct.lastAckAt;
  const report = await writer.stop();
  await assertNoneLost(name, report);
  const directReport = await direct.stop();
  await assertNoneLost(directName, directReport);
  assert.ok(directResumed > promotedAt, "writes through the direct string resumed on the new primary");
  const end = await status();
  assert.equal(end.replication.nodes.filter((n) => n.role === "primary").length, 1, "one primary");
  assert.deepEqual(await directTarget(), { port: primaryOf(end.replication)!.postgresPort, primary: true });
  assert.notEqual(primaryOf(end.replication)!.name, old.name, "the promoted node kept the lock");
  // While frozen, the old primary was a node down: the alert fired and has resolved since it rejoined.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const a = await alerts();
    const episode = a.recent.find((x) => x.rule === "node-down" && x.labels.node === old.name && x.startedAt >= frozenAt);
    if (episode && !a.open.some((x) => x.rule === "node-down" && x.labels.node === old.name)) break;
    if (Date.now() > deadline) assert.fail(`node-down for ${old.name} did not fire and resolve: ${JSON.stringify(a)}`);
    await sleep(1000);
  }
});

test("a returning primary with WAL the new primary never had, which Patroni did not rewind, is repaired by the supervisor and follows again", async () => {
  const s = await waitFor(
    "replicas caught up and a synchronous standby",
    (x) => x.replication.nodes.some((n) => n.role === "sync standby") && x.replication.nodes.every((n) => n.role === "primary" || (n.state === "running" && (n.lagBytes ?? 1) === 0)),
  );
  const old = primaryOf(s.replication)!;
  const dataDir = nodePaths(new StatePaths(cluster.stateDir), old.name).dataDir;
  const client = new pg.Client({ connectionString: superuserUrl(old.postgresPort) });
  client.on("error", () => undefined);
  await client.connect();
  leftOpen.push(() => client.end());
  await client.query("CREATE TABLE unacked (pad text)");
  // 4 MB of WAL that reach the primary's disk and no standby: its WAL senders are held, and
  // synchronous_commit = local waits for the local flush only. Its Patroni is held too, so etcd
  // never learns the new position and the standby, not that far behind as far as etcd knows, is
  // still promoted (maximum_lag_on_failover). Returning, the old primary's startup process replays
  // those 4 MB, then waits for the new primary to reach that position while its WAL receiver
  // streams the new timeline: that is the state in which Patroni decides no rewind is needed.
  const held = [pidOf(nodePaths(new StatePaths(cluster.stateDir), old.name).patroniPid), ...postgresProcesses(dataDir).filter((pid) => processTitle(pid).includes("walsender"))];
  assert.ok(held.length > 1, "the primary has WAL senders");
  for (const pid of held) process.kill(pid, "SIGSTOP");
  let thaw: (() => void) | undefined;
  try {
    await client.query("SET synchronous_commit = local");
    await client.query("INSERT INTO unacked SELECT repeat('x', 1000) FROM generate_series(1, 4000)");
    thaw = freezeNode(cluster.stateDir, old.name); // the held processes are among the frozen, and thaw with them
  } finally {
    if (!thaw) for (const pid of held) process.kill(pid, "SIGCONT");
  }
  const postmaster = pidOf(join(dataDir, "postmaster.pid"));
  try {
    await waitFor(
      "a replica promoted",
      (x) => {
        const p = primaryOf(x.replication);
        return p !== undefined && p.name !== old.name && p.state === "running";
      },
      60_000,
    );
    // Once the new timeline's history file is archived, the old primary restarting as a replica
    // takes that timeline as its target from the start and streams it, after crash recovery has
    // already replayed its own timeline past the fork. (Learning of it from the new primary
    // instead, PostgreSQL refuses it, streams its old timeline, and Patroni rewinds it unaided.)
    await waitForArchived(`${(old.timeline! + 1).toString(16).toUpperCase().padStart(8, "0")}.history`, 30_000);
  } finally {
    thaw();
  }
  void client.end().catch(() => undefined);
  // Patroni demotes the old primary and starts it as a replica. Held until that replica's WAL
  // receiver streams a newer timeline than the one it led, Patroni then decides no rewind is needed.
  const streamingNewTimeline = async () =>
    ((await cluster.query<{ tli: number }>(superuserUrl(old.postgresPort), "SELECT received_tli AS tli FROM pg_stat_wal_receiver WHERE latest_end_lsn IS NOT NULL")).rows[0]?.tli ?? 0) > old.timeline!;
  await holdPatroniOnRestart(cluster.stateDir, old.name, postmaster, streamingNewTimeline);
  await waitForReplay(old.name, old.postgresPort, 150_000);
  const log = readFileSync(join(cluster.stateDir, "log", "supervisor.log"), "utf8");
  assert.match(log, new RegExp(`${old.name} \\(timeline \\d+\\) has not replayed any WAL .* it holds WAL the primary never had`), "the supervisor found the stuck node and repaired it");
});

test("history lists the switchover and the failover; a failover drill reports the outage and no lost write", async () => {
  const history = JSON.parse((await cluster.cli("history", "--json")).stdout) as { kind: string; from: string; to: string; outageMs: number | null }[];
  assert.ok(
    history.some((h) => h.kind === "switchover" && h.outageMs !== null),
    JSON.stringify(history),
  );
  const failover = history.find((h) => h.kind === "failover");
  assert.ok(failover && failover.outageMs !== null && failover.outageMs > 0, JSON.stringify(history));
  assert.match((await cluster.cli("history")).stdout, /WHEN +KIND +FROM +TO +TL +OUTAGE/);
  const r = await cluster.cli("drill", "failover", "--kind", "switchover", "--json");
  assert.equal(r.code, 0, r.stderr);
  const drill = JSON.parse(r.stdout) as { ok: boolean; lost: number; acknowledged: number; acknowledgedAfter: number; outageMs: number; clientErrors: number };
  assert.equal(drill.ok, true, r.stdout);
  assert.equal(drill.lost, 0, r.stdout);
  assert.equal(drill.clientErrors, 0, r.stdout);
  assert.ok(drill.acknowledgedAfter >= 100 && drill.acknowledged >= 200 && drill.outageMs > 0, r.stdout);
  const bad = await cluster.cli("drill", "failover", "--kind", "meteor");
  assert.equal(bad.code, ExitCode.Usage);
});

test("after the failovers, backups, restore points and restore drills follow the current primary", async () => {
  const backup = await cluster.cli("backup", "--type", "incr");
  assert.equal(backup.code, 0, backup.stderr);
  assert.equal((await cluster.cli("restore-point", "after_failovers")).code, 0);
  // The drill's scratch instance must not wait for the synchronous standby the source named.
  const drill = await cluster.cli("drill", "restore", "--json");
  assert.equal(drill.code, 0, drill.stderr + drill.stdout);
  assert.equal((JSON.parse(drill.stdout) as { ok: boolean }).ok, true);
});

test("scale down to 1 replica: the direct session on the primary is kept", async () => {
  const held = await directSession();
  const haproxy = haproxyPids();
  const r = await cluster.cli("scale", "--replicas", "1");
  assert.equal(r.code, 0, r.stderr);
  await sleep(2000);
  assert.deepEqual(haproxyPids(), haproxy, "one HAProxy, not restarted");
  assert.equal((await held.query<{ n: number }>("SELECT count(*)::int AS n FROM seed")).rows[0]?.n, 20000);
  await held.end();
  const s = await waitFor("two nodes", (x) => x.replication.nodes.length === 2 && x.replication.nodes.every((n) => n.state === "running"));
  assert.equal(s.replication.nodes.filter((n) => n.role === "primary").length, 1);
  const rows = await cluster.query<{ n: number }>(cluster.url("pooled"), "SELECT count(*)::int AS n FROM seed");
  assert.equal(rows.rows[0]?.n, 20000);
});

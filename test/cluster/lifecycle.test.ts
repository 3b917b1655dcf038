import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { parse, stringify } from "yaml";
import { join } from "node:path";
import pg from "pg";
import { TestCluster } from "../helpers/test-cluster.js";
import type { SupervisorStatus } from "../../src/core/supervisor/status.js";
import { isAlive } from "../../src/core/processes/pid-file.js";
import { Cluster } from "../../src/core/cluster/cluster.js";
import { silentProgress } from "../../src/core/progress.js";
import { Writer } from "../../src/core/failover/writer.js";
import { ExitCode } from "../../src/core/errors.js";

/** Start, status, crash recovery, restart with data, destroy — on one real cluster, in order. */
let cluster: TestCluster;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function status(): Promise<SupervisorStatus> {
  const r = await cluster.cli("status", "--json");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as SupervisorStatus;
}

/** Polls `check` every 500 ms until it returns true or `timeoutMs` passes. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(500);
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** State and parent of a process, from /proc/PID/stat (undefined once it is gone). */
function procStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: state!, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

const zombieChildren = () => readdirSync("/proc").filter((p) => /^\d+$/.test(p) && procStat(Number(p))?.ppid === process.pid && procStat(Number(p))?.state === "Z");

async function rowCount(kind: "pooled" | "direct" = "pooled"): Promise<number> {
  const r = await cluster.query(cluster.url(kind), "SELECT count(*)::int AS n FROM kept");
  return r.rows[0]!.n;
}

before(async () => {
  cluster = await TestCluster.start("lifecycle");
  const owner = new pg.Client({ connectionString: cluster.url("direct", "owner") });
  await owner.connect();
  await owner.query("CREATE TABLE kept (id int PRIMARY KEY, note text)");
  await owner.query("INSERT INTO kept SELECT i, 'row ' || i FROM generate_series(1, 1000) i");
  await owner.end();
});

after(async () => {
  await cluster?.destroy();
});

test("status reports every process up with pid, port and version; --json and text agree", async () => {
  const s = await status();
  assert.equal(s.phase, "ready");
  assert.match(s.decision, /^no action: /);
  assert.deepEqual(
    s.processes.map((p) => p.name),
    ["etcd", "patroni", "postgres", "pgbouncer", "haproxy"],
  );
  assert.deepEqual(s.processes.find((p) => p.name === "haproxy")?.ports, [cluster.ports.readonly, cluster.ports.direct]);
  for (const p of s.processes) {
    assert.equal(p.up, true, `${p.name} down`);
    assert.ok(p.pid && isAlive(p.pid), `${p.name} pid`);
    assert.ok(p.ports.length && p.version, `${p.name} port/version`);
  }
  assert.deepEqual(s.processes.find((p) => p.name === "postgres")?.ports, [cluster.ports.postgres]);
  assert.match(s.processes.find((p) => p.name === "pgbouncer")!.version!, /^1\.(2[1-9]|[3-9]\d)/);
  assert.ok((s.dataSizeBytes ?? 0) > 1_000_000);
  const text = await cluster.cli("status");
  assert.equal(text.code, 0);
  assert.match(text.stdout, /postgres\s+up\s+\d+\s+\d+\s+15\.\d+/);
  assert.match(text.stdout, new RegExp(`haproxy\\s+up\\s+\\d+\\s+${cluster.ports.readonly},${cluster.ports.direct}\\s`), "both HAProxy endpoints");
});

test("config show lists each generated setting with its value and reason", async () => {
  const r = await cluster.cli("config", "show", "--json");
  assert.equal(r.code, 0, r.stderr);
  const c = JSON.parse(r.stdout) as { postgresql: { name: string; value: string; source: string; reason: string }[]; pgbouncer: { name: string }[] };
  const sb = c.postgresql.find((s) => s.name === "shared_buffers")!;
  assert.equal(sb.value, "256MB");
  assert.equal(sb.source, "override");
  for (const s of c.postgresql) assert.ok(s.reason.length > 10, s.name);
  assert.ok(c.pgbouncer.some((s) => s.name === "max_prepared_statements"));
  const live = await cluster.query(cluster.urls.direct, "SELECT current_setting('shared_buffers') AS sb, current_setting('random_page_cost') AS rpc");
  assert.equal(live.rows[0]!.sb, "256MB");
  assert.equal(live.rows[0]!.rpc, c.postgresql.find((s) => s.name === "random_page_cost")!.value);
});

test("the generated files are owner-only and pg_hba has no trust", async () => {
  const hba = await cluster.query(cluster.urls.direct.replace(/\/\/app:/, "//app:"), "SELECT 1");
  assert.equal(hba.rowCount, 1);
  for (const f of ["secrets/app.secret", "secrets/superuser.secret", "patroni/patroni.yml", "pgbouncer/userlist.txt"]) {
    assert.equal(statSync(join(cluster.stateDir, f)).mode & 0o077, 0, `${f} is readable by others`);
  }
  const patroniYml = readFileSync(join(cluster.stateDir, "patroni/patroni.yml"), "utf8");
  assert.doesNotMatch(patroniYml, /\btrust\b/);
  assert.match(patroniYml, /host all all 127\.0\.0\.1\/32 scram-sha-256/);
});

test("TLS: the cluster's CA (tusk ca) issued the server certificate; PostgreSQL and PgBouncer pass verification against it", async () => {
  const printed = await cluster.cli("ca");
  assert.equal(printed.code, 0, printed.stderr);
  const ca = printed.stdout;
  assert.match(ca, /^-----BEGIN CERTIFICATE-----\n[^]+\n-----END CERTIFICATE-----\n$/);
  assert.doesNotMatch(readFileSync(join(cluster.stateDir, "tls/server.crt"), "utf8"), new RegExp(ca.split("\n")[1]!), "the server's certificate is not the CA's");
  assert.equal(statSync(join(cluster.stateDir, "secrets/ca.key")).mode & 0o077, 0, "the CA key is root's alone");
  for (const kind of ["direct", "pooled"] as const) {
    const client = new pg.Client({ connectionString: cluster.url(kind), ssl: { ca, rejectUnauthorized: true } });
    await client.connect();
    try {
      assert.equal((await client.query("SELECT count(*)::int AS n FROM kept")).rows[0]!.n, 1000);
      if (kind === "direct") {
        const r = await client.query("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
        assert.equal(r.rows[0]!.ssl, true);
        assert.match(r.rows[0]!.version, /^TLSv1\.[23]$/);
      }
    } finally {
      await client.end();
    }
  }
  assert.equal(statSync(join(cluster.stateDir, "tls/server.key")).mode & 0o077, 0);
});

test("kill -9 of the postmaster: Patroni restarts PostgreSQL and no row is lost", async () => {
  const before = (await status()).processes.find((p) => p.name === "postgres")!.pid!;
  process.kill(before, "SIGKILL");
  await eventually("PostgreSQL back with a new postmaster", async () => {
    const pgStatus = (await status()).processes.find((p) => p.name === "postgres")!;
    return pgStatus.up && pgStatus.pid !== before && (await rowCount("direct")) === 1000;
  });
  assert.equal(await rowCount("pooled"), 1000);
});

test("kill -9 of PgBouncer and HAProxy: the supervisor restarts them", async () => {
  const before = (await status()).processes;
  const pid = (name: string) => before.find((p) => p.name === name)!.pid!;
  process.kill(pid("pgbouncer"), "SIGKILL");
  process.kill(pid("haproxy"), "SIGKILL");
  await eventually("PgBouncer and HAProxy restarted", async () => {
    const now = (await status()).processes;
    const restarted = (name: string) => now.some((p) => p.name === name && p.up && p.pid !== pid(name) && p.restarts === 1);
    return restarted("pgbouncer") && restarted("haproxy") && (await rowCount("pooled")) === 1000;
  });
  const ro = new pg.Client({ connectionString: cluster.urls.readOnly });
  await ro.connect();
  assert.equal((await ro.query("SELECT count(*)::int AS n FROM kept")).rows[0].n, 1000);
  await ro.end();
});

test("kill -9 of Patroni: the supervisor restarts it and it adopts the running PostgreSQL", async () => {
  const s = await status();
  const patroni = s.processes.find((p) => p.name === "patroni")!;
  const postmaster = s.processes.find((p) => p.name === "postgres")!.pid!;
  process.kill(patroni.pid!, "SIGKILL");
  await eventually("Patroni restarted and PostgreSQL primary", async () => {
    const now = await status();
    const p = now.processes.find((x) => x.name === "patroni")!;
    return p.up && p.pid !== patroni.pid && now.phase === "ready";
  });
  assert.equal(await rowCount("pooled"), 1000);
  assert.ok(isAlive(postmaster), "the postmaster kept running while Patroni was away");
});

test("psql: the application role through the pooler, and the superuser over the primary's socket with --superuser", async () => {
  const app = await cluster.cli("psql", "-tAc", "select current_user, current_setting('is_superuser')");
  assert.equal(app.code, 0, app.stderr);
  assert.equal(app.stdout.trim(), "app|off");
  const su = await cluster.cli("psql", "--superuser", "-tAc", "select current_user, current_setting('is_superuser'), inet_server_addr() IS NULL");
  assert.equal(su.code, 0, su.stderr);
  assert.equal(su.stdout.trim(), "postgres|on|t", "the superuser over the Unix socket");
  const both = await cluster.cli("psql", "--superuser", "--transaction", "-c", "select 1");
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--transaction and --superuser/);
});

test("up on a running cluster changes nothing and prints the connection strings", async () => {
  const pid = (await status()).supervisor.pid;
  const r = await cluster.cli("up", "--json");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), cluster.urls);
  assert.equal((await status()).supervisor.pid, pid);
});

/** The keys of tusk.yaml these tests change. */
interface EditedConfig {
  postgresql?: Record<string, string>;
  ports: Record<string, number>;
}

/** Changes tusk.yaml as a user would: read, edit, write. */
function editConfig(change: (c: EditedConfig) => void): void {
  const file = join(cluster.stateDir, "tusk.yaml");
  const c = parse(readFileSync(file, "utf8")) as EditedConfig;
  change(c);
  writeFileSync(file, stringify(c));
}

async function show(setting: string): Promise<string> {
  return (await cluster.query(cluster.url("direct", "owner"), `SHOW ${setting}`)).rows[0]![setting] as string;
}

test("tusk.yaml applied live on one node: a reload at once; a restart setting restarts it with the pool paused, a writer sees no error; a refused key applies nothing", async () => {
  const pid = (await status()).supervisor.pid;
  const owner = new pg.Client({ connectionString: cluster.url("direct", "owner") });
  await owner.connect();
  await owner.query("CREATE TABLE applied (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())");
  await owner.end();

  editConfig((c) => (c.postgresql = { ...c.postgresql, work_mem: "24MB" }));
  const reload = await cluster.cli("config", "apply");
  assert.equal(reload.code, 0, reload.stderr);
  assert.match(reload.stderr, /\[reload\] postgresql\.work_mem: .* → 24MB/);
  assert.match(reload.stdout, /Applied 1 change\(s\), without a restart/);
  await eventually("work_mem reloaded", async () => (await show("work_mem")) === "24MB", 15_000);

  const maxConnections = Number(await show("max_connections"));
  editConfig((c) => (c.postgresql = { ...c.postgresql, max_connections: String(maxConnections + 10) }));
  const dry = await cluster.cli("config", "apply", "--dry-run");
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stderr, /\[rolling restart\] postgresql\.max_connections: \d+ → \d+/);
  assert.equal(Number(await show("max_connections")), maxConnections, "a dry run applies nothing");

  // The only node restarts: clients wait in the paused pool instead of failing.
  const writer = new Writer(cluster.url("pooled"), "applied", 20_000);
  await sleep(1000);
  const restart = await cluster.cli("up");
  const report = await writer.stop();
  assert.equal(restart.code, 0, restart.stderr);
  assert.match(restart.stderr, /✓ Applying tusk\.yaml .* — restarted pg1 \(/);
  assert.deepEqual(report.errors, [], "clients waited in the paused pool");
  assert.ok(report.acked.length > 50, `the writer made progress (${report.acked.length} commits)`);
  assert.equal(Number(await show("max_connections")), maxConnections + 10);
  const stored = await cluster.query(cluster.url("direct"), "SELECT count(*)::int AS n FROM applied");
  assert.equal(stored.rows[0]!.n, report.acked.length, "every acknowledged row is there");

  // A port cannot change under running processes: refused, and the reloadable change beside it is not applied either.
  editConfig((c) => {
    c.ports = { ...c.ports, pooler: c.ports.pooler! + 1000 };
    c.postgresql = { ...c.postgresql, work_mem: "20MB" };
  });
  const refused = await cluster.cli("config", "apply");
  assert.equal(refused.code, ExitCode.IncompatibleState, refused.stderr);
  assert.match(refused.stderr, /\[refused\] ports\.pooler: .*`tusk down`, then `tusk up` applies it \(data is kept\)/);
  assert.match(refused.stderr, /nothing was applied/);
  await sleep(1500);
  assert.equal(await show("work_mem"), "24MB");
  editConfig((c) => {
    c.ports = { ...c.ports, pooler: c.ports.pooler! - 1000 };
    c.postgresql = { ...c.postgresql, work_mem: "24MB" };
  });
  const same = await cluster.cli("config", "apply");
  assert.match(same.stdout, /nothing to apply/);
  const s = await status();
  assert.equal(s.supervisor.pid, pid, "the supervisor applied it without restarting");
  assert.equal(s.operations.recent.find((o) => o.kind === "settings")?.state, "done");
});

test("down stops every process; status then says not running; up brings every row back", async () => {
  const pids = (await status()).processes.map((p) => p.pid!);
  const down = await cluster.cli("down");
  assert.equal(down.code, 0, down.stderr);
  for (const pid of pids) assert.equal(isAlive(pid), false, `pid ${pid} still alive`);
  assert.equal(existsSync(join(cluster.stateDir, "postgresql/data/postmaster.pid")), false);
  const st = await cluster.cli("status");
  assert.equal(st.code, 9);
  assert.match(st.stderr, /tusk is not running/);
  assert.doesNotMatch(st.stderr, /\n\s+at /);
  const again = await cluster.cli("down");
  assert.equal(again.code, 9);
  // This test process is a long-lived parent: up and down through the core, in process.
  const inProcess = new Cluster(cluster.stateDir);
  const started = await inProcess.up(silentProgress);
  assert.notEqual(procStat(started.supervisor.pid)?.ppid, process.pid, "the supervisor is re-parented at once, not our child");
  await inProcess.down(undefined);
  await sleep(200);
  assert.deepEqual(zombieChildren(), [], "no defunct child after down");
  const up = await cluster.cli("up", "--json");
  assert.equal(up.code, 0, up.stderr);
  assert.deepEqual(JSON.parse(up.stdout), cluster.urls, "connection strings survive a restart");
  assert.equal(await rowCount("pooled"), 1000);
});

test("destroy refuses without confirmation, then deletes everything with --yes", async () => {
  const refused = await cluster.cli("destroy");
  assert.equal(refused.code, 11);
  assert.match(refused.stderr, /--yes/);
  assert.equal(await rowCount("pooled"), 1000);
  const pids = (await status()).processes.map((p) => p.pid!);
  const r = await cluster.cli("destroy", "--yes");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(existsSync(cluster.stateDir), false);
  for (const pid of pids) assert.equal(isAlive(pid), false);
});

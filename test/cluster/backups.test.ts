import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import pg from "pg";
import { ExitCode } from "../../src/core/errors.js";
import { DEFAULT_CONFIG } from "../../src/core/config/config-file.js";
import type { BackupCatalog } from "../../src/core/backup/catalog.js";
import { formatWallClock } from "../../src/core/time/wall-clock.js";
import { TestCluster } from "../helpers/test-cluster.js";
import { CLI_MAIN } from "../helpers/cli.js";

/**
 * Backups with pgBackRest on a real cluster: continuous archiving from the first start, point-in-time
 * recovery to a time, a restore point and an LSN, restore to the latest state, clones that run beside
 * the source, and the refusals with their exit codes.
 */
let cluster: TestCluster;
let owner: pg.Client;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function catalog(): Promise<BackupCatalog> {
  const r = await cluster.cli("backups", "--json");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as BackupCatalog;
}

/** The superuser over loopback, as tusk itself connects (pg_switch_wal needs it). */
function superuserUrl(): string {
  const password = readFileSync(join(cluster.stateDir, "secrets/superuser.secret"), "utf8").trim();
  return `postgresql://postgres:${password}@127.0.0.1:${cluster.ports.postgres}/postgres`;
}

/** Commits a transaction (pg_switch_wal does nothing on an empty segment), then switches WAL. */
async function switchWal(): Promise<void> {
  await cluster.query(superuserUrl(), "SELECT txid_current()");
  await cluster.query(superuserUrl(), "SELECT pg_switch_wal()");
}

/** Closes the current WAL segment and waits until the archiver has pushed it to the repository. */
async function archiveNow(): Promise<void> {
  const su = new pg.Client({ connectionString: superuserUrl() });
  await su.connect();
  try {
    await su.query("SELECT txid_current()"); // pg_switch_wal does nothing on an empty segment
    const wal = (await su.query("SELECT pg_walfile_name(pg_current_wal_lsn()) AS f")).rows[0].f as string;
    await su.query("SELECT pg_switch_wal()");
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const r = await su.query("SELECT last_archived_wal FROM pg_stat_archiver");
      if ((r.rows[0]?.last_archived_wal ?? "") >= wal) return;
      await sleep(250);
    }
    assert.fail(`WAL ${wal} was not archived within 60 s`);
  } finally {
    await su.end();
  }
}

async function labels(url: string): Promise<string[]> {
  const r = await cluster.query(url, "SELECT label FROM marks ORDER BY id");
  return r.rows.map((x) => x.label);
}

async function restore(...args: string[]): Promise<{ code: number; stderr: string; urls?: { direct: string; migrations: string; pooled: string } }> {
  const r = await cluster.cli("restore", ...args, "--json");
  return { code: r.code, stderr: r.stderr, urls: r.code === 0 ? JSON.parse(r.stdout) : undefined };
}

const mark = (label: string) => owner.query("INSERT INTO marks (label) VALUES ($1)", [label]);

before(async () => {
  cluster = await TestCluster.start("backups", { monitoring: { interval_seconds: 1 } });
  owner = new pg.Client({ connectionString: cluster.url("direct", "owner") });
  owner.on("error", () => undefined); // the in-place restore at the end stops the server under it
  await owner.connect();
  await owner.query("CREATE TABLE marks (id serial PRIMARY KEY, label text NOT NULL)");
});

after(async () => {
  await owner?.end();
  await cluster?.destroy();
});

test("from the first start: a full backup exists, WAL is archived, the window is known", async () => {
  const c = await catalog();
  assert.equal(c.backups.length, 1);
  assert.equal(c.backups[0]!.type, "full");
  assert.ok(c.backups[0]!.originalBytes > 10_000_000);
  assert.ok(c.backups[0]!.repositoryBytes < c.backups[0]!.originalBytes, "compressed in the repository");
  assert.ok(c.window.from && c.window.to && c.window.from <= c.window.to);
  assert.ok((c.archiver?.archivedCount ?? 0) >= 1);
  assert.equal(c.archiver?.failedCount, 0);
});

test("tusk backup takes a differential and an incremental backup", async () => {
  await owner.query("CREATE TABLE bulk AS SELECT i, md5(i::text) AS h FROM generate_series(1, 50000) i");
  for (const type of ["diff", "incr"]) {
    const r = await cluster.cli("backup", "--type", type);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`\\(${type}\\)`));
  }
  const c = await catalog();
  assert.deepEqual(
    c.backups.map((b) => b.type),
    ["full", "diff", "incr"],
  );
});

test("a restore drill passes on a healthy repository and is recorded", async () => {
  const r = await cluster.cli("drill", "restore", "--json");
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const result = JSON.parse(r.stdout) as { ok: boolean; restoreSeconds: number; checks: { name: string; ok: boolean; detail: string }[] };
  assert.equal(result.ok, true);
  assert.ok(result.restoreSeconds > 0);
  assert.deepEqual(
    result.checks.map((c) => c.name),
    ["archiving", "repository verify", "restore and start", "amcheck", "row counts"],
  );
  assert.match(result.checks.find((c) => c.name === "row counts")!.detail, /tables match/);
  const history = JSON.parse((await cluster.cli("drill", "history", "--json")).stdout) as unknown[];
  assert.equal(history.length, 1);
});

test("point-in-time recovery to a time: A is there and B is not; the source keeps running", async () => {
  await mark("A");
  await sleep(1100);
  const t = (await owner.query("SELECT now()::text AS t")).rows[0].t as string;
  await sleep(1100);
  await mark("B");
  await archiveNow();
  const r = await restore("--into", "pitr_time", "--time", t);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await labels(r.urls!.direct), ["A"]);
  assert.deepEqual(await labels(cluster.url("pooled")), ["A", "B"]);
});

test("recovery to a restore point and to an LSN", async () => {
  await mark("C");
  const rp = await cluster.cli("restore-point", "before_d");
  assert.equal(rp.code, 0, rp.stderr);
  await mark("D");
  await mark("E");
  const lsn = (await owner.query("SELECT pg_current_wal_insert_lsn()::text AS l")).rows[0].l as string;
  await sleep(200);
  await mark("F");
  await archiveNow();
  const byName = await restore("--into", "pitr_name", "--name", "before_d");
  assert.equal(byName.code, 0, byName.stderr);
  assert.deepEqual(await labels(byName.urls!.direct), ["A", "B", "C"]);
  const byLsn = await restore("--into", "pitr_lsn", "--lsn", lsn);
  assert.equal(byLsn.code, 0, byLsn.stderr);
  assert.deepEqual(await labels(byLsn.urls!.direct), ["A", "B", "C", "D", "E"]);
});

test("restore to the latest state keeps everything; the clone is independent of the source", async () => {
  await mark("G");
  await archiveNow();
  const r = await restore("--into", "latest");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await labels(r.urls!.pooled), ["A", "B", "C", "D", "E", "F", "G"]);
  await cluster.query(r.urls!.migrations, "INSERT INTO marks (label) VALUES ('only-in-clone')");
  await mark("only-in-source");
  assert.ok(!(await labels(cluster.url("pooled"))).includes("only-in-clone"));
  assert.ok(!(await labels(r.urls!.direct)).includes("only-in-source"));
  // The clone has its own repository and backup.
  const cloneBackups = await cluster.cli("--state-dir", `${cluster.stateDir}-clones/latest`, "backups", "--json");
  assert.equal(JSON.parse(cloneBackups.stdout).backups.length, 1);
});

test("recovery to a time after which nothing was written (an idle database) still reaches it", async () => {
  await mark("H");
  await sleep(1100);
  const t = new Date().toISOString(); // ISO form with T and Z, as users and scripts often write it
  await sleep(1100);
  const r = await restore("--into", "idle_time", "--time", t);
  assert.equal(r.code, 0, r.stderr);
  const got = await labels(r.urls!.direct);
  assert.equal(got.at(-1), "H");
  assert.deepEqual(got.slice(0, 7), ["A", "B", "C", "D", "E", "F", "G"]);
});

test("refusals: a time outside the window, an unknown restore point, a taken clone name, in place without --yes, no space", async () => {
  const early = await restore("--into", "too_early", "--time", "2001-01-01 00:00:00+00");
  assert.equal(early.code, ExitCode.OutsideWindow, early.stderr);
  assert.match(early.stderr, /outside the restorable window \(.+ to .+\)/);
  const unknown = await restore("--into", "nope", "--name", "no_such_point");
  assert.equal(unknown.code, ExitCode.OutsideWindow, unknown.stderr);
  assert.match(unknown.stderr, /no restore point named "no_such_point".*\n.*before_d/);
  const taken = await restore("--into", "latest");
  assert.equal(taken.code, ExitCode.AlreadyExists, taken.stderr);
  const unconfirmed = await cluster.cli("restore", "--time", "2026-01-01");
  assert.equal(unconfirmed.code, ExitCode.Aborted);
  assert.match(unconfirmed.stderr, /refusing without confirmation[^]*--yes/);
  // A clone whose directory is on a filesystem too small for the data.
  const small = join(`${cluster.stateDir}-clones`, "no_space");
  mkdirSync(small, { recursive: true });
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=64m", "tusk-test", small]);
  try {
    const full = await restore("--into", "no_space");
    assert.equal(full.code, ExitCode.InsufficientResources, full.stderr);
    assert.match(full.stderr, /A restore needs about \d+ MB but only \d+ MB is free[^]*the source is untouched/);
  } finally {
    execFileSync("umount", [small]);
  }
  const dup = await cluster.cli("restore-point", "before_d");
  assert.equal(dup.code, ExitCode.Usage);
});

test("WAL archiving that stops working shows in status; fixing it recovers, and no WAL is lost", async () => {
  const archiveDir = join(cluster.stateDir, "backups", "archive");
  chmodSync(archiveDir, 0o000);
  try {
    await switchWal(); // a segment to archive, which now cannot be written
    const deadline = Date.now() + 90_000;
    let text = "";
    while (Date.now() < deadline) {
      text = (await cluster.cli("status")).stdout;
      if (/WAL archiving: FAILING since/.test(text)) break;
      await sleep(1000);
    }
    assert.match(text, /WAL archiving: FAILING since/);
  } finally {
    chmodSync(archiveDir, 0o750);
  }
  await archiveNow();
  const deadline = Date.now() + 60_000;
  let text = "";
  while (Date.now() < deadline) {
    text = (await cluster.cli("status")).stdout;
    if (/WAL archiving: ok/.test(text)) break;
    await sleep(1000);
  }
  assert.match(text, /WAL archiving: ok/);
});

test("a backup killed mid-way leaves the repository consistent; the next one succeeds", async () => {
  await owner.query("CREATE TABLE bulk2 AS SELECT i, repeat(md5(i::text), 20) AS h FROM generate_series(1, 200000) i");
  const child = spawn(process.execPath, [CLI_MAIN, "--state-dir", cluster.stateDir, "backup", "--type", "full"], { stdio: "ignore" });
  const configPath = join(cluster.stateDir, "pgbackrest/pgbackrest.conf");
  // Wait until pgBackRest is copying, then kill the whole backup (our CLI and the pgbackrest processes it started).
  let pids: number[] = [];
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && pids.length === 0) {
    pids = pgbackrestPids(configPath, "backup");
    await sleep(100);
  }
  await sleep(300);
  child.kill("SIGKILL");
  for (const pid of pgbackrestPids(configPath, "backup")) process.kill(pid, "SIGKILL");
  assert.ok(pids.length > 0, "saw the backup running");
  await sleep(500);
  const again = await cluster.cli("backup", "--type", "full");
  assert.equal(again.code, 0, again.stderr);
  const verify = await cluster.cli("drill", "restore", "--json");
  assert.equal(JSON.parse(verify.stdout).ok, true, verify.stdout);
});

/**
 * Processes of this cluster: every one whose command line names its state directory or a path in it
 * (the CLI, the supervisor, etcd, Patroni, PostgreSQL, PgBouncer, HAProxy, pgBackRest); not its
 * clones' (STATE_DIR-clones/…).
 */
function clusterPids(stateDir: string): number[] {
  const ours = new RegExp(`${stateDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(/|\0|$)`);
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid)
    .filter((e) => {
      try {
        return ours.test(readFileSync(`/proc/${e}/cmdline`, "utf8"));
      } catch {
        return false; // exited meanwhile
      }
    })
    .map(Number);
}

test("a backup interrupted by killing every process of the cluster is reported interrupted after tusk up; the next one runs", async () => {
  const child = spawn(process.execPath, [CLI_MAIN, "--state-dir", cluster.stateDir, "backup", "--type", "full"], { stdio: "ignore" });
  const configPath = join(cluster.stateDir, "pgbackrest/pgbackrest.conf");
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && pgbackrestPids(configPath, "backup").length === 0) await sleep(100);
  assert.ok(pgbackrestPids(configPath, "backup").length > 0, "saw the backup running");
  const pids = clusterPids(cluster.stateDir);
  assert.ok(pids.includes(child.pid!), "the tusk backup process is among them");
  for (const pid of pids) process.kill(pid, "SIGKILL");
  await sleep(1000);
  const up = await cluster.cli("up");
  assert.equal(up.code, 0, up.stderr);
  const status = JSON.parse((await cluster.cli("status", "--json")).stdout) as { operations: { running: unknown[]; recent: { kind: string; state: string; detail: string; note?: string }[] } };
  const interrupted = status.operations.recent.find((r) => r.kind === "backup" && r.state === "interrupted");
  assert.ok(interrupted, JSON.stringify(status.operations));
  assert.match(interrupted.detail, /full backup \(tusk backup\)/);
  assert.match(interrupted.note ?? "", /stopped before it finished/);
  assert.match((await cluster.cli("status")).stdout, /Operations:[^]*interrupted: full backup \(tusk backup\)/);
  // The direct session this file uses went with HAProxy: connect it again.
  owner = new pg.Client({ connectionString: cluster.url("direct", "owner") });
  owner.on("error", () => undefined);
  await owner.connect();
  const again = await cluster.cli("backup", "--type", "incr");
  assert.equal(again.code, 0, again.stderr);
});

test("a drill fails, naming the damage, when bytes of a backup file are altered; a new backup restores while verify still names the damaged set", async () => {
  const latest = (await catalog()).backups.at(-1)!.label;
  const base = join(cluster.stateDir, "backups", "backup", DEFAULT_CONFIG.cluster_name, latest, "pg_data", "base");
  const victim = findLargest(base);
  const bytes = readFileSync(victim);
  for (let i = Math.floor(bytes.length / 2); i < Math.floor(bytes.length / 2) + 64; i++) bytes[i] = bytes[i]! ^ 0xff;
  writeFileSync(victim, bytes);
  const r = await cluster.cli("drill", "restore", "--json");
  assert.equal(r.code, ExitCode.ProcessFailed);
  const result = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };
  assert.equal(result.ok, false);
  const verify = result.checks.find((c) => c.name === "repository verify")!;
  assert.equal(verify.ok, false);
  assert.ok(verify.detail.includes(victim.slice(victim.indexOf(latest))), verify.detail);
  assert.match((await cluster.cli("status")).stdout, /Restore drill: FAILED/);
  // The failed drill is an alert (the collector runs every second here).
  const deadline = Date.now() + 30_000;
  for (;;) {
    const open = (JSON.parse((await cluster.cli("alerts", "--json")).stdout) as { open: { rule: string; state: string; summary: string }[] }).open;
    const a = open.find((x) => x.rule === "drill-failed" && x.state === "firing");
    if (a) {
      assert.match(a.summary, /the last restore drill failed/);
      break;
    }
    if (Date.now() > deadline) assert.fail(`drill-failed did not fire: ${JSON.stringify(open)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  // A new full backup restores cleanly; verify keeps naming the damaged older set while the
  // repository holds it, which is what a user must be told.
  assert.equal((await cluster.cli("backup", "--type", "full")).code, 0);
  const after = JSON.parse((await cluster.cli("drill", "restore", "--json")).stdout) as typeof result;
  for (const name of ["restore and start", "amcheck", "row counts"]) assert.equal(after.checks.find((c) => c.name === name)!.ok, true, name);
  const stillDamaged = after.checks.find((c) => c.name === "repository verify")!;
  assert.equal(stillDamaged.ok, false);
  assert.ok(stillDamaged.detail.includes(latest), stillDamaged.detail);
});

function pgbackrestPids(configPath: string, command: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (cmd[0]?.endsWith("pgbackrest") && cmd.includes(`--config=${configPath}`) && cmd.includes(command)) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}

function findLargest(dir: string): string {
  let best = { path: "", size: -1 };
  for (const db of readdirSync(dir)) {
    for (const f of readdirSync(join(dir, db))) {
      const p = join(dir, db, f);
      const size = statSync(p).size;
      if (size > best.size) best = { path: p, size };
    }
  }
  return best.path;
}

test("retention: with a shortened policy old backups expire, and status shows the window that remains", async () => {
  const before = (await catalog()).backups.length;
  assert.ok(before >= 3);
  const configFile = join(cluster.stateDir, "tusk.yaml");
  const original = readFileSync(configFile, "utf8");
  writeFileSync(configFile, `${original}\nbackups:\n  keep_daily_days: 0\n  keep_weekly_weeks: 0\n  keep_monthly_months: 0\n`);
  try {
    const r = await cluster.cli("backup", "--type", "full");
    assert.equal(r.code, 0, r.stderr);
    const c = await catalog();
    assert.equal(c.backups.length, 1, JSON.stringify(c.backups.map((b) => b.label)));
    assert.equal(c.window.from, c.backups[0]!.endedAt);
    const deadline = Date.now() + 30_000;
    let status = "";
    while (Date.now() < deadline) {
      status = (await cluster.cli("status")).stdout;
      if (status.includes(`Backups: 1; last ${c.backups[0]!.label}`)) break;
      await sleep(1000);
    }
    assert.match(status, new RegExp(`Backups: 1; last ${c.backups[0]!.label} .*restorable from ${formatWallClock(c.window.from!).replace(/[+]/g, "\\+")}`));
    // The damaged set is gone with the others: the drill passes on every check again.
    const drill = JSON.parse((await cluster.cli("drill", "restore", "--json")).stdout) as { ok: boolean };
    assert.equal(drill.ok, true);
  } finally {
    writeFileSync(configFile, original);
  }
});

test("restore in place: same connection strings, the app role keeps its access, to a time and then to the latest state", async () => {
  const app = () => cluster.url("pooled");
  await cluster.query(app(), "INSERT INTO marks (label) VALUES ('I')");
  await sleep(1100);
  const t = new Date().toISOString();
  await sleep(1100);
  await cluster.query(app(), "INSERT INTO marks (label) VALUES ('J')");
  await archiveNow();
  const before = await labels(app());
  const r = await cluster.cli("restore", "--time", t, "--yes");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /connection strings are unchanged/);
  const restored = await labels(app());
  assert.deepEqual(restored, before.slice(0, -1), "everything up to I, and not J");
  // The application role writes through the same pooled string; the last write before a restore
  // to the latest state, not yet archived when the cluster stopped, survives it.
  await cluster.query(app(), "INSERT INTO marks (label) VALUES ('K')");
  const latest = await cluster.cli("restore", "--yes");
  assert.equal(latest.code, 0, latest.stderr);
  assert.deepEqual(await labels(app()), [...restored, "K"]);
  const dataParent = join(cluster.stateDir, "postgresql");
  assert.deepEqual(readdirSync(dataParent), ["data"], "the replaced data was removed after the restored cluster served");
  const status = (await cluster.cli("status")).stdout;
  assert.match(status, /WAL archiving: ok/);
});

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, readFileSync, writeFileSync, readdirSync } from "node:fs";
import { spawn } from "node:child_process";
import { join } from "node:path";
import pg from "pg";
import { ExitCode } from "../../src/core/errors.js";
import { DEFAULT_CONFIG } from "../../src/core/config/config-file.js";
import { formatWallClock } from "../../src/core/time/wall-clock.js";
import { archiveNow, catalog, clusterPids, findLargest, labels, pgbackrestPids, sleep, switchWal } from "../helpers/backup-tools.js";
import { TestCluster } from "../helpers/test-cluster.js";
import { CLI_MAIN } from "../helpers/cli.js";

/**
 * When backups go wrong, on a real cluster: WAL archiving that fails and recovers, a backup killed
 * mid-way or with the whole cluster, a damaged backup named by the drill, retention that expires old
 * backups, and the restore in place behind unchanged connection strings.
 */
let cluster: TestCluster;
let owner: pg.Client;

before(async () => {
  cluster = await TestCluster.start("backup-failures", { monitoring: { interval_seconds: 1 } });
  owner = new pg.Client({ connectionString: cluster.url("direct", "owner") });
  owner.on("error", () => undefined); // the in-place restore at the end stops the server under it
  await owner.connect();
  await owner.query("CREATE TABLE marks (id serial PRIMARY KEY, label text NOT NULL)");
});

after(async () => {
  await owner?.end();
  await cluster?.destroy();
});

test("WAL archiving that stops working shows in status; fixing it recovers, and no WAL is lost", async () => {
  const archiveDir = join(cluster.stateDir, "backups", "archive");
  chmodSync(archiveDir, 0o000);
  try {
    await switchWal(cluster); // a segment to archive, which now cannot be written
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
  await archiveNow(cluster);
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
  const latest = (await catalog(cluster)).backups.at(-1)!.label;
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

test("retention: with a shortened policy old backups expire, and status shows the window that remains", async () => {
  const before = (await catalog(cluster)).backups.length;
  assert.ok(before >= 3);
  const configFile = join(cluster.stateDir, "tusk.yaml");
  const original = readFileSync(configFile, "utf8");
  writeFileSync(configFile, `${original}\nbackups:\n  keep_daily_days: 0\n  keep_weekly_weeks: 0\n  keep_monthly_months: 0\n`);
  try {
    const r = await cluster.cli("backup", "--type", "full");
    assert.equal(r.code, 0, r.stderr);
    const c = await catalog(cluster);
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
  await archiveNow(cluster);
  const before = await labels(cluster, app());
  const r = await cluster.cli("restore", "--time", t, "--yes");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /connection strings are unchanged/);
  const restored = await labels(cluster, app());
  assert.deepEqual(restored, before.slice(0, -1), "everything up to I, and not J");
  // The application role writes through the same pooled string; the last write before a restore
  // to the latest state, not yet archived when the cluster stopped, survives it.
  await cluster.query(app(), "INSERT INTO marks (label) VALUES ('K')");
  const latest = await cluster.cli("restore", "--yes");
  assert.equal(latest.code, 0, latest.stderr);
  assert.deepEqual(await labels(cluster, app()), [...restored, "K"]);
  const dataParent = join(cluster.stateDir, "postgresql");
  assert.deepEqual(readdirSync(dataParent), ["data"], "the replaced data was removed after the restored cluster served");
  const status = (await cluster.cli("status")).stdout;
  assert.match(status, /WAL archiving: ok/);
});

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ExitCode } from "../../src/core/errors.js";
import { liveLeftovers } from "../../src/core/processes/leftovers.js";
import { isAlive } from "../../src/core/processes/pid-file.js";
import { StatePaths } from "../../src/core/state-dir.js";
import type { BackupCatalog } from "../../src/core/backup/catalog.js";
import { clusterPids, pgbackrestPids, sleep } from "../helpers/backup-tools.js";
import { newSupervisorReady, pidIn, postmasterPid, scheduleBackupSoon, scheduledBackupAfter, statusOf, waitFor, writer } from "../helpers/crash-tools.js";
import { TestCluster } from "../helpers/test-cluster.js";

/**
 * tusk survives its own crash (on a machine without systemd, as CI is: the keeper restarts the
 * supervisor): kill -9 of the supervisor under a writer, a supervisor killed during a backup, and
 * `tusk down` when no supervisor runs. reboot.test.ts covers the reboot and the systemd unit.
 */
let cluster: TestCluster;
let paths: StatePaths;
const supervisorPid = () => pidIn(paths.supervisorPid);
const keeperPid = () => pidIn(paths.keeperPid);
const services = () => Object.fromEntries(liveLeftovers(paths).map((l) => [l.name, l.pid]));

before(async () => {
  cluster = await TestCluster.start("crash");
  paths = new StatePaths(cluster.stateDir);
  await cluster.query(cluster.url("direct", "owner"), "CREATE TABLE writes (id bigserial PRIMARY KEY, at timestamptz NOT NULL)");
  // Enough data (about 550 MB) that a full backup outlasts a supervisor's restart.
  await cluster.query(cluster.url("direct", "owner"), "CREATE TABLE bulk AS SELECT i, repeat(md5(i::text), 25) AS h FROM generate_series(1, 700000) i");
});

after(async () => {
  await cluster?.destroy();
});

test("kill -9 of the supervisor under a writer: no write fails, a new supervisor adopts every service within seconds, and the next scheduled backup runs", async () => {
  const due = await scheduleBackupSoon(cluster, 45);
  const before = services();
  assert.deepEqual(Object.keys(before).sort(), ["etcd", "haproxy", "patroni", "pgbouncer"]);
  const postmaster = postmasterPid(cluster);
  const old = supervisorPid();
  const keeper = keeperPid();
  const w = writer(cluster.url("pooled"), "writes");
  await sleep(1000);
  const killedAt = Date.now();
  process.kill(old, "SIGKILL");
  const s = await newSupervisorReady(cluster, old, 30_000);
  const back = (Date.now() - killedAt) / 1000;
  await sleep(2000);
  const written = await w.stop();
  assert.equal(written.errors, 0, `write errors: ${written.firstError}`);
  assert.ok(written.ok > 50, `${written.ok} writes`);
  assert.deepEqual(services(), before, "the same etcd, Patroni, PgBouncer and HAProxy processes, adopted");
  assert.equal(postmasterPid(cluster), postmaster, "PostgreSQL was not restarted");
  assert.equal(keeperPid(), keeper, "the keeper restarted the supervisor and stayed");
  const log = readFileSync(paths.log("supervisor"), "utf8");
  for (const name of Object.keys(before)) assert.match(log, new RegExp(`adopted ${name} \\(pid ${before[name]}\\)`));
  assert.ok(back < 30, `back after ${back} s`);
  console.log(`supervisor back and ready ${back.toFixed(1)} s after kill -9; ${written.ok} writes, 0 errors`);
  const next = s.backups?.schedule.nextBackupAt ?? (await waitFor("the schedule in status", 30_000, async () => (await statusOf(cluster)).status?.backups?.schedule.nextBackupAt ?? undefined));
  assert.equal(new Date(next).getTime(), due.getTime(), "the new supervisor kept the schedule");
  await scheduledBackupAfter(cluster, due, 150_000);
});

test("a supervisor killed during a backup it runs: the backup is adopted and completes", async () => {
  const count = async () => (JSON.parse((await cluster.cli("backups", "--json")).stdout) as BackupCatalog).backups.length;
  const before = await count();
  const token = (await cluster.cli("token", "create", "crash-test")).stdout.trim();
  const request = fetch(`http://127.0.0.1:${cluster.ports.api}/v1/backups`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ type: "full" }),
  }).catch((e: Error) => e); // the supervisor answering it is killed
  const config = paths.pgbackrestConfig;
  await waitFor("pgBackRest running the backup", 30_000, async () => (pgbackrestPids(config, "backup").length > 0 ? true : undefined));
  const old = supervisorPid();
  process.kill(old, "SIGKILL");
  await request;
  await newSupervisorReady(cluster, old, 60_000);
  const record = await waitFor("the backup's record ended", 180_000, async () => {
    const s = await statusOf(cluster);
    return s.status?.operations.recent.find((r) => r.kind === "backup" && r.detail === "full backup (API)" && r.state !== "running");
  });
  // Adopted while pgBackRest still ran (the usual case: the backup outlasts the restart), or, when
  // it finished in the seconds no supervisor ran, found in the repository: done either way, never
  // reported interrupted.
  assert.equal(record.state, "done", `${JSON.stringify(record)}\n${readFileSync(join(paths.logDir, "pgbackrest/tusk-backup.log"), "utf8").slice(-2000)}`);
  assert.match(record.note ?? "", /finished (under a new supervisor|while no supervisor ran)/);
  console.log(`the backup the killed supervisor ran: ${record.note}`);
  assert.equal(await count(), before + 1, "the backup is in the repository");
});

test("tusk status tells a restarting control plane and one that is down from a stopped cluster; tusk down stops everything after a crash", async () => {
  const keeper = keeperPid();
  const old = supervisorPid();
  process.kill(keeper, "SIGSTOP"); // the keeper cannot restart the supervisor yet
  try {
    process.kill(old, "SIGKILL");
    await waitFor("the supervisor gone", 10_000, async () => (isAlive(old) ? undefined : true));
    const restarting = await statusOf(cluster);
    assert.equal(restarting.code, ExitCode.ControlPlaneDown, restarting.stderr);
    assert.match(restarting.stderr, /control plane is restarting: its keeper \(pid \d+\) is starting a new supervisor; the database keeps serving/);
  } finally {
    process.kill(keeper, "SIGKILL");
    process.kill(keeper, "SIGCONT");
  }
  await waitFor("the keeper gone", 10_000, async () => (isAlive(keeper) ? undefined : true));
  const down = await statusOf(cluster);
  assert.equal(down.code, ExitCode.ControlPlaneDown, down.stderr);
  assert.match(down.stderr, /control plane is down \(no supervisor runs\), but the database is serving: haproxy, pgbouncer, patroni, etcd running/);
  // The pooled string still serves while no supervisor runs.
  await cluster.query(cluster.url("pooled"), "INSERT INTO writes (at) VALUES (now())");
  const r = await cluster.cli("down");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(clusterPids(cluster.stateDir), [], "no process of the cluster is left");
  const stopped = await statusOf(cluster);
  assert.equal(stopped.code, ExitCode.NotRunning, stopped.stderr);
  // And it comes back with its data.
  const up = await cluster.cli("up");
  assert.equal(up.code, 0, up.stderr);
  const n = await cluster.query(cluster.url("pooled"), "SELECT count(*)::int AS n FROM writes");
  assert.ok(n.rows[0]!.n > 50);
});

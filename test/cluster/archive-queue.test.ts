import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { BackupCatalog } from "../../src/core/backup/catalog.js";
import { freePortSet } from "../../src/core/cluster/free-ports.js";
import type { SupervisorStatus } from "../../src/core/supervisor/status.js";
import { waitFor } from "../helpers/crash-tools.js";
import { S3Server } from "../helpers/s3-server.js";
import { TestCluster } from "../helpers/test-cluster.js";

/**
 * The repository lost under writes, with `backups.archive_queue_max`: S3 is the cluster's only
 * repository (a real S3 server, s3rver, on loopback) and is stopped while the application writes.
 * pgBackRest drops the WAL waiting past 64MB instead of letting pg_wal grow, tusk reports the gap in
 * the archive (status, the wal-dropped alert), and once the store is back the schedule takes the
 * full backup that closes it.
 */
let s3: S3Server;
let cluster: TestCluster;

interface AlertsAnswer {
  open: { rule: string; state: string; summary: string }[];
}

async function status(): Promise<SupervisorStatus> {
  const r = await cluster.cli("status", "--json");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as SupervisorStatus;
}

async function openAlerts(): Promise<AlertsAnswer["open"]> {
  const r = await cluster.cli("alerts", "--json");
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as AlertsAnswer).open;
}

const superuser = async (sql: string): Promise<string> => {
  const r = await cluster.cli("psql", "--superuser", "-At", "-c", sql);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
};

before(async () => {
  s3 = await S3Server.start((await freePortSet()).api, "tusk-backups");
  cluster = await TestCluster.start("archq", {
    monitoring: { interval_seconds: 2 },
    backups: { archive_queue_max: "64MB", s3: s3.settings({ only: true }) },
  });
  await superuser("CREATE TABLE filler (n int)");
});

after(async () => {
  await s3?.resume().catch(() => undefined); // running again, so the cluster's last WAL can be pushed as it stops
  await cluster?.destroy();
  await s3?.destroy();
});

test("the only repository lost under writes: WAL past archive_queue_max is dropped instead of filling pg_wal, and the gap is reported and alerted", async () => {
  await s3.stop();
  const start = Date.now();
  // Twelve segments (192MB of pg_wal), three times the limit.
  for (let i = 0; i < 12; i++) await superuser("INSERT INTO filler SELECT generate_series(1, 1000); SELECT pg_switch_wal()");
  const dropped = await waitFor("WAL dropped, reported by tusk status", 240_000, async () => (await status()).backups?.walDropped);
  console.log(`pgBackRest dropped WAL ${((Date.now() - start) / 1000).toFixed(0)} s after the object store stopped (segment ${dropped.segment})`);
  const waiting = Number(await superuser("SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'"));
  console.log(`${waiting} segments waiting in pg_wal after the drop`);
  assert.ok(waiting <= 4, `at most the limit's four segments wait in pg_wal, not twelve: ${waiting}`);
  assert.match((await cluster.cli("status")).stdout, /WAL DROPPED at .*point-in-time recovery has a gap until the next backup/);
  const alert = await waitFor("the wal-dropped alert firing", 60_000, async () => (await openAlerts()).find((a) => a.rule === "wal-dropped" && a.state === "firing"));
  assert.match(alert.summary, /WAL was dropped .* ago \(backups\.archive_queue_max\)/);
});

test("the object store back: the schedule takes the full backup that closes the gap, and the alert resolves", async () => {
  await s3.resume();
  const back = Date.now();
  const catalog = await waitFor("a full backup after the drop", 180_000, async () => {
    const r = await cluster.cli("backups", "--json");
    if (r.code !== 0) return undefined;
    const c = JSON.parse(r.stdout) as BackupCatalog;
    return c.backups.length === 2 ? c : undefined;
  });
  console.log(`the schedule's full backup ended ${((Date.now() - back) / 1000).toFixed(0)} s after the object store came back`);
  assert.deepEqual(
    catalog.backups.map((b) => [b.repo, b.type]),
    [
      [2, "full"],
      [2, "full"],
    ],
  );
  await waitFor("the gap closed in status", 60_000, async () => ((await status()).backups?.walDropped === undefined ? true : undefined));
  await waitFor("the wal-dropped alert resolved", 60_000, async () => ((await openAlerts()).some((a) => a.rule === "wal-dropped") ? undefined : true));
  assert.equal(await superuser("SELECT last_archived_time > coalesce(last_failed_time, 'epoch') FROM pg_stat_archiver"), "t", "archiving works again");
});

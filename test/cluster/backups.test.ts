import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { ExitCode } from "../../src/core/errors.js";
import type { BackupCatalog } from "../../src/core/backup/catalog.js";
import { TestCluster } from "../helpers/test-cluster.js";

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

/** Closes the current WAL segment and waits until the archiver has pushed it to the repository. */
async function archiveNow(): Promise<void> {
  const su = new pg.Client({ connectionString: superuserUrl() });
  await su.connect();
  try {
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
  cluster = await TestCluster.start("backups");
  owner = new pg.Client({ connectionString: cluster.url("direct", "owner") });
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
  assert.deepEqual(c.backups.map((b) => b.type), ["full", "diff", "incr"]);
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

test("refusals: a time outside the window, an unknown restore point, a taken clone name, no --into", async () => {
  const early = await restore("--into", "too_early", "--time", "2001-01-01 00:00:00+00");
  assert.equal(early.code, ExitCode.OutsideWindow, early.stderr);
  assert.match(early.stderr, /outside the restorable window \(.+ to .+\)/);
  const unknown = await restore("--into", "nope", "--name", "no_such_point");
  assert.equal(unknown.code, ExitCode.OutsideWindow, unknown.stderr);
  assert.match(unknown.stderr, /no restore point named "no_such_point".*\n.*before_d/);
  const taken = await restore("--into", "latest");
  assert.equal(taken.code, ExitCode.AlreadyExists, taken.stderr);
  const noInto = await cluster.cli("restore", "--time", "2026-01-01");
  assert.equal(noInto.code, ExitCode.Usage);
  assert.match(noInto.stderr, /--into NAME/);
  const dup = await cluster.cli("restore-point", "before_d");
  assert.equal(dup.code, ExitCode.Usage);
});

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import pg from "pg";
import { ExitCode } from "../../src/core/errors.js";
import { archiveNow, catalog, labels, sleep } from "../helpers/backup-tools.js";
import { TestCluster } from "../helpers/test-cluster.js";

/**
 * Backups with pgBackRest on a real cluster: continuous archiving from the first start, point-in-time
 * recovery to a time, a restore point and an LSN, restore to the latest state, clones that run beside
 * the source, and the refusals with their exit codes. What goes wrong with backups (archiving that
 * fails, killed and damaged backups), retention and the restore in place are in backup-failures.test.ts.
 */
let cluster: TestCluster;
let owner: pg.Client;

const mark = (label: string) => owner.query("INSERT INTO marks (label) VALUES ($1)", [label]);

before(async () => {
  cluster = await TestCluster.start("backups", { monitoring: { interval_seconds: 1 } });
  owner = new pg.Client({ connectionString: cluster.url("direct", "owner") });
  owner.on("error", () => undefined); // a session of a test file that outlives a step
  await owner.connect();
  await owner.query("CREATE TABLE marks (id serial PRIMARY KEY, label text NOT NULL)");
});

after(async () => {
  await owner?.end();
  await cluster?.destroy();
});

async function restore(...args: string[]): Promise<{ code: number; stderr: string; urls?: { direct: string; migrations: string; pooled: string } }> {
  const r = await cluster.cli("restore", ...args, "--json");
  return { code: r.code, stderr: r.stderr, urls: r.code === 0 ? JSON.parse(r.stdout) : undefined };
}

test("from the first start: a full backup exists, WAL is archived, the window is known", async () => {
  const c = await catalog(cluster);
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
  const c = await catalog(cluster);
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
  await archiveNow(cluster);
  const r = await restore("--into", "pitr_time", "--time", t);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await labels(cluster, r.urls!.direct), ["A"]);
  assert.deepEqual(await labels(cluster, cluster.url("pooled")), ["A", "B"]);
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
  await archiveNow(cluster);
  const byName = await restore("--into", "pitr_name", "--name", "before_d");
  assert.equal(byName.code, 0, byName.stderr);
  assert.deepEqual(await labels(cluster, byName.urls!.direct), ["A", "B", "C"]);
  const byLsn = await restore("--into", "pitr_lsn", "--lsn", lsn);
  assert.equal(byLsn.code, 0, byLsn.stderr);
  assert.deepEqual(await labels(cluster, byLsn.urls!.direct), ["A", "B", "C", "D", "E"]);
});

test("restore to the latest state keeps everything; the clone is independent of the source", async () => {
  await mark("G");
  await archiveNow(cluster);
  const r = await restore("--into", "latest");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await labels(cluster, r.urls!.pooled), ["A", "B", "C", "D", "E", "F", "G"]);
  await cluster.query(r.urls!.migrations, "INSERT INTO marks (label) VALUES ('only-in-clone')");
  await mark("only-in-source");
  assert.ok(!(await labels(cluster, cluster.url("pooled"))).includes("only-in-clone"));
  assert.ok(!(await labels(cluster, r.urls!.direct)).includes("only-in-source"));
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
  const got = await labels(cluster, r.urls!.direct);
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

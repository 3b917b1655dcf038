import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ExitCode } from "../../src/core/errors.js";
import type { BackupCatalog } from "../../src/core/backup/catalog.js";
import { freePortSet } from "../../src/core/cluster/free-ports.js";
import { TestCluster } from "../helpers/test-cluster.js";
import { S3Server } from "../helpers/s3-server.js";

/**
 * The optional off-machine repository on S3-compatible object storage, against a real S3 server
 * (s3rver) on loopback: the first backup and WAL go to both repositories, a clone restores from S3
 * alone, and an unreachable object store gets its own message and exit code.
 */
let s3: S3Server;
let cluster: TestCluster;

async function catalog(): Promise<BackupCatalog> {
  const r = await cluster.cli("backups", "--json");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as BackupCatalog;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name));
}

before(async () => {
  s3 = await S3Server.start((await freePortSet()).api, "tusk-backups");
  cluster = await TestCluster.start("s3", {
    backups: { s3: s3.settings() },
  });
});

after(async () => {
  await s3?.resume().catch(() => undefined); // running again, so the cluster's last WAL can be pushed as it stops
  await cluster?.destroy();
  await s3?.destroy();
});

test("the first full backup goes to the local repository and to S3", async () => {
  const c = await catalog();
  assert.deepEqual(
    c.backups.map((b) => [b.repo, b.type]),
    [
      [1, "full"],
      [2, "full"],
    ],
  );
  const stored = filesUnder(s3.dataDir).join("\n");
  assert.match(stored, /tusk\/tusk\/backup\/tusk\/backup\.info/);
  assert.match(stored, /tusk\/tusk\/archive\/tusk\/.*\.zst/, "WAL is archived to S3 too");
});

test("a clone restores from the S3 repository", async () => {
  await cluster.query(cluster.url("direct", "owner"), "CREATE TABLE offsite AS SELECT i FROM generate_series(1, 1000) i");
  const backup = await cluster.cli("backup", "--type", "incr");
  assert.equal(backup.code, 0, backup.stderr);
  assert.deepEqual(
    (await catalog()).backups.filter((b) => b.repo === 2).map((b) => b.type),
    ["full", "incr"],
  );
  const r = await cluster.cli("restore", "--into", "from_s3", "--from", "s3", "--json");
  assert.equal(r.code, 0, r.stderr);
  const urls = JSON.parse(r.stdout) as { direct: string };
  const rows = await cluster.query(urls.direct, "SELECT count(*)::int AS n FROM offsite");
  assert.equal(rows.rows[0]?.n, 1000);
  const log = readFileSync(
    join(`${cluster.stateDir}-clones/from_s3`, "log/pgbackrest", readdirSync(join(`${cluster.stateDir}-clones/from_s3`, "log/pgbackrest")).find((f) => f.endsWith("restore.log"))!),
    "utf8",
  );
  assert.match(log, /repo2: restore backup set/);
});

test("an unreachable object store: backups and restores from it fail at once with their own exit code", async () => {
  await s3.stop();
  try {
    const started = Date.now();
    const r = await cluster.cli("backup", "--type", "incr");
    assert.equal(r.code, ExitCode.Unreachable, r.stderr);
    assert.match(r.stderr, /The S3 repository is unreachable \(https:\/\/127\.0\.0\.1:\d+, bucket tusk-backups\)/);
    assert.match(r.stderr, /backups\.s3\.endpoint/);
    const restore = await cluster.cli("restore", "--into", "unreachable", "--from", "s3");
    assert.equal(restore.code, ExitCode.Unreachable, restore.stderr);
    assert.ok(Date.now() - started < 30_000, "answered without waiting on pgBackRest's retries");
    const noRepo = await cluster.cli("restore", "--into", "x", "--from", "tape");
    assert.equal(noRepo.code, ExitCode.Usage);
    assert.match(noRepo.stderr, /--from must be "local" or "s3"/);
  } finally {
    await s3.resume();
  }
});

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BackupCatalog } from "../../src/core/backup/catalog.js";
import { StatePaths } from "../../src/core/state-dir.js";
import type { HostView } from "../../src/core/supervisor/hosts-view.js";
import { runCli } from "../helpers/cli.js";
import { waitFor } from "../helpers/crash-tools.js";
import { TestNetwork, type TestHost } from "../helpers/netns.js";
import { joinToken, nodeInRecovery, nodeSql, onHost, tearDownHosts } from "../helpers/test-hosts.js";
import { S3Server } from "../helpers/s3-server.js";
import { TestCluster } from "../helpers/test-cluster.js";

/**
 * S3 as the cluster's only backup repository across hosts (`backups.s3.only`): no host holds the
 * repository, so the loss of the first host leaves WAL archiving going. Three test hosts on one
 * bridge, each with its state directory on a tmpfs in its own mount namespace: h1 the first host,
 * h2 a data host (db2), h3 a witness (w3) whose network namespace also runs the object store (a real
 * S3 server, s3rver, over TLS), standing for a store outside the hosts that every host reaches.
 */
let net: TestNetwork;
const dirs = [1, 2, 3].map((n) => join(tmpdir(), `tusk-s3hosts-${process.pid}-h${n}`));
const [dir1, dir2, dir3] = dirs as [string, string, string];
let h1: TestHost;
let h2: TestHost;
let h3: TestHost;
let s3: S3Server;
let cluster: TestCluster;
let database = "";

/** SQL as the superuser on a host's own node; psql's unaligned output. */
const sql = (host: TestHost, stateDir: string, node: string, text: string): string => nodeSql(host, stateDir, node, { port: cluster.ports.postgres, database }, text);

const inRecovery = (host: TestHost, stateDir: string, node: string): boolean | undefined => nodeInRecovery(host, stateDir, node, { port: cluster.ports.postgres, database });

/** The names of the files the object store holds (its data directory is the test's; s3rver adds a suffix to each object's name). */
const stored = (): string[] =>
  readdirSync(s3.dataDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);

async function catalog(): Promise<BackupCatalog> {
  const r = await cluster.cli("backups", "--json");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as BackupCatalog;
}

const token = (role: "data" | "witness", address?: string): Promise<string> => joinToken(cluster, role, address);

before(async () => {
  net = TestNetwork.create("s3hst", "198.18.4");
  h1 = net.host(1, [dir1]);
  h2 = net.host(2, [dir2]);
  h3 = net.host(3, [dir3]);
  s3 = await S3Server.start(9000, "tusk-backups", { address: h3.address, via: h3.via });
  cluster = await TestCluster.start("s3hosts", { backups: { s3: s3.settings({ only: true }) } }, undefined, h1.via, dir1);
  const made = await cluster.cli("psql", "--superuser", "-At", "-c", "CREATE TABLE ha (id int PRIMARY KEY); INSERT INTO ha VALUES (1); SELECT current_database()");
  assert.equal(made.code, 0, made.stderr);
  database = made.stdout.trim().split("\n").pop()!;
});

after(async () => {
  await tearDownHosts([h3, dir3], [h2, dir2], cluster, async () => {
    await s3?.destroy();
    net?.destroy();
  });
  for (const d of [...dirs, `${dir1}-clones`]) rmSync(d, { recursive: true, force: true });
});

test("S3 the only repository: the first full backup and the WAL are in the object store, and the first host keeps no repository", async () => {
  const c = await catalog();
  assert.deepEqual(
    c.backups.map((b) => [b.repo, b.type]),
    [[2, "full"]],
  );
  assert.ok(
    stored().some((name) => /^0000000100000000000000..-[0-9a-f]{40}\.zst/.test(name)),
    "WAL segments are in the object store",
  );
  const conf = onHost(h1, "cat", new StatePaths(dir1).pgbackrestConfig);
  assert.doesNotMatch(conf, /^repo1-/m);
  assert.equal(onHost(h1, "find", new StatePaths(dir1).backupRepo, "-type", "f").trim(), "", "nothing in the first host's repository directory");
});

test("a data host and a witness join: the data host receives the S3 settings and archives there itself; three etcd voters", async () => {
  const r = await runCli(["--state-dir", dir2, "join", await token("data", h1.address), "--name", "db2", "--address", h2.address], { via: h2.via, timeoutMs: 600_000 });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const w = await runCli(["--state-dir", dir3, "join", await token("witness"), "--name", "w3", "--address", h3.address], { via: h3.via, timeoutMs: 600_000 });
  assert.equal(w.code, 0, w.stderr + w.stdout);
  await waitFor("three voters, db2 the synchronous standby", 90_000, async () => {
    const view = JSON.parse((await cluster.cli("hosts", "--json")).stdout) as HostView[];
    const voters = view.length === 3 && view.every((h) => h.etcd === "voter" && h.reachable);
    const sync = view.some((h) => h.nodes.some((n) => n.name === "db2" && n.role === "sync standby"));
    return voters && sync ? true : undefined;
  });
  const p2 = new StatePaths(dir2);
  const conf = onHost(h2, "cat", p2.pgbackrestConfig);
  assert.match(conf, /^repo2-type=s3$/m);
  assert.match(conf, new RegExp(`^repo2-s3-endpoint=${h3.address.replace(/\./g, "\\.")}$`, "m"));
  assert.doesNotMatch(conf, /^repo1-/m, "no repository on the first host to reach");
  assert.match(onHost(h2, "stat", "-c", "%a %U", join(p2.secretsDir, "s3-secret-access-key")), /^600 root$/m);
  assert.match(onHost(h2, "cat", p2.configFile), /only: true/);
});

test("the first host lost: db2 is promoted and its WAL reaches the object store while the first host is away", async () => {
  execFileSync("ip", ["link", "set", `${net.tag}v1`, "down"]);
  try {
    await waitFor("db2 promoted", 90_000, async () => (inRecovery(h2, dir2, "db2") === false ? true : undefined));
    sql(h2, dir2, "db2", "INSERT INTO ha SELECT generate_series(2, 1000)");
    const segment = sql(h2, dir2, "db2", "SELECT pg_walfile_name(pg_current_wal_lsn())");
    sql(h2, dir2, "db2", "SELECT pg_switch_wal()");
    await waitFor(`db2 archiving ${segment}`, 60_000, async () => {
      const [last, failed] = sql(h2, dir2, "db2", "SELECT coalesce(last_archived_wal, ''), failed_count FROM pg_stat_archiver").split("|");
      return last! >= segment ? { last, failed } : undefined;
    }).catch((e: Error) => {
      throw new Error(`${e.message}\n${onHost(h2, "bash", "-c", `tail -n 20 ${join(dir2, "log", "pgbackrest")}/*`)}`);
    });
    assert.ok(
      stored().some((name) => name.startsWith(`${segment}-`)),
      `${segment}, written on db2 while the first host is lost, is in the object store`,
    );
  } finally {
    execFileSync("ip", ["link", "set", `${net.tag}v1`, "up"]);
  }
});

test("with the primary on db2: the first host backs it up into the object store, and a clone from there has what db2 wrote while the first host was lost", async () => {
  await waitFor("pg1 following db2 with every write", 180_000, async () => {
    if (inRecovery(h1, dir1, "pg1") !== true) return undefined;
    try {
      return sql(h1, dir1, "pg1", "SELECT count(*) FROM ha") === "1000" ? true : undefined;
    } catch {
      return undefined; // restarted between the two queries (Patroni rewinding or restarting it as a replica)
    }
  });
  const backup = await cluster.cli("backup", "--type", "incr");
  assert.equal(backup.code, 0, backup.stderr + backup.stdout);
  assert.deepEqual(
    (await catalog()).backups.map((b) => [b.repo, b.type]),
    [
      [2, "full"],
      [2, "incr"],
    ],
  );
  const local = await cluster.cli("restore", "--into", "nolocal", "--from", "local");
  assert.equal(local.code, 2, local.stderr);
  assert.match(local.stderr, /only repository is S3/);
  const clone = await cluster.cli("restore", "--into", "froms3", "--json");
  assert.equal(clone.code, 0, clone.stderr + clone.stdout);
  try {
    const urls = JSON.parse(clone.stdout) as { direct: string };
    assert.equal(onHost(h1, "psql", urls.direct, "-At", "-c", "SELECT count(*) FROM ha").trim(), "1000");
  } finally {
    await cluster.cli("--state-dir", `${dir1}-clones/froms3`, "destroy", "--yes");
  }
});

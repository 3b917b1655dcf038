import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import type { BackupCatalog } from "../../src/core/backup/catalog.js";
import type { TestCluster } from "./test-cluster.js";

/** What the backup test files share: the catalog, WAL switching and archiving, and the processes of a backup. */

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function catalog(cluster: TestCluster): Promise<BackupCatalog> {
  const r = await cluster.cli("backups", "--json");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as BackupCatalog;
}

/** The superuser over loopback, as tusk itself connects (pg_switch_wal needs it). */
export function superuserUrl(cluster: TestCluster): string {
  const password = readFileSync(join(cluster.stateDir, "secrets/superuser.secret"), "utf8").trim();
  return `postgresql://postgres:${password}@127.0.0.1:${cluster.ports.postgres}/postgres`;
}

/** Commits a transaction (pg_switch_wal does nothing on an empty segment), then switches WAL. */
export async function switchWal(cluster: TestCluster): Promise<void> {
  await cluster.query(superuserUrl(cluster), "SELECT txid_current()");
  await cluster.query(superuserUrl(cluster), "SELECT pg_switch_wal()");
}

/** Closes the current WAL segment and waits until the archiver has pushed it to the repository. */
export async function archiveNow(cluster: TestCluster): Promise<void> {
  const su = new pg.Client({ connectionString: superuserUrl(cluster) });
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

/** The labels of the `marks` table the backup files write, in order. */
export async function labels(cluster: TestCluster, url: string): Promise<string[]> {
  const r = await cluster.query(url, "SELECT label FROM marks ORDER BY id");
  return r.rows.map((x) => x.label);
}

/** pgBackRest processes of one configuration running `command`. */
export function pgbackrestPids(configPath: string, command: string): number[] {
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

/** The largest file one level below each database directory of `dir` (a backup's pg_data/base). */
export function findLargest(dir: string): string {
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

/**
 * Processes of this cluster: every one whose command line names its state directory or a path in it
 * (the CLI, the supervisor, etcd, Patroni, PostgreSQL, PgBouncer, HAProxy, pgBackRest); not its
 * clones' (STATE_DIR-clones/…).
 */
export function clusterPids(stateDir: string): number[] {
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

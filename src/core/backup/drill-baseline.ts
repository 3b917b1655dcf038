import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type pg from "pg";
import type { TuskConfig } from "../config/config-file.js";
import { readRemotePrimary } from "../cluster/remote-primary.js";
import { superuserClient } from "../provision/provision.js";
import { writeAtomic, type StatePaths } from "../state-dir.js";

/**
 * What a drill compares against: row counts of every table in the application database as one
 * snapshot saw them right after a backup, and where that snapshot is in the WAL, so the drill
 * restores to it. On the primary (the usual case) that is a restore point created just after the
 * snapshot; tables whose write counters moved while counting are marked, so a busy table is
 * reported as "changed while recorded" instead of as a false mismatch. With the primary on another
 * host (the superuser is never admitted over the network), the counts are taken on this host's
 * replica with its replay paused, and the position it had replayed is the target: nothing changes
 * while it counts.
 */
export interface DrillBaseline {
  backupLabel: string;
  /** The restore point created after the snapshot (counted on the primary). */
  restorePoint?: string;
  /** The replica's replay position while it counted (counted on a replica): restored to, exclusive. */
  replayedLsn?: string;
  recordedAt: string;
  database: string;
  counts: Record<string, number>;
  changedWhileRecorded: string[];
  /** Tables too large to count after every backup (a full scan each day); not compared. */
  tooLargeToCount?: string[];
}

/** Counting a table means scanning it; above this size a daily count costs more than it proves. */
export const MAX_COUNTED_TABLE_BYTES = 2 * 1024 ** 3;

const sql = (name: string) => readFileSync(new URL(`./sql/${name}`, import.meta.url), "utf8");
const dir = (paths: StatePaths) => join(paths.root, "drills", "baselines");

/**
 * pgBackRest's restore target for a drill: the baseline's restore point, or its replica's replay
 * position (exclusive: pg_last_wal_replay_lsn is where the next record starts, and an inclusive LSN
 * target would replay that record too); without a baseline, the end of the backup.
 */
export function drillTarget(baseline: DrillBaseline | undefined): string[] {
  if (baseline?.restorePoint) return ["--type=name", `--target=${baseline.restorePoint}`, "--target-action=promote"];
  if (baseline?.replayedLsn) return ["--type=lsn", `--target=${baseline.replayedLsn}`, "--target-exclusive", "--target-action=promote"];
  return ["--type=immediate", "--target-action=promote"];
}

async function writeCounters(c: pg.Client): Promise<Map<string, string>> {
  await c.query("SELECT pg_stat_clear_snapshot()");
  const r = await c.query<{ table_name: string; writes: string }>(sql("write-counters.sql"));
  return new Map(r.rows.map((x) => [x.table_name, x.writes]));
}

/** Row counts of the tables small enough to count, in one REPEATABLE READ snapshot. */
async function countRows(reader: pg.Client): Promise<{ counts: Record<string, number>; tables: string[]; tooLargeToCount: string[] }> {
  await reader.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  const listed = (await reader.query<{ table_name: string; total_bytes: string }>(sql("table-counts.sql"))).rows;
  const tables = listed.filter((r) => Number(r.total_bytes) <= MAX_COUNTED_TABLE_BYTES).map((r) => r.table_name);
  const tooLargeToCount = listed.filter((r) => Number(r.total_bytes) > MAX_COUNTED_TABLE_BYTES).map((r) => r.table_name);
  const counts: Record<string, number> = {};
  for (const t of tables) counts[t] = Number((await reader.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`)).rows[0]!.n);
  await reader.query("COMMIT");
  return { counts, tables, tooLargeToCount };
}

export async function recordBaseline(target: { config: TuskConfig; paths: StatePaths }, backupLabel: string): Promise<DrillBaseline> {
  const { config, paths } = target;
  const counted = readRemotePrimary(paths) ? await countOnReplica(target) : await countOnPrimary(target, `tusk-drill-${backupLabel}`);
  const baseline: DrillBaseline = { backupLabel, recordedAt: new Date().toISOString(), database: config.database, ...counted };
  mkdirSync(dir(paths), { recursive: true, mode: 0o700 });
  writeAtomic(join(dir(paths), `${backupLabel}.json`), `${JSON.stringify(baseline, null, 2)}\n`, 0o600);
  return baseline;
}

type Counted = Pick<DrillBaseline, "restorePoint" | "replayedLsn" | "counts" | "changedWhileRecorded" | "tooLargeToCount">;

async function countOnPrimary({ config, paths }: { config: TuskConfig; paths: StatePaths }, restorePoint: string): Promise<Counted> {
  const counter = await superuserClient(config, paths, config.database);
  const reader = await superuserClient(config, paths, config.database);
  try {
    const before = await writeCounters(counter);
    const { counts, tables, tooLargeToCount } = await countRows(reader);
    await counter.query("SELECT pg_create_restore_point($1)", [restorePoint]);
    // Backends report their table statistics at most once a second (PostgreSQL 15).
    await new Promise((r) => setTimeout(r, 1100));
    const after = await writeCounters(counter);
    return { restorePoint, counts, changedWhileRecorded: tables.filter((t) => before.get(t) !== after.get(t)), tooLargeToCount };
  } finally {
    await reader.end();
    await counter.end();
  }
}

/**
 * On this host's node, a replica of the primary on another host: its replay paused (WAL still
 * streams and is flushed, so synchronous commits do not wait; reads see a few seconds' lag), the
 * position it replayed read, the rows counted, replay resumed whatever happened.
 */
async function countOnReplica({ config, paths }: { config: TuskConfig; paths: StatePaths }): Promise<Counted> {
  const c = await superuserClient(config, paths, config.database);
  try {
    await c.query("SELECT pg_wal_replay_pause()");
    try {
      // An idle replica, waiting for WAL, stays "pause requested" (seen here); the startup process
      // checks the request before it applies the next record, though it may read it one record
      // late. So the position is read before and after counting, and the count is taken again if
      // a record slipped in between.
      const replayed = async () => (await c.query<{ lsn: string }>("SELECT pg_last_wal_replay_lsn()::text AS lsn")).rows[0]!.lsn;
      for (let attempt = 1; ; attempt++) {
        const replayedLsn = await replayed();
        const { counts, tooLargeToCount } = await countRows(c);
        if ((await replayed()) === replayedLsn) return { replayedLsn, counts, changedWhileRecorded: [], tooLargeToCount };
        if (attempt === 3) throw new Error("the replica went on replaying while its rows were counted");
      }
    } finally {
      await c.query("SELECT pg_wal_replay_resume()");
    }
  } finally {
    await c.end();
  }
}

export function readBaseline(paths: StatePaths, backupLabel: string): DrillBaseline | undefined {
  const file = join(dir(paths), `${backupLabel}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as DrillBaseline) : undefined;
}

import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type pg from "pg";
import type { TuskConfig } from "../config/config-file.js";
import { superuserClient } from "../provision/provision.js";
import { writeAtomic, type StatePaths } from "../state-dir.js";

/**
 * What a drill compares against: row counts of every table in the application database as one
 * snapshot saw them right after a backup, and the restore point created just after that snapshot.
 * Tables whose write counters moved while counting are marked, so a busy table is reported as
 * "changed while recorded" instead of as a false mismatch.
 */
export interface DrillBaseline {
  backupLabel: string;
  restorePoint: string;
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

async function writeCounters(c: pg.Client): Promise<Map<string, string>> {
  await c.query("SELECT pg_stat_clear_snapshot()");
  const r = await c.query<{ table_name: string; writes: string }>(sql("write-counters.sql"));
  return new Map(r.rows.map((x) => [x.table_name, x.writes]));
}

export async function recordBaseline({ config, paths }: { config: TuskConfig; paths: StatePaths }, backupLabel: string): Promise<DrillBaseline> {
  const counter = await superuserClient(config, paths, config.database);
  const reader = await superuserClient(config, paths, config.database);
  try {
    const before = await writeCounters(counter);
    await reader.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const listed = (await reader.query<{ table_name: string; total_bytes: string }>(sql("table-counts.sql"))).rows;
    const tables = listed.filter((r) => Number(r.total_bytes) <= MAX_COUNTED_TABLE_BYTES).map((r) => r.table_name);
    const tooLargeToCount = listed.filter((r) => Number(r.total_bytes) > MAX_COUNTED_TABLE_BYTES).map((r) => r.table_name);
    const counts: Record<string, number> = {};
    for (const t of tables) counts[t] = Number((await reader.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`)).rows[0]!.n);
    await reader.query("COMMIT");
    const restorePoint = `tusk-drill-${backupLabel}`;
    await counter.query("SELECT pg_create_restore_point($1)", [restorePoint]);
    // Backends report their table statistics at most once a second (PostgreSQL 15).
    await new Promise((r) => setTimeout(r, 1100));
    const after = await writeCounters(counter);
    const changedWhileRecorded = tables.filter((t) => before.get(t) !== after.get(t));
    const baseline: DrillBaseline = { backupLabel, restorePoint, recordedAt: new Date().toISOString(), database: config.database, counts, changedWhileRecorded, tooLargeToCount };
    mkdirSync(dir(paths), { recursive: true, mode: 0o700 });
    writeAtomic(join(dir(paths), `${backupLabel}.json`), `${JSON.stringify(baseline, null, 2)}\n`, 0o600);
    return baseline;
  } finally {
    await reader.end();
    await counter.end();
  }
}

export function readBaseline(paths: StatePaths, backupLabel: string): DrillBaseline | undefined {
  const file = join(dir(paths), `${backupLabel}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as DrillBaseline) : undefined;
}

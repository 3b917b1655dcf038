import { readFileSync } from "node:fs";
import type pg from "pg";

/**
 * The advisory lock a schema migration holds while it runs (`pg_advisory_lock(MIGRATION_LOCK_KEY)`,
 * taken by `tusk migrate apply` and by anyone who follows its convention): "tusk" and "migr" as the
 * key's two 32-bit halves. Operations that would cut its transaction (a switchover, a rolling
 * restart) or replace its data (a restore in place) read it from pg_locks before they start.
 */
export const MIGRATION_LOCK_KEY = "8391740385909106546";

export interface MigrationLockHolder {
  pid: number;
  database: string;
  role: string | null;
  /** When its transaction (or its session, outside one) began. */
  since: string;
}

const HOLDERS_SQL = readFileSync(new URL("./sql/migration-lock-holders.sql", import.meta.url), "utf8");

/** The sessions holding the migration lock now, in any database of the cluster. */
export async function migrationLockHolders(client: pg.Client): Promise<MigrationLockHolder[]> {
  const r = await client.query<{ pid: number; database: string; role: string | null; since: Date }>(HOLDERS_SQL, [MIGRATION_LOCK_KEY]);
  return r.rows.map((x) => ({ pid: x.pid, database: x.database, role: x.role, since: new Date(x.since).toISOString() }));
}

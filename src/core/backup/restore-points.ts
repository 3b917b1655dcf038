import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type pg from "pg";
import { TuskError } from "../errors.js";
import { writeAtomic, type StatePaths } from "../state-dir.js";

export interface RestorePoint {
  name: string;
  lsn: string;
  createdAt: string;
}

const file = (paths: StatePaths) => join(paths.root, "restore-points.json");

/** Restore points tusk created, so a restore to an unknown name is refused before it starts. */
export function listRestorePoints(paths: StatePaths): RestorePoint[] {
  return existsSync(file(paths)) ? (JSON.parse(readFileSync(file(paths), "utf8")) as RestorePoint[]) : [];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/;

/** pg_create_restore_point, recorded with its LSN and time. Names are unique per cluster. */
export async function createRestorePoint(paths: StatePaths, superuser: pg.Client, name: string): Promise<RestorePoint> {
  if (!NAME.test(name)) {
    throw new TuskError("Usage", `"${name}" is not a usable restore point name.`, {
      hint: "Use up to 63 letters, digits, '.', '_', ':' or '-', starting with a letter or digit.",
    });
  }
  const existing = listRestorePoints(paths);
  if (existing.some((p) => p.name === name)) {
    throw new TuskError("Usage", `A restore point named "${name}" already exists.`, {
      hint: "Choose another name; `tusk backups` lists the existing ones.",
    });
  }
  const sql = readFileSync(new URL("./sql/restore-point.sql", import.meta.url), "utf8");
  const r = (await superuser.query(sql, [name])).rows[0] as { lsn: string; created_at: Date };
  const point = { name, lsn: r.lsn, createdAt: r.created_at.toISOString() };
  writeAtomic(file(paths), `${JSON.stringify([...existing, point], null, 2)}\n`, 0o600);
  return point;
}

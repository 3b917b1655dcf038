import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { StatePaths } from "../state-dir.js";

/** One change of primary, as the supervisor saw it. */
export interface RoleChange {
  at: string;
  kind: "switchover" | "failover";
  from: string;
  to: string;
  timeline: number | null;
  /**
   * Switchover: how long the application's pool was paused. Failover: from the last moment the
   * supervisor saw the old primary healthy to the moment it saw the new one (±1 s, its poll).
   */
  outageMs: number | null;
}

function historyFile(paths: StatePaths): string {
  return join(paths.root, "history.jsonl");
}

export function recordRoleChange(paths: StatePaths, change: RoleChange): void {
  appendFileSync(historyFile(paths), `${JSON.stringify(change)}\n`, { mode: 0o644 });
}

export function readHistory(paths: StatePaths): RoleChange[] {
  const file = historyFile(paths);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as RoleChange);
}

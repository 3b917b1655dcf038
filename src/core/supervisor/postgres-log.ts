import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { tail } from "../exec.js";

/** The last lines of the newest PostgreSQL log file (and of Patroni's log), for failure reports. */
export function lastLogLines(postgresLogDir: string, patroniLog: string, lines = 12): string {
  const parts: string[] = [];
  if (existsSync(postgresLogDir)) {
    const newest = readdirSync(postgresLogDir)
      .map((f) => join(postgresLogDir, f))
      .filter((f) => statSync(f).isFile())
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
    if (newest) parts.push(`${newest}:\n${tail(readFileSync(newest, "utf8"), lines)}`);
  }
  if (existsSync(patroniLog)) parts.push(`${patroniLog}:\n${tail(readFileSync(patroniLog, "utf8"), 6)}`);
  return parts.join("\n");
}

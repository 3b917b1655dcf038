import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { tail } from "../exec.js";

/** Lines that explain a failure: PostgreSQL's FATAL/PANIC/ERROR and Patroni's ERROR/CRITICAL. */
const SIGNIFICANT = /\b(FATAL|PANIC|ERROR|CRITICAL):/;

/**
 * The lines that say why PostgreSQL did not start, for failure reports: the significant lines of
 * Patroni's log (PostgreSQL writes there until its logging collector runs) and the last lines of
 * the newest PostgreSQL log file.
 */
export function lastLogLines(postgresLogDir: string, patroniLog: string, lines = 10): string {
  const parts: string[] = [];
  if (existsSync(patroniLog)) {
    const significant = readFileSync(patroniLog, "utf8")
      .split("\n")
      .filter((l) => SIGNIFICANT.test(l));
    if (significant.length) parts.push(`${patroniLog}:\n${significant.slice(-lines).join("\n")}`);
  }
  if (postgresLogDir && existsSync(postgresLogDir)) {
    const newest = readdirSync(postgresLogDir)
      .map((f) => join(postgresLogDir, f))
      .filter((f) => statSync(f).isFile())
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
    if (newest) parts.push(`${newest}:\n${tail(readFileSync(newest, "utf8"), lines)}`);
  }
  if (parts.length === 0 && existsSync(patroniLog)) parts.push(`${patroniLog}:\n${tail(readFileSync(patroniLog, "utf8"), lines)}`);
  return parts.join("\n");
}

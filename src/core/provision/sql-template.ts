import { readFileSync } from "node:fs";
import pg from "pg";

/**
 * Reads an SQL file next to this module and fills psql-style variables: :'name' becomes a quoted
 * literal, :"name" a quoted identifier (escaped with node-postgres's escapeLiteral/escapeIdentifier).
 * Used for DDL, which takes no bind parameters.
 */
export function sqlFile(name: string, vars: Record<string, string> = {}): string {
  const text = readFileSync(new URL(`./sql/${name}`, import.meta.url), "utf8");
  return text.replace(/:(['"])([a-z_]+)\1/g, (_m, quote: string, key: string) => {
    const value = vars[key];
    if (value === undefined) throw new Error(`SQL file ${name} needs a value for ${key}`);
    return quote === "'" ? pg.Client.prototype.escapeLiteral(value) : pg.Client.prototype.escapeIdentifier(value);
  });
}

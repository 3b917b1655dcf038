import type { Command } from "commander";
import { resolve } from "node:path";
import { dumpDatabase } from "../../core/backup/logical.js";
import { clusterFor } from "../context.js";
import { terminalProgress } from "../terminal-progress.js";

export function registerDump(program: Command): void {
  program
    .command("dump")
    .description("logical backup for portability: pg_dump in custom format of the application database, or of chosen tables")
    .option("--table <name...>", "only these tables (repeatable; pg_dump patterns)")
    .option("--file <path>", "where to write (default: ./DATABASE-TIMESTAMP.dump)")
    .action(async (opts: { table?: string[]; file?: string }, command: Command) => {
      const cluster = clusterFor(command);
      await cluster.status();
      const file = resolve(opts.file ?? `${cluster.config.database}-${new Date().toISOString().replace(/[:.]/g, "-")}.dump`);
      await dumpDatabase(cluster, file, opts.table ?? [], terminalProgress());
      console.log(`Wrote ${file}. Restore it into a tusk cluster with \`tusk import ${file}\`.`);
    });
}

import { InvalidArgumentError, type Command } from "commander";
import { existsSync } from "node:fs";
import { importFrom, restoreDump } from "../../core/backup/logical.js";
import { TuskError } from "../../core/errors.js";
import { clusterFor } from "../context.js";
import { terminalProgress } from "../terminal-progress.js";

export function registerImport(program: Command): void {
  program
    .command("import")
    .description("import into the application database from a pg_dump custom-format file, or from a running PostgreSQL (--from URL): schema and data, created as the owner role")
    .argument("[file]", "a file made by `pg_dump -Fc` or `tusk dump`")
    .option("--from <url>", "connection string of a PostgreSQL to import from, e.g. postgresql://user:pass@host:5432/db")
    .option(
      "--jobs <n>",
      "parallel restore jobs",
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError("must be a whole number from 1 to 64");
        return n;
      },
      2,
    )
    .action(async (file: string | undefined, opts: { from?: string; jobs: number }, command: Command) => {
      if ((file === undefined) === (opts.from === undefined)) {
        throw new TuskError("Usage", "Give either a dump file or --from URL.", { hint: "For example `tusk import app.dump` or `tusk import --from postgresql://user:pass@host/db`." });
      }
      if (file !== undefined && !existsSync(file)) throw new TuskError("Usage", `${file} does not exist.`, { hint: "Check the path." });
      const cluster = clusterFor(command);
      await cluster.status();
      if (opts.from) await importFrom(cluster, opts.from, opts.jobs, terminalProgress());
      else await restoreDump(cluster, file!, opts.jobs, terminalProgress());
      console.log("Import finished.");
    });
}

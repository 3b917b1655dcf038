import type { Command } from "commander";
import { spawn } from "node:child_process";
import { ROLES } from "../../core/endpoints.js";
import { PSQL_BIN } from "../../core/install/components.js";
import { readSecret } from "../../core/secrets.js";
import { clusterFor } from "../context.js";

export function registerPsql(program: Command): void {
  program
    .command("psql")
    .description("open psql as the application role through the pooler (session mode, so \\set and temp tables work); extra arguments go to psql")
    .option("--transaction", "use the transaction-mode pooler entry instead")
    .allowUnknownOption()
    .argument("[psql-args...]", "arguments passed to psql, e.g. -c 'select 1'")
    .action(async (args: string[], opts: { transaction?: boolean }, command: Command) => {
      const cluster = clusterFor(command);
      await cluster.status(); // a clear error when nothing is running
      const { config, paths } = cluster;
      const database = opts.transaction ? config.database : `${config.database}_session`;
      const child = spawn(PSQL_BIN, [...args], {
        stdio: "inherit",
        env: {
          ...process.env,
          PGHOST: "127.0.0.1",
          PGPORT: String(config.ports.pooler),
          PGUSER: ROLES.app,
          PGDATABASE: database,
          PGPASSWORD: readSecret(paths, "app"),
          PGAPPNAME: "tusk psql",
        },
      });
      const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
      process.exitCode = code;
    });
}

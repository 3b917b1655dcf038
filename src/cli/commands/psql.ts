import type { Command } from "commander";
import { spawn } from "node:child_process";
import { readPrimary } from "../../core/cluster/nodes.js";
import { ROLES } from "../../core/endpoints.js";
import { TuskError } from "../../core/errors.js";
import { PSQL_BIN } from "../../core/install/components.js";
import { postgresUser } from "../../core/os-user.js";
import { readSecret } from "../../core/secrets.js";
import { clusterFor } from "../context.js";

export function registerPsql(program: Command): void {
  program
    .command("psql")
    .description("open psql as the application role through the pooler (session mode, so \\set and temp tables work), or as the superuser on the primary; extra arguments go to psql")
    .option("--transaction", "use the transaction-mode pooler entry instead")
    .option(
      "--superuser",
      "connect as the postgres superuser to the current primary over its Unix socket (peer authentication, as the postgres OS user), for maintenance: creating roles, granting membership",
    )
    .allowUnknownOption()
    .argument("[psql-args...]", "arguments passed to psql, e.g. -c 'select 1'")
    .action(async (args: string[], opts: { transaction?: boolean; superuser?: boolean }, command: Command) => {
      if (opts.transaction && opts.superuser) throw new TuskError("Usage", "--transaction and --superuser exclude each other: the superuser connects directly, not through the pooler.");
      const cluster = clusterFor(command);
      await cluster.status(); // a clear error when nothing is running
      const { config, paths } = cluster;
      const env: NodeJS.ProcessEnv = { ...process.env, PGAPPNAME: "tusk psql" };
      let user: { uid: number; gid: number } | undefined;
      if (opts.superuser) {
        const primary = readPrimary(config, paths);
        const pg = postgresUser();
        user = pg;
        // Peer authentication maps the postgres OS user to the postgres role; no password is involved.
        Object.assign(env, { PGHOST: primary.socketDir, PGPORT: String(primary.port), PGUSER: ROLES.superuser, PGDATABASE: config.database, HOME: pg.home, USER: pg.name, LOGNAME: pg.name });
        delete env.PGPASSWORD;
      } else {
        Object.assign(env, {
          PGHOST: "127.0.0.1",
          PGPORT: String(config.ports.pooler),
          PGUSER: ROLES.app,
          PGDATABASE: opts.transaction ? config.database : `${config.database}_session`,
          PGPASSWORD: readSecret(paths, "app"),
        });
      }
      const child = spawn(PSQL_BIN, [...args], { stdio: "inherit", env, ...(user ? { uid: user.uid, gid: user.gid, cwd: "/" } : {}) });
      const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
      process.exitCode = code;
    });
}

#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { ExitCode, isTuskError } from "../core/errors.js";
import { TUSK_VERSION } from "../core/state-dir.js";
import { STATE_DIR_HELP } from "./context.js";
import { registerConfig } from "./commands/config.js";
import { registerDestroy } from "./commands/destroy.js";
import { registerDown } from "./commands/down.js";
import { registerPsql } from "./commands/psql.js";
import { registerStatus } from "./commands/status.js";
import { registerUp } from "./commands/up.js";
import { registerInstall } from "./commands/install.js";
import { registerBackup } from "./commands/backup.js";
import { registerBackups } from "./commands/backups.js";
import { registerRestorePoint } from "./commands/restore-point.js";
import { registerRestore } from "./commands/restore.js";
import { registerDrill } from "./commands/drill.js";
import { registerDump } from "./commands/dump.js";
import { registerImport } from "./commands/import.js";
import { registerScale } from "./commands/scale.js";
import { registerSwitchover } from "./commands/switchover.js";
import { registerHistory } from "./commands/history.js";
import { registerAlerts } from "./commands/alerts.js";
import { registerToken } from "./commands/token.js";
import { registerCa } from "./commands/ca.js";
import { registerCerts } from "./commands/certs.js";
import { registerHost } from "./commands/host.js";
import { registerJoin } from "./commands/join.js";
import { registerQueries } from "./commands/queries.js";
import { registerDashboard } from "./commands/dashboard.js";

/** The tusk command line: parses, calls the core, formats. Expected failures print without a stack. */
const program = new Command()
  .name("tusk")
  .description("Self-hosted, production-grade PostgreSQL: pooler, HA, tuning — in one command.")
  .version(TUSK_VERSION)
  .option("--state-dir <dir>", STATE_DIR_HELP)
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

for (const register of [
  registerUp,
  registerDown,
  registerStatus,
  registerDestroy,
  registerPsql,
  registerConfig,
  registerInstall,
  registerBackup,
  registerBackups,
  registerRestorePoint,
  registerRestore,
  registerDrill,
  registerDump,
  registerImport,
  registerScale,
  registerSwitchover,
  registerHistory,
  registerAlerts,
  registerQueries,
  registerToken,
  registerCa,
  registerCerts,
  registerHost,
  registerJoin,
  registerDashboard,
])
  register(program);
for (const c of [...program.commands, ...program.commands.flatMap((c) => c.commands)]) c.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version exit 0; anything else commander rejects is a usage error
    process.exit(e.exitCode === 0 ? 0 : ExitCode.Usage);
  }
  if (isTuskError(e)) {
    console.error(e.format());
    process.exit(e.exitCode);
  }
  console.error("tusk: unexpected error (this is a bug):");
  console.error(e);
  process.exit(ExitCode.Internal);
}

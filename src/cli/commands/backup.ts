import { Option, type Command } from "commander";
import { takeBackup } from "../../core/backup/operations.js";
import type { BackupType } from "../../core/backup/pgbackrest.js";
import { clusterFor } from "../context.js";
import { bytes, when } from "../format.js";
import { terminalProgress } from "../terminal-progress.js";

export function registerBackup(program: Command): void {
  program
    .command("backup")
    .description("take a backup now with pgBackRest (progress shown); full, differential (since the last full) or incremental (since the last backup)")
    .addOption(new Option("--type <type>", "backup type").choices(["full", "diff", "incr"]).default("full"))
    .action(async (opts: { type: BackupType }, command: Command) => {
      const catalog = await takeBackup(clusterFor(command), opts.type, terminalProgress());
      const b = catalog.backups[catalog.backups.length - 1]!;
      console.log(`Backup ${b.label} (${b.type}): ${bytes(b.originalBytes)} of data, ${bytes(b.repositoryBytes)} in the repository, ${b.durationSeconds} s.`);
      console.log(`Restorable from ${when(catalog.window.from)} to ${when(catalog.window.to)}.`);
    });
}

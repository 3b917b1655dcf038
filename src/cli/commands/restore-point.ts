import type { Command } from "commander";
import { when } from "../format.js";
import { restorePoint } from "../../core/backup/operations.js";
import { clusterFor } from "../context.js";

export function registerRestorePoint(program: Command): void {
  program
    .command("restore-point")
    .description("create a named restore point in the WAL (pg_create_restore_point), e.g. before a migration; `tusk restore --name NAME` returns to it")
    .argument("<name>", "the restore point's name")
    .action(async (name: string, _opts: unknown, command: Command) => {
      const p = await restorePoint(clusterFor(command), name);
      console.log(`Restore point ${p.name} at ${p.lsn} (${when(p.createdAt)}).`);
    });
}

import type { Command } from "commander";
import { backupCatalog } from "../../core/backup/operations.js";
import { clusterFor } from "../context.js";
import { bytes, table, when } from "../format.js";

export function registerBackups(program: Command): void {
  program
    .command("backups")
    .description("list backups (type, start, end, size on disk and original, duration, WAL range), restore points, and the window a restore can reach")
    .option("--json", "print as JSON")
    .action(async (opts: { json?: boolean }, command: Command) => {
      const c = await backupCatalog(clusterFor(command));
      if (opts.json) {
        console.log(JSON.stringify(c, null, 2));
        return;
      }
      console.log(
        table(
          c.backups.map((b) => [
            b.label,
            b.type,
            when(b.startedAt),
            when(b.endedAt),
            `${b.durationSeconds} s`,
            bytes(b.originalBytes),
            bytes(b.repositoryBytes),
            `${b.walStart ?? "-"} … ${b.walStop ?? "-"}`,
          ]),
          ["LABEL", "TYPE", "STARTED", "ENDED", "TOOK", "ORIGINAL", "ON DISK", "WAL"],
        ),
      );
      console.log(`\nRestorable window: ${when(c.window.from)} to ${when(c.window.to)}`);
      if (c.archiver) {
        const a = c.archiver;
        console.log(
          `WAL archiving: ${a.archivedCount} archived, last ${a.lastArchivedWal ?? "-"} at ${when(a.lastArchivedAt)}; ${a.failedCount} failed${a.lastFailedAt ? `, last at ${when(a.lastFailedAt)}` : ""}.`,
        );
      }
      if (c.restorePoints.length) console.log(`Restore points: ${c.restorePoints.map((p) => `${p.name} (${when(p.createdAt)}, ${p.lsn})`).join("; ")}`);
    });
}

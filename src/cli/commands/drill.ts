import type { Command } from "commander";
import { drillHistory, runDrill, type DrillResult } from "../../core/backup/drill.js";
import { OperationQueue } from "../../core/supervisor/operation-queue.js";
import { TuskError } from "../../core/errors.js";
import { runFailoverDrill } from "../../core/failover/drill.js";
import { clusterFor } from "../context.js";
import { table, when } from "../format.js";
import { terminalProgress } from "../terminal-progress.js";

function formatDrill(d: DrillResult): string {
  const head =
    `Restore drill ${d.ok ? "PASSED" : "FAILED"} — backup ${d.backupLabel ?? "-"}, started ${when(d.startedAt)}` +
    (d.restoreSeconds !== null ? `; restore to accepting writes ${d.restoreSeconds.toFixed(1)} s; restored state ${d.restoredStateAgeSeconds} s old` : "");
  const lines = d.checks.map((c) => `  ${c.ok ? "✓" : "✗"} ${c.name}: ${c.detail.replace(/\n/g, "\n      ")}`);
  return [head, ...lines].join("\n");
}

export function registerDrill(program: Command): void {
  const drill = program.command("drill").description("drills that prove recovery works");
  drill
    .command("restore")
    .description("restore the latest backup into a scratch instance, verify it (pgbackrest verify, amcheck, row counts), record the time, remove it")
    .option("--json", "print the result as JSON")
    .action(async (opts: { json?: boolean }, command: Command) => {
      const cluster = clusterFor(command);
      await cluster.status(); // a clear error when nothing is running
      const result = await new OperationQueue(cluster.paths).run("restore drill", "restore drill (tusk drill restore)", () => runDrill(cluster, terminalProgress()));
      console.log(opts.json ? JSON.stringify(result, null, 2) : formatDrill(result));
      if (!result.ok) {
        throw new TuskError("ProcessFailed", "The restore drill failed: the latest backup did not prove restorable.", {
          hint: "Read the failed checks above; take a new full backup (`tusk backup`) and run the drill again.",
        });
      }
    });
  drill
    .command("failover")
    .description("a synthetic writer commits every 10 ms through the pooled string while the primary is switched over or lost; reports the outage it saw and any acknowledged write lost")
    .option("--kind <kind>", "switchover (planned) or primary-loss (the primary's Patroni and PostgreSQL frozen until a replica takes over)", "switchover")
    .option("--json", "print the result as JSON")
    .action(async (opts: { kind: string; json?: boolean }, command: Command) => {
      if (opts.kind !== "switchover" && opts.kind !== "primary-loss") {
        throw new TuskError("Usage", `--kind must be switchover or primary-loss, not "${opts.kind}".`);
      }
      const cluster = clusterFor(command);
      await cluster.status();
      const r = await runFailoverDrill(cluster, opts.kind, terminalProgress());
      console.log(
        opts.json
          ? JSON.stringify(r, null, 2)
          : `Failover drill (${r.kind}) ${r.ok ? "PASSED" : "FAILED"}: ${r.from} → ${r.to}; writes stalled at most ${(r.outageMs / 1000).toFixed(1)} s; ${r.acknowledged} acknowledged commits (${r.acknowledgedAfter} after the change), ${r.lost} lost; ${r.clientErrors} client errors.`,
      );
      if (!opts.json) for (const e of r.errorKinds) console.log(`  ${e.count} × ${e.message}`);
      if (r.lost > 0)
        throw new TuskError("ProcessFailed", `The failover drill lost ${r.lost} acknowledged commits.`, { hint: "This must never happen: keep the logs in the state directory and report it." });
      if (!r.ok)
        throw new TuskError("ProcessFailed", `No write succeeded through the pooled connection string within 30 s of ${r.to} taking over.`, {
          hint: "`tusk status` shows the endpoints; the supervisor log says where the pooler was routed.",
        });
    });
  drill
    .command("history")
    .description("past restore drills with their results and times")
    .option("--json", "print as JSON")
    .action((opts: { json?: boolean }, command: Command) => {
      const history = drillHistory(clusterFor(command).paths);
      if (opts.json) {
        console.log(JSON.stringify(history, null, 2));
        return;
      }
      console.log(
        table(
          history.map((d) => [
            when(d.startedAt),
            d.ok ? "passed" : "FAILED",
            d.backupLabel ?? "-",
            d.restoreSeconds?.toFixed(1) ?? "-",
            String(d.restoredStateAgeSeconds ?? "-"),
            d.checks
              .filter((c) => !c.ok)
              .map((c) => c.name)
              .join(", "),
          ]),
          ["STARTED", "RESULT", "BACKUP", "RESTORE S", "STATE AGE S", "FAILED CHECKS"],
        ),
      );
    });
}

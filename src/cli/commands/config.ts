import type { Command } from "commander";
import { effectiveSettings } from "../../core/config/effective-settings.js";
import { readHostFacts } from "../../core/config/host-facts.js";
import { PATRONI_TIMING } from "../../core/generate/patroni-config.js";
import { clusterFor } from "../context.js";
import { table, bytes } from "../format.js";
import { terminalProgress } from "../terminal-progress.js";
import { applyConfigLive } from "../../core/cluster/config-apply.js";

export function registerConfig(program: Command): void {
  const config = program.command("config").description("inspect tusk's configuration and apply tusk.yaml to the running cluster");
  config
    .command("show")
    .description("every generated setting (PostgreSQL, PgBouncer, Patroni) with its value, where it came from and why")
    .option("--json", "print as JSON")
    .action(async (opts: { json?: boolean }, command: Command) => {
      const cluster = clusterFor(command);
      const host = readHostFacts(cluster.paths.root);
      const settings = effectiveSettings(cluster.config, host);
      const sections = { postgresql: settings.postgres, pgbouncer: settings.pgbouncer, pgbackrest: settings.pgbackrest, patroni: PATRONI_TIMING };
      if (opts.json) {
        console.log(JSON.stringify({ host, configFile: cluster.paths.configFile, ...sections }, null, 2));
        return;
      }
      console.log(`Host: ${host.cores} cores, ${bytes(host.memoryBytes)} memory, ${host.ssd ? "SSD" : "rotational disk"}, ${bytes(host.diskFreeBytes)} free.`);
      console.log(`Overrides are read from ${cluster.paths.configFile}.\n`);
      for (const [name, list] of Object.entries(sections)) {
        console.log(`[${name}]`);
        console.log(
          table(
            list.map((s) => [s.name, s.value, s.source, s.reason]),
            ["SETTING", "VALUE", "SOURCE", "WHY"],
          ),
        );
        console.log();
      }
    });
  config
    .command("apply")
    .description("apply tusk.yaml to the running cluster: shows each change and how it is made (reload, rolling restart one node at a time, or refused with what to do instead)")
    .option("--dry-run", "show what would change, apply nothing")
    .action(async (opts: { dryRun?: boolean }, command: Command) => {
      const cluster = clusterFor(command);
      await cluster.status(); // a clear error when nothing is running
      const { plan, result } = await applyConfigLive(cluster, terminalProgress(), opts.dryRun);
      if (plan.changes.length === 0) console.log("tusk.yaml matches what the cluster runs: nothing to apply.");
      else if (opts.dryRun) console.log("Nothing applied (--dry-run); `tusk config apply` applies it.");
      else if (result) console.log(`Applied ${plan.changes.length} change(s)${result.restarted.length ? `; restarted ${result.restarted.join(", ")}` : ", without a restart"}.`);
    });
}

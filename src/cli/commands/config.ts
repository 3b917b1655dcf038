import type { Command } from "commander";
import { effectiveSettings } from "../../core/config/effective-settings.js";
import { readHostFacts } from "../../core/config/host-facts.js";
import { PATRONI_TIMING } from "../../core/generate/patroni-config.js";
import { clusterFor } from "../context.js";
import { table, bytes } from "../format.js";

export function registerConfig(program: Command): void {
  const config = program.command("config").description("inspect tusk's configuration");
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
}

import type { Command } from "commander";
import { readHistory } from "../../core/cluster/history.js";
import { clusterFor } from "../context.js";
import { table, when } from "../format.js";

export function registerHistory(program: Command): void {
  program
    .command("history")
    .description("switchovers and failovers: when, from which node to which, the timeline, and the outage measured")
    .option("--json", "print the history as JSON")
    .action((opts: { json?: boolean }, command: Command) => {
      const history = readHistory(clusterFor(command).paths);
      if (opts.json) {
        console.log(JSON.stringify(history, null, 2));
        return;
      }
      if (history.length === 0) {
        console.log("No switchover or failover yet.");
        return;
      }
      const rows = history.map((h) => [when(h.at), h.kind, h.from, h.to, h.timeline === null ? "-" : String(h.timeline), h.outageMs === null ? "-" : `${(h.outageMs / 1000).toFixed(1)} s`]);
      console.log(table(rows, ["WHEN", "KIND", "FROM", "TO", "TL", "OUTAGE"]));
    });
}

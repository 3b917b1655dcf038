import type { Command } from "commander";
import { Option } from "commander";
import { ROUTES } from "../../core/endpoints.js";
import type { TopQuery } from "../../core/metrics/store.js";
import { clusterFor } from "../context.js";
import { table } from "../format.js";
import { durationOf } from "../../core/config/units.js";

export function registerQueries(program: Command): void {
  program
    .command("queries")
    .description("the statements that took the most time (pg_stat_statements, as collected) over a recent period")
    .option("--since <duration>", "how far back: 15m, 1h, 1d", "1h")
    .addOption(new Option("--order <by>", "sort by").choices(["total", "mean", "stddev", "calls", "max"]).default("total"))
    .option("--database <name>", "only statements run in this database")
    .option("--role <name>", "only statements run by this role")
    .option("--limit <n>", "how many", "20")
    .option("--json", "print as JSON")
    .action(async (opts: { since: string; order: string; limit: string; database?: string; role?: string; json?: boolean }, command: Command) => {
      const from = new Date(Date.now() - durationOf(opts.since, "--since") * 1000).toISOString();
      const cluster = clusterFor(command);
      await cluster.status();
      const r = await cluster.api.get<{ queries: TopQuery[] }>(ROUTES.queries, { from, order: opts.order, limit: Number(opts.limit), database: opts.database, role: opts.role });
      if (opts.json) return void console.log(JSON.stringify(r, null, 2));
      const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(2));
      console.log(
        table(
          r.queries.map((q) => [
            String(q.calls),
            ms(q.totalMs),
            ms(q.meanMs),
            ms(q.stddevMs),
            ms(q.maxMs),
            q.hitRatio === null ? "-" : `${(q.hitRatio * 100).toFixed(1)} %`,
            q.dbname,
            q.username,
            q.query.replace(/\s+/g, " ").slice(0, 80),
          ]),
          ["CALLS", "TOTAL MS", "MEAN MS", "STDDEV", "MAX MS", "HIT", "DATABASE", "ROLE", "QUERY"],
        ),
      );
    });
}

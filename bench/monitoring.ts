/**
 * Monitoring benchmark: what the collector costs the monitored database, and what its history
 * costs on disk. One cluster; pgbench (TPC-B-like, scale 20, 8 clients, direct to PostgreSQL) runs
 * in alternating rounds with the collector off (monitoring.enabled: false) and on at its default
 * interval (15 s), the cluster restarted between (same data, same machine, same run). Then the
 * collector runs at 1 s for a while to measure the metrics database's bytes per collection, scaled
 * to a day at the default interval.
 *
 *   bash bench/run.sh monitoring [--rounds N] [--seconds S]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse, stringify } from "yaml";
import pg from "pg";
import { run } from "../src/core/exec.js";
import { PG_BIN_DIR } from "../src/core/install/components.js";
import type { SupervisorStatus } from "../src/core/supervisor/status.js";
import { TestCluster } from "../test/helpers/test-cluster.js";
import { machineLine, median, printTable } from "./lib/report.js";

const { values: opts } = parseArgs({
  options: { rounds: { type: "string", default: "3" }, seconds: { type: "string", default: "60" }, scale: { type: "string", default: "20" }, "history-seconds": { type: "string", default: "120" } },
});
const ROUNDS = Number(opts.rounds);
const SECONDS = Number(opts.seconds);
const log = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setMonitoring(cluster: TestCluster, monitoring: Record<string, unknown>): Promise<void> {
  const file = join(cluster.stateDir, "tusk.yaml");
  const config = parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  config.monitoring = monitoring;
  writeFileSync(file, stringify(config));
  const down = await cluster.cli("down");
  if (down.code !== 0) throw new Error(`down failed: ${down.stderr}`);
  const up = await cluster.cli("up");
  if (up.code !== 0) throw new Error(`up failed: ${up.stderr}`);
}

async function status(cluster: TestCluster): Promise<SupervisorStatus> {
  return JSON.parse((await cluster.cli("status", "--json")).stdout) as SupervisorStatus;
}

async function pgbench(url: string): Promise<number> {
  const r = await run(`${PG_BIN_DIR}/pgbench`, ["-n", "-M", "prepared", "-c", "8", "-j", "2", "-T", String(SECONDS), url]);
  const tps = /tps = ([\d.]+)/.exec(r.stdout)?.[1];
  if (r.code !== 0 || !tps) throw new Error(`pgbench failed: ${r.stderr || r.stdout}`);
  return Number(tps);
}

async function main(): Promise<void> {
  log("starting a cluster");
  const cluster = await TestCluster.start("bench-monitoring", { monitoring: { enabled: false } });
  try {
    const owner = cluster.urls.migrations;
    log(`loading pgbench scale ${opts.scale}`);
    const init = await run(`${PG_BIN_DIR}/pgbench`, ["-i", "-q", "-s", opts.scale!, owner]);
    if (init.code !== 0) throw new Error(init.stderr);
    const off: number[] = [];
    const on: number[] = [];
    let collections = 0;
    let collectMs: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const enabled of [false, true]) {
        await setMonitoring(cluster, enabled ? { enabled: true } : { enabled: false });
        await sleep(5000);
        log(`round ${round}/${ROUNDS}: pgbench ${SECONDS} s with the collector ${enabled ? "on (every 15 s)" : "off"}`);
        const tps = await pgbench(owner);
        (enabled ? on : off).push(tps);
        if (enabled) {
          const s = await status(cluster);
          collections += s.monitoring.collections;
          if (s.monitoring.lastDurationMs !== null) collectMs.push(s.monitoring.lastDurationMs);
        }
        log(`  ${tps.toFixed(0)} tps`);
      }
    }

    const historySeconds = Number(opts["history-seconds"]);
    log(`collector at 1 s for ${historySeconds} s to measure the history's size`);
    await setMonitoring(cluster, { enabled: true, interval_seconds: 1 });
    const app = new pg.Pool({ connectionString: cluster.url("pooled"), max: 2 });
    const until = Date.now() + historySeconds * 1000;
    while (Date.now() < until) {
      await app.query("SELECT count(*) FROM pgbench_accounts WHERE aid = $1", [Math.floor(Math.random() * 1000)]);
      await sleep(100);
    }
    await app.end();
    const s = await status(cluster);
    collectMs = [...collectMs, s.monitoring.lastDurationMs ?? 0];
    const password = readFileSync(join(cluster.stateDir, "secrets/superuser.secret"), "utf8").trim();
    const metrics = new pg.Client({ host: "127.0.0.1", port: cluster.ports.postgres, user: "postgres", password, database: "tusk_metrics" });
    await metrics.connect();
    const size = (
      await metrics.query<{ samples: string; statements: string; rollups: string; n: number; rows: string }>(`
      SELECT (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'metrics.samples'::regclass) AS samples,
             (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'metrics.statements'::regclass) AS statements,
             pg_total_relation_size('metrics.samples_hourly') + pg_total_relation_size('metrics.series') AS rollups,
             (SELECT count(DISTINCT at)::int FROM metrics.samples) AS n,
             (SELECT count(*) FROM metrics.samples) AS rows`)
    ).rows[0]!;
    await metrics.end();
    const perCollection = (Number(size.samples) + Number(size.statements)) / size.n;
    const perDay = (perCollection * 86_400) / 15;

    const mOff = median(off);
    const mOn = median(on);
    console.log(
      `\nMachine: ${machineLine()}\nPostgreSQL ${s.processes.find((p) => p.name === "postgres")?.version}; pgbench -M prepared -c 8 -j 2 -T ${SECONDS}, scale ${opts.scale}, direct to PostgreSQL; ${ROUNDS} alternating rounds.`,
    );
    printTable(
      "pgbench throughput with the collector off and on (default interval 15 s)",
      ["collector", "rounds (tps)", "median tps", "difference"],
      [
        ["off", off.map((t) => t.toFixed(0)).join(", "), mOff.toFixed(0), "baseline"],
        ["on, every 15 s", on.map((t) => t.toFixed(0)).join(", "), mOn.toFixed(0), `${(((mOn - mOff) / mOff) * 100).toFixed(2)} %`],
      ],
    );
    printTable(
      "Metrics history on disk (measured at 1 s, scaled to the default 15 s)",
      ["figure", "value"],
      [
        ["collections measured", size.n],
        ["samples per collection", (Number(size.rows) / size.n).toFixed(0)],
        ["bytes per collection (samples + statements, with indexes)", perCollection.toFixed(0)],
        ["per day at 15 s", `${(perDay / 1024 ** 2).toFixed(1)} MB`],
        ["14 days raw (default retention)", `${((perDay * 14) / 1024 ** 2).toFixed(0)} MB`],
        ["hourly rollups and the series table so far", `${(Number(size.rollups) / 1024).toFixed(0)} kB`],
        ["collection time (median of readings)", `${median(collectMs)} ms`],
        ["collections during the 'on' rounds", collections],
      ],
    );
  } finally {
    await cluster.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

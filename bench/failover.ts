/**
 * Failover benchmark: the client-observed write outage and the acknowledged rows lost, for a
 * switchover, a killed postmaster and the loss of the primary's node (its Patroni and PostgreSQL
 * frozen), with tusk's Patroni settings and, as the baseline in the same run, Patroni's defaults
 * (ttl 30, loop_wait 10, retry_timeout 10, primary_start_timeout 300, no failsafe mode). A writer
 * commits a row every 10 ms through the pooled connection string; the outage is the longest gap
 * between two acknowledged commits.
 *
 *   bash bench/run.sh failover [--trials N]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { httpRequest } from "../src/core/processes/http-probe.js";
import { PATRONI_REST_USER, PATRONI_TIMING } from "../src/core/generate/patroni-config.js";
import type { SupervisorStatus } from "../src/core/supervisor/status.js";
import { PGBOUNCER } from "../src/core/install/components.js";
import { TestCluster } from "../test/helpers/test-cluster.js";
import { Writer } from "../src/core/failover/writer.js";
import { freezeNode, killPostmaster } from "../src/core/failover/faults.js";
import { primaryOf } from "../src/core/supervisor/replication.js";
import { machineLine, median, printTable, seconds } from "./lib/report.js";

const SCENARIOS = ["switchover", "postmaster kill", "node loss"] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values: opts } = parseArgs({
  options: {
    trials: { type: "string", default: "3" },
    // For investigating one fault: --fault "node loss" --no-baseline
    fault: { type: "string", multiple: true },
    "no-baseline": { type: "boolean", default: false },
  },
});
const TRIALS = Number(opts.trials);
const unknown = (opts.fault ?? []).filter((f) => !(SCENARIOS as readonly string[]).includes(f));
if (!Number.isInteger(TRIALS) || TRIALS < 1 || unknown.length > 0) {
  console.error(
    unknown.length > 0
      ? `Unknown --fault ${unknown.map((f) => JSON.stringify(f)).join(", ")}; known: ${SCENARIOS.map((f) => JSON.stringify(f)).join(", ")}.`
      : `--trials must be a whole number of 1 or more, not ${JSON.stringify(opts.trials)}.`,
  );
  process.exit(2);
}
const FAULTS: readonly Scenario[] = opts.fault?.length ? (opts.fault as Scenario[]) : SCENARIOS;
const PROFILES = opts["no-baseline"] ? (["tusk"] as const) : (["tusk", "Patroni defaults"] as const);
const log = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const PATRONI_DEFAULTS = { ttl: 30, loop_wait: 10, retry_timeout: 10, primary_start_timeout: 300, failsafe_mode: false };

async function status(cluster: TestCluster): Promise<SupervisorStatus> {
  const r = await cluster.cli("status", "--json");
  if (r.code !== 0) throw new Error(`status failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as SupervisorStatus;
}

async function waitFor(cluster: TestCluster, what: string, check: (s: SupervisorStatus) => boolean, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check(await status(cluster))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(500);
  }
}

/** Every replica streaming and caught up, and a synchronous standby named (the only one Patroni promotes). */
const healthy = (s: SupervisorStatus) =>
  primaryOf(s.replication)?.state === "running" &&
  s.replication.nodes.some((n) => n.role === "sync standby") &&
  s.replication.nodes.every((n) => n.role === "primary" || (n.state === "running" && (n.lagBytes ?? 1) === 0));

let tables = 0;

/** Retries a query for up to a minute: right after a fault the pooler may still report the failed login. */
async function retrying<T>(work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await work();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(500);
    }
  }
}

/** One trial: a writer, the fault, recovery, then the count of acknowledged rows on the primary. */
async function trial(cluster: TestCluster, scenario: Scenario): Promise<{ outageMs: number; errors: number; lost: number }> {
  await waitFor(cluster, "a healthy cluster", healthy);
  const table = `bench_${++tables}`;
  await retrying(() => cluster.query(cluster.url("pooled", "owner"), `CREATE TABLE ${table} (id int PRIMARY KEY)`));
  const old = primaryOf((await status(cluster)).replication)!.name;
  const writer = new Writer(cluster.url("pooled"), table);
  await sleep(2000);
  const faultAt = Date.now();
  log(`${scenario} of ${old} at ${new Date(faultAt).toISOString()}`);
  if (scenario === "switchover") {
    const r = await cluster.cli("switchover");
    if (r.code !== 0) throw new Error(`switchover failed: ${r.stderr}`);
  } else if (scenario === "postmaster kill") {
    killPostmaster(cluster.stateDir, old);
    await waitFor(cluster, "a running primary", (s) => primaryOf(s.replication)?.state === "running");
  } else {
    const thaw = freezeNode(cluster.stateDir, old);
    try {
      await waitFor(cluster, "a promoted replica", (s) => {
        const p = primaryOf(s.replication);
        return p !== undefined && p.name !== old && p.state === "running";
      });
      await sleep(2000);
    } finally {
      thaw();
    }
  }
  // The outage ends when the writer's commits are acknowledged again.
  const resumed = Date.now() + 180_000;
  while (writer.lastAckAt <= faultAt + 100 && Date.now() < resumed) await sleep(100);
  await sleep(2000);
  const report = await writer.stop();
  const found = await retrying(() => cluster.query<{ n: number }>(cluster.url("pooled"), `SELECT count(*)::int AS n FROM ${table} WHERE id = ANY($1)`, [report.acked]));
  const kinds = [...new Set(report.errors)];
  if (kinds.length > 0) log(`  client errors: ${kinds.slice(0, 4).join(" | ")}`);
  return { outageMs: report.maxGapMs, errors: report.errors.length, lost: report.acked.length - (found.rows[0]?.n ?? 0) };
}

async function patchPatroni(cluster: TestCluster, patch: Record<string, unknown>): Promise<void> {
  const s = await status(cluster);
  const password = readFileSync(join(cluster.stateDir, "secrets/patroni_rest.secret"), "utf8").trim();
  const port = s.replication.nodes.find((n) => n.role === "primary")!.patroniPort;
  const r = await httpRequest(`http://127.0.0.1:${port}/config`, { method: "PATCH", auth: { user: PATRONI_REST_USER, password }, body: patch, timeoutMs: 10_000 });
  if (r.status >= 300) throw new Error(`PATCH /config failed (${r.status}): ${r.body}`);
  await sleep(3000); // every member picks the change up on its next loop
}

async function main(): Promise<void> {
  const rows: (string | number)[][] = [];
  let versions = "";
  for (const profile of PROFILES) {
    log(`${profile}: starting a cluster with 2 replicas`);
    const cluster = await TestCluster.start(`bench-failover`);
    try {
      const up = await cluster.cli("scale", "--replicas", "2");
      if (up.code !== 0) throw new Error(`scale failed: ${up.stderr}`);
      if (profile === "Patroni defaults") await patchPatroni(cluster, PATRONI_DEFAULTS);
      const s = await status(cluster);
      versions = s.processes
        .filter((p) => ["etcd", "patroni", "postgres", "pgbouncer"].includes(p.name))
        .map((p) => `${p.name} ${p.version}`)
        .join(", ");
      for (const scenario of FAULTS) {
        const results = [];
        for (let t = 0; t < TRIALS; t++) {
          log(`${profile}: ${scenario}, trial ${t + 1}/${TRIALS}`);
          const result = await trial(cluster, scenario);
          log(`${profile}: ${scenario}, trial ${t + 1}: outage ${seconds(result.outageMs)} s, ${result.errors} client errors, ${result.lost} lost`);
          results.push(result);
        }
        const outages = results.map((r) => r.outageMs);
        rows.push([profile, scenario, TRIALS, seconds(median(outages)), seconds(Math.max(...outages)), results.reduce((a, r) => a + r.errors, 0), results.reduce((a, r) => a + r.lost, 0)]);
      }
    } finally {
      await cluster.destroy();
    }
  }
  const timing = PATRONI_TIMING.map((t) => `${t.name} ${t.value}`).join(", ");
  console.log(`\nMachine: ${machineLine()}\n${versions || `PgBouncer ${PGBOUNCER.installedVersion()}`}`);
  console.log(
    `tusk: ${timing}, synchronous_mode on; baseline: ${Object.entries(PATRONI_DEFAULTS)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
  );
  printTable(
    "Client-observed write outage (longest gap between acknowledged commits; writer every 10 ms, 5 s query timeout)",
    ["settings", "fault", "trials", "outage median (s)", "outage worst (s)", "client errors", "acknowledged rows lost"],
    rows,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

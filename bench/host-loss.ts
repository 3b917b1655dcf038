/**
 * Host-loss benchmark: HA across machines. Three test hosts — network namespaces on an isolated
 * bridge (198.18.9.0/24), each with its own mount namespace and state directory: the first host
 * (`tusk up`), a data host (`tusk join`, node db2) and a witness (the third etcd voter). Two writers
 * commit a row every 10 ms, one through each data host's PgBouncer (TLS, verify-full). A trial takes
 * the primary's host away (its link down), waits until the writer through the other host's endpoint
 * commits again, brings the link back, and waits until the old primary's node streams as the
 * synchronous standby; the next trial takes the other host away. The outage is the longest gap
 * between acknowledged commits through the surviving host's endpoint; lost rows are acknowledged
 * ids (either writer) missing on the new primary. Baseline in the same run: Patroni's default
 * timing (ttl 30, loop_wait 10, retry_timeout 10, primary_start_timeout 300, no failsafe mode). Also
 * timed: `tusk join` to a streaming replica, for a database of pgbench scale --join-scale (68 ≈ 1 GB).
 * Then as many planned switchovers (`tusk switchover` on the first host, alternating hosts) under the
 * same two writers: the longest pause either saw, client errors, rows lost.
 *
 *   bash bench/run.sh host-loss [--trials N] [--join-scale N] [--no-baseline]
 */
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { nodePaths } from "../src/core/cluster/nodes.js";
import { Writer } from "../src/core/failover/writer.js";
import { PATRONI_REST_USER, PATRONI_TIMING } from "../src/core/generate/patroni-config.js";
import { PG_BIN_DIR } from "../src/core/install/components.js";
import { StatePaths } from "../src/core/state-dir.js";
import { clusterCa } from "../src/core/tls/cluster-ca.js";
import { tlsFiles } from "../src/core/tls/server-certificate.js";
import type { HostTokenResult } from "../src/core/supervisor/host-tokens.js";
import { runCli } from "../test/helpers/cli.js";
import { TestNetwork, type TestHost } from "../test/helpers/netns.js";
import { TestCluster } from "../test/helpers/test-cluster.js";
import { machineLine, median, printTable, seconds } from "./lib/report.js";

const { values: opts } = parseArgs({
  options: {
    trials: { type: "string", default: "10" },
    "join-scale": { type: "string", default: "68" },
    "no-baseline": { type: "boolean", default: false },
  },
});
const TRIALS = Number(opts.trials);
const JOIN_SCALE = Number(opts["join-scale"]);
if (!Number.isInteger(TRIALS) || TRIALS < 1 || !Number.isInteger(JOIN_SCALE) || JOIN_SCALE < 1) {
  console.error(`--trials and --join-scale must be whole numbers of 1 or more, not ${JSON.stringify(opts.trials)} and ${JSON.stringify(opts["join-scale"])}.`);
  process.exit(2);
}
const PROFILES = opts["no-baseline"] ? (["tusk"] as const) : (["tusk", "Patroni defaults"] as const);
const PATRONI_DEFAULTS = { ttl: 30, loop_wait: 10, retry_timeout: 10, primary_start_timeout: 300, failsafe_mode: false };
const log = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One data host of the benchmark: its test host, state directory and node. */
interface DataHost {
  host: TestHost;
  dir: string;
  node: string;
  /** The veth end on the bridge: down is a lost host. */
  link: string;
}

const on = (host: TestHost, ...command: string[]): string => execFileSync(host.via[0]!, [...host.via.slice(1), ...command], { encoding: "utf8", timeout: 60_000 });

async function until<T>(what: string, ms: number, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await Promise.resolve()
      .then(check)
      .catch(() => undefined);
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
    await sleep(500);
  }
}

class Bench {
  readonly net: TestNetwork;
  readonly dirs: string[];
  readonly data: [DataHost, DataHost];
  readonly witness: TestHost;
  cluster!: TestCluster;
  database = "";
  readonly caFile: string;

  constructor() {
    this.dirs = [1, 2, 3].map((n) => join(tmpdir(), `tusk-hostloss-${process.pid}-h${n}`));
    this.caFile = join(tmpdir(), `tusk-hostloss-${process.pid}-ca.crt`);
    this.net = TestNetwork.create("hloss", "198.18.9");
    const hosts = this.dirs.map((d, i) => this.net.host(i + 1, [d]));
    this.data = [
      { host: hosts[0]!, dir: this.dirs[0]!, node: "pg1", link: `${this.net.tag}v1` },
      { host: hosts[1]!, dir: this.dirs[1]!, node: "db2", link: `${this.net.tag}v2` },
    ];
    this.witness = hosts[2]!;
  }

  /** SQL as the superuser on a data host's own node (Unix socket, peer); psql's unaligned output. */
  sql(d: DataHost, text: string, database = this.database): string {
    const np = nodePaths(new StatePaths(d.dir), d.node);
    return on(d.host, "runuser", "-u", "postgres", "--", "psql", "-h", np.socketDir, "-p", String(this.cluster.ports.postgres), "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", text).trim();
  }

  /** The application role through a data host's PgBouncer, over TLS with the host's certificate verified. */
  pooled(d: DataHost): string {
    const password = encodeURIComponent(new URL(this.cluster.urls.direct).password);
    return `postgresql://app:${password}@${d.host.address}:${this.cluster.ports.pooler}/${this.database}?sslmode=verify-full&sslrootcert=${encodeURIComponent(this.caFile)}`;
  }

  async token(role: "data" | "witness"): Promise<string> {
    const made = await this.cluster.cli("host", "token", "--role", role, "--address", this.data[0].host.address, "--json");
    if (made.code !== 0) throw new Error(`tusk host token failed: ${made.stderr}`);
    return (JSON.parse(made.stdout) as HostTokenResult).token;
  }

  /** tusk up on the first host, a database of pgbench scale `scale`; then the data host's join, timed to a streaming replica, and the witness's. */
  async start(scale: number): Promise<number> {
    const [h1, h2] = this.data;
    this.cluster = await TestCluster.start("hostloss", {}, undefined, h1.host.via, h1.dir);
    this.database = new URL(this.cluster.urls.direct).pathname.slice(1);
    log(`loading pgbench scale ${scale}`);
    const socket = nodePaths(new StatePaths(h1.dir), h1.node).socketDir;
    on(h1.host, "runuser", "-u", "postgres", "--", `${PG_BIN_DIR}/pgbench`, "-i", "-q", "-s", String(scale), "-h", socket, "-p", String(this.cluster.ports.postgres), this.database);
    const size = this.sql(h1, "SELECT pg_size_pretty(pg_database_size(current_database()))");
    const token = await this.token("data");
    log(`joining db2 (database ${size})`);
    const started = Date.now();
    const joined = await runCli(["--state-dir", h2.dir, "join", token, "--name", h2.node, "--address", h2.host.address], { via: h2.host.via, timeoutMs: 1_800_000 });
    if (joined.code !== 0) throw new Error(`tusk join failed: ${joined.stderr}\n${joined.stdout}`);
    await until("db2 streaming", 600_000, () => (this.sql(h1, "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'db2' AND state = 'streaming'") === "1" ? true : undefined));
    const joinMs = Date.now() - started;
    log(`db2 streaming ${seconds(joinMs)} s after tusk join began`);
    const w = await runCli(["--state-dir", this.dirs[2]!, "join", await this.token("witness"), "--name", "w3", "--address", this.witness.address], { via: this.witness.via, timeoutMs: 600_000 });
    if (w.code !== 0) throw new Error(`the witness's join failed: ${w.stderr}`);
    const ca = await this.cluster.cli("ca");
    writeFileSync(this.caFile, ca.stdout);
    return joinMs;
  }

  /** Patroni's dynamic configuration, patched through the first host's Patroni API (mutual TLS). */
  patchPatroni(patch: Record<string, unknown>): void {
    const [h1] = this.data;
    const paths = new StatePaths(h1.dir);
    const tls = tlsFiles(paths);
    const password = on(h1.host, "cat", paths.secret("patroni_rest")).trim();
    const url = `https://${h1.host.address}:${this.cluster.ports.patroni}/config`;
    on(
      h1.host,
      "curl",
      "-sSf",
      "--cacert",
      clusterCa(paths).cert,
      "--cert",
      tls.cert,
      "--key",
      tls.key,
      "-u",
      `${PATRONI_REST_USER}:${password}`,
      "-X",
      "PATCH",
      "-H",
      "Content-Type: application/json",
      "-d",
      JSON.stringify(patch),
      url,
    );
  }

  /** The data host whose node is the primary, once the other streams as the synchronous standby and both endpoints take writes. */
  async healthy(): Promise<[DataHost, DataHost]> {
    return until("a primary with a streaming synchronous standby, writable through both hosts' endpoints", 300_000, () => {
      const primary = this.data.find((d) => this.sql(d, "SELECT pg_is_in_recovery()") === "f");
      const other = this.data.find((d) => d !== primary);
      if (!primary || !other) return undefined;
      if (this.sql(primary, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND sync_state = 'sync' AND pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) < 1048576") !== "1")
        return undefined;
      for (const d of this.data) {
        if (execFileSync("psql", [this.pooled(d), "-At", "-c", "SELECT NOT pg_is_in_recovery()"], { encoding: "utf8", timeout: 10_000 }).trim() !== "t") return undefined;
      }
      return [primary, other] as [DataHost, DataHost];
    });
  }

  /** One trial: the primary's host lost until writes resume through the other host, then back. */
  async trial(n: number): Promise<{ outageMs: number; errors: number; lost: number; lostHost: string }> {
    const [lostHost, survivor] = await this.healthy();
    const tables = this.data.map((d) => `hl_${n}_${d.node}`);
    this.sql(lostHost, tables.map((t) => `CREATE TABLE ${t} (id int PRIMARY KEY); GRANT ALL ON ${t} TO app;`).join(" "));
    await until("the tables on the standby", 30_000, () => (this.sql(survivor, `SELECT count(*) FROM pg_tables WHERE tablename = '${tables[1]}'`) === "1" ? true : undefined));
    const writers = this.data.map((d, i) => new Writer(this.pooled(d), tables[i]!));
    const survivorWriter = writers[this.data.indexOf(survivor)]!;
    await sleep(2000);
    const faultAt = Date.now();
    log(`trial ${n}: ${lostHost.node}'s host (${lostHost.host.address}) lost`);
    execFileSync("ip", ["link", "set", lostHost.link, "down"]);
    try {
      await until("writes through the surviving host's endpoint", 300_000, () => (survivorWriter.lastAckAt > faultAt + 100 ? true : undefined));
      await sleep(2000);
    } finally {
      execFileSync("ip", ["link", "set", lostHost.link, "up"]);
    }
    const reports = await Promise.all(writers.map((w) => w.stop()));
    const survivorReport = reports[this.data.indexOf(survivor)]!;
    let lost = 0;
    for (const [i, report] of reports.entries()) {
      if (report.acked.length === 0) continue;
      const found = Number(this.sql(survivor, `SELECT count(*) FROM ${tables[i]} WHERE id = ANY('{${report.acked.join(",")}}'::int[])`));
      lost += report.acked.length - found;
    }
    const kinds = [...new Set(survivorReport.errors)];
    if (kinds.length) log(`  client errors through ${survivor.node}'s host: ${kinds.slice(0, 3).join(" | ")}`);
    return { outageMs: survivorReport.maxGapMs, errors: survivorReport.errors.length, lost, lostHost: lostHost.node };
  }

  /**
   * One planned switchover (tusk switchover on the first host, to the synchronous standby) under
   * both writers: the longest pause either saw, their errors, acknowledged rows lost.
   */
  async switchoverTrial(n: number): Promise<{ pauseMs: number; errors: number; lost: number; to: string }> {
    const [primary, standby] = await this.healthy();
    const tables = this.data.map((d) => `so_${n}_${d.node}`);
    this.sql(primary, tables.map((t) => `CREATE TABLE ${t} (id int PRIMARY KEY); GRANT ALL ON ${t} TO app;`).join(" "));
    await until("the tables on the standby", 30_000, () => (this.sql(standby, `SELECT count(*) FROM pg_tables WHERE tablename = '${tables[1]}'`) === "1" ? true : undefined));
    const writers = this.data.map((d, i) => new Writer(this.pooled(d), tables[i]!));
    try {
      await sleep(2000);
      log(`switchover ${n}: from ${primary.node}`);
      // Patroni names the synchronous standby in etcd a loop after pg_stat_replication shows it.
      await until("tusk switchover", 60_000, async () => {
        const r = await this.cluster.cli("switchover", "--json");
        if (r.code === 0) return true;
        log(`  switchover refused, asked again: ${r.stderr.trim().split("\n")[0]}`);
        await sleep(2000);
        return undefined;
      });
      await sleep(2000);
    } finally {
      await Promise.all(writers.map((w) => w.stop()));
    }
    const reports = await Promise.all(writers.map((w) => w.stop()));
    let lost = 0;
    for (const [i, report] of reports.entries()) {
      if (report.acked.length === 0) continue;
      lost += report.acked.length - Number(this.sql(standby, `SELECT count(*) FROM ${tables[i]} WHERE id = ANY('{${report.acked.join(",")}}'::int[])`));
    }
    const kinds = [...new Set(reports.flatMap((r) => r.errors))];
    if (kinds.length) log(`  client errors: ${kinds.slice(0, 3).join(" | ")}`);
    return { pauseMs: Math.max(...reports.map((r) => r.maxGapMs)), errors: reports.reduce((a, r) => a + r.errors.length, 0), lost, to: standby.node };
  }

  async destroy(): Promise<void> {
    await runCli(["--state-dir", this.dirs[2]!, "destroy", "--yes"], { via: this.witness.via }).catch(() => undefined);
    await runCli(["--state-dir", this.data[1].dir, "destroy", "--yes"], { via: this.data[1].host.via }).catch(() => undefined);
    await this.cluster?.destroy();
    this.net.destroy();
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
    rmSync(this.caFile, { force: true });
  }
}

async function main(): Promise<void> {
  const rows: (string | number)[][] = [];
  const switchoverRows: (string | number)[][] = [];
  let joinRow: (string | number)[] | undefined;
  let versions = "";
  for (const profile of PROFILES) {
    log(`${profile}: three hosts (first host, data host, witness)`);
    const bench = new Bench();
    // Stopped from outside (the smoke test's bound): the hosts, their processes and directories go too.
    const stop = () => void bench.destroy().finally(() => process.exit(143));
    process.once("SIGTERM", stop);
    try {
      // The join is timed once, with tusk's settings; the baseline's cluster gets a small database.
      const scale = profile === "tusk" ? JOIN_SCALE : 1;
      const joinMs = await bench.start(scale);
      if (profile === "tusk") joinRow = [`pgbench scale ${scale}`, bench.sql(bench.data[0], "SELECT pg_size_pretty(pg_database_size(current_database()))"), seconds(joinMs)];
      if (profile === "Patroni defaults") {
        bench.patchPatroni(PATRONI_DEFAULTS);
        await sleep(12_000); // every member picks the change up on its next loop (loop_wait now 10 s)
      }
      versions = `PostgreSQL ${bench.sql(bench.data[0], "SHOW server_version")}, ${execFileSync("patroni", ["--version"], { encoding: "utf8" }).trim()}, ${execFileSync("etcd", ["--version"], { encoding: "utf8" }).split("\n")[0]}`;
      const results = [];
      for (let t = 1; t <= TRIALS; t++) {
        const r = await bench.trial(t);
        log(`${profile}: trial ${t}/${TRIALS} (${r.lostHost}'s host lost): outage ${seconds(r.outageMs)} s, ${r.errors} client errors, ${r.lost} lost`);
        results.push(r);
      }
      const outages = results.map((r) => r.outageMs);
      rows.push([profile, TRIALS, seconds(median(outages)), seconds(Math.max(...outages)), results.reduce((a, r) => a + r.errors, 0), results.reduce((a, r) => a + r.lost, 0)]);
      const moves = [];
      for (let t = 1; t <= TRIALS; t++) {
        const r = await bench.switchoverTrial(t);
        log(`${profile}: switchover ${t}/${TRIALS} (to ${r.to}): longest client pause ${seconds(r.pauseMs)} s, ${r.errors} client errors, ${r.lost} lost`);
        moves.push(r);
      }
      const pauses = moves.map((r) => r.pauseMs);
      switchoverRows.push([profile, TRIALS, seconds(median(pauses)), seconds(Math.max(...pauses)), moves.reduce((a, r) => a + r.errors, 0), moves.reduce((a, r) => a + r.lost, 0)]);
    } finally {
      process.off("SIGTERM", stop);
      await bench.destroy();
    }
  }
  console.log(`\nMachine: ${machineLine()}\n${versions}`);
  console.log(
    `Three hosts in network namespaces on one bridge (first host, data host, witness). tusk: ${PATRONI_TIMING.map((t) => `${t.name} ${t.value}`).join(", ")}, synchronous_mode on; baseline: ${Object.entries(
      PATRONI_DEFAULTS,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
  );
  printTable(
    "Loss of the primary's host (link down), alternating hosts: client-observed write outage through the surviving host's PgBouncer (longest gap between acknowledged commits; writer every 10 ms, 5 s query timeout)",
    ["settings", "trials", "outage median (s)", "outage worst (s)", "client errors", "acknowledged rows lost"],
    rows,
  );
  printTable(
    "Planned switchover (tusk switchover on the first host, to the synchronous standby on the other host), alternating: the longest pause a writer saw through either host's PgBouncer",
    ["settings", "trials", "pause median (s)", "pause worst (s)", "client errors", "acknowledged rows lost"],
    switchoverRows,
  );
  if (joinRow) printTable("tusk join to a streaming replica (tusk's settings)", ["database", "size", "join to streaming (s)"], [joinRow]);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

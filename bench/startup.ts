/**
 * Start-up benchmark: time from `tusk up` to ready on a new state directory (first start: initdb,
 * roles, extensions, pooler) and on an existing one (restart), `tusk down`, and the install step —
 * with packages present, or from a machine without them (--reinstall removes what tusk installs,
 * then times `tusk install`). Baseline in the same run: bare PostgreSQL, initdb + pg_ctl start.
 *
 *   bash bench/run.sh startup [--trials N] [--reinstall]
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { run } from "../src/core/exec.js";
import { BUILD_PACKAGES, PG_EXTENSION_DIR, PG_MAJOR, RUNTIME_PACKAGES, TUSK_PREFIX } from "../src/core/install/components.js";
import { PGBOUNCER, PGVECTOR } from "../src/core/install/components.js";
import { runCli } from "../test/helpers/cli.js";
import { freePortSet as freePorts } from "../src/core/cluster/free-ports.js";
import { StockPostgres } from "../test/helpers/stock-postgres.js";
import { machineLine, median, printTable, seconds } from "./lib/report.js";

const { values: opts } = parseArgs({
  options: { trials: { type: "string", default: "3" }, reinstall: { type: "boolean", default: false } },
});
const TRIALS = Number(opts.trials);
const log = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);

async function timed(what: string, work: () => Promise<{ code: number; stderr: string }>): Promise<number> {
  const started = performance.now();
  const r = await work();
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}`);
  return performance.now() - started;
}

/** Packages tusk installs that a fresh bookworm machine does not have (build tools are left alone). */
const REMOVABLE = [...RUNTIME_PACKAGES, ...BUILD_PACKAGES].filter((p) => !["openssl", "procps", "util-linux", "build-essential", "dpkg-dev", "pkgconf", "libssl-dev"].includes(p));

async function reinstall(): Promise<number> {
  log(`removing ${REMOVABLE.join(" ")}, pgvector and tusk's PgBouncer`);
  const rm = await run("apt-get", ["remove", "-y", ...REMOVABLE], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (rm.code !== 0) throw new Error(`apt-get remove failed: ${rm.stderr}`);
  rmSync(join(TUSK_PREFIX, "pgbouncer"), { recursive: true, force: true });
  await run("bash", ["-c", `rm -f ${PG_EXTENSION_DIR}/vector.control ${PG_EXTENSION_DIR}/vector--*.sql /usr/lib/postgresql/${PG_MAJOR}/lib/vector.so`]);
  log("timing tusk install");
  return timed("tusk install", () => runCli(["install"]));
}

async function main(): Promise<void> {
  const rows: (string | number)[][] = [];
  const stat = (name: string, ms: number[], note = "") => rows.push([name, ms.length, seconds(median(ms)), seconds(Math.min(...ms)), seconds(Math.max(...ms)), note]);

  if (opts.reinstall)
    stat("tusk install, packages missing", [await reinstall()], `${REMOVABLE.length} Debian packages + pgvector ${PGVECTOR.installedVersion()} + PgBouncer ${PGBOUNCER.installedVersion()} built`);
  stat("tusk install, packages present", [await timed("tusk install", () => runCli(["install"]))], "one dpkg query");

  const first: number[] = [];
  const restart: number[] = [];
  const down: number[] = [];
  for (let t = 0; t < TRIALS; t++) {
    const dir = mkdtempSync(join(tmpdir(), "tusk-bench-startup-"));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, "tusk.yaml"), stringify({ ports: await freePorts() }));
    try {
      log(`trial ${t + 1}: first start`);
      first.push(await timed("tusk up", () => runCli(["--state-dir", dir, "up", "--json"])));
      down.push(await timed("tusk down", () => runCli(["--state-dir", dir, "down"])));
      log(`trial ${t + 1}: restart`);
      restart.push(await timed("tusk up", () => runCli(["--state-dir", dir, "up", "--json"])));
    } finally {
      await runCli(["--state-dir", dir, "destroy", "--yes"]);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  stat("tusk up, first start (new state directory)", first, "etcd, Patroni initdb, settings, roles/db/extensions, archiving check, first full backup, PgBouncer");
  stat("tusk up, restart (existing data)", restart, "");
  stat("tusk down", down, "PgBouncer, Patroni + PostgreSQL, etcd");

  const stockFirst: number[] = [];
  for (let t = 0; t < TRIALS; t++) {
    const port = (await freePorts()).postgres;
    const started = performance.now();
    const pg = await StockPostgres.start(port);
    stockFirst.push(performance.now() - started);
    await pg.stop();
  }
  stat("baseline: bare PostgreSQL, initdb + pg_ctl start", stockFirst, "no pooler, HA, roles or extensions");

  console.log(`\nMachine: ${machineLine()}`);
  console.log(`PostgreSQL ${PG_MAJOR}, PgBouncer ${PGBOUNCER.installedVersion()}, pgvector ${PGVECTOR.installedVersion()}; times are seconds, wall clock, to the command's return (ready).`);
  printTable(`tusk start-up (${TRIALS} trials each)`, ["step", "trials", "median s", "min s", "max s", "note"], rows);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

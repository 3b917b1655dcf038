/**
 * Backup benchmark: a database of about 1.5 GB (pgbench scale 100 plus 768-dimension vectors with an
 * HNSW index) on tusk with its own settings. Times, from one run: full backup, restore (a drill's
 * restore to accepting writes), point-in-time clone, clone of the latest state, a whole drill; and as
 * baselines, pgBackRest with its defaults (gzip, one process) and pg_dump -Fc / pg_restore -j 2.
 *
 *   bash bench/run.sh backup [--scale N] [--vectors N]
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import pg from "pg";
import { run } from "../src/core/exec.js";
import { PG_BIN_DIR, PGBACKREST_BIN } from "../src/core/install/components.js";
import { postgresUser } from "../src/core/os-user.js";
import type { ConnectionStrings } from "../src/core/cluster/connection-strings.js";
import type { BackupCatalog } from "../src/core/backup/catalog.js";
import { runCli } from "../test/helpers/cli.js";
import { freePortSet as freePorts } from "../src/core/cluster/free-ports.js";
import { machineLine, printTable, seconds } from "./lib/report.js";

const { values: opts } = parseArgs({ options: { scale: { type: "string", default: "100" }, vectors: { type: "string", default: "20000" } } });
const log = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);

async function timed<T>(what: string, work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  log(what);
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

async function cli(stateDir: string, ...args: string[]): Promise<string> {
  const r = await runCli(["--state-dir", stateDir, ...args]);
  if (r.code !== 0) throw new Error(`tusk ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

async function main(): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), "tusk-bench-backup-"));
  chmodSync(stateDir, 0o755);
  writeFileSync(join(stateDir, "tusk.yaml"), stringify({ ports: await freePorts() }));
  const user = postgresUser();
  const work = mkdtempSync(join(tmpdir(), "tusk-bench-backup-work-"));
  chmodSync(work, 0o777);
  try {
    log("starting tusk");
    const urls = JSON.parse(await cli(stateDir, "up", "--json")) as ConnectionStrings;
    const superuser = `postgresql://postgres:${readFileSync(join(stateDir, "secrets/superuser.secret"), "utf8").trim()}@127.0.0.1:${new URL(urls.direct).port}`;
    log(`loading pgbench scale ${opts.scale}`);
    const init = await run(`${PG_BIN_DIR}/pgbench`, ["-i", "-q", "-s", opts.scale!, urls.migrations]);
    if (init.code !== 0) throw new Error(init.stderr);
    log(`loading ${opts.vectors} vectors of 768 dimensions and building HNSW`);
    const c = new pg.Client({ connectionString: urls.migrations });
    await c.connect();
    await c.query("CREATE TABLE embeddings (id int PRIMARY KEY, embedding vector(768))");
    await c.query(`INSERT INTO embeddings SELECT i, (SELECT array_agg(random()::real) FROM generate_series(1, 768) WHERE i > 0)::vector FROM generate_series(1, ${Number(opts.vectors)}) i`);
    await c.query("CREATE INDEX ON embeddings USING hnsw (embedding vector_cosine_ops)");
    const size = (await c.query("SELECT pg_database_size(current_database()) AS b")).rows[0].b as string;
    await c.end();

    const full = await timed("tusk backup --type full", () => cli(stateDir, "backup", "--type", "full"));
    const catalog = JSON.parse(await cli(stateDir, "backups", "--json")) as BackupCatalog;
    const latest = catalog.backups.at(-1)!;
    const drill = await timed("tusk drill restore", () => cli(stateDir, "drill", "restore", "--json"));
    const drillResult = JSON.parse(drill.value) as { ok: boolean; restoreSeconds: number };
    const t = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 1000));
    await run(`${PG_BIN_DIR}/psql`, [`${superuser}/postgres`, "-c", "SELECT pg_switch_wal()"]);
    const pitr = await timed("tusk restore --into pitr --time", () => cli(stateDir, "restore", "--into", "pitr", "--time", t, "--json"));
    await cli(`${stateDir}-clones/pitr`, "destroy", "--yes");
    const clone = await timed("tusk restore --into latest", () => cli(stateDir, "restore", "--into", "latest", "--json"));
    await cli(`${stateDir}-clones/latest`, "destroy", "--yes");

    log("baseline: pgBackRest defaults (gzip level 6, one process) into a second repository");
    const conf = join(stateDir, "pgbackrest/pgbackrest.conf");
    const altRepo = join(work, "repo-defaults");
    const asPg = { uid: user.uid, gid: user.gid, cwd: work };
    const altArgs = [`--config=${conf}`, "--stanza=tusk", `--repo1-path=${altRepo}`, `--log-path=${work}`, `--lock-path=${work}`];
    await run(PGBACKREST_BIN, [...altArgs, "stanza-create"], asPg);
    const defaults = await timed("pgbackrest backup, defaults", async () => {
      const r = await run(PGBACKREST_BIN, [...altArgs, "--compress-type=gz", "--compress-level=6", "--process-max=1", "--archive-check=n", "--type=full", "backup"], asPg);
      if (r.code !== 0) throw new Error(r.stderr || r.stdout);
    });
    const dumpFile = join(work, "app.dump");
    const dump = await timed("pg_dump -Fc", async () => {
      const r = await run(`${PG_BIN_DIR}/pg_dump`, ["-Fc", "-f", dumpFile, `${superuser}/app`]);
      if (r.code !== 0) throw new Error(r.stderr);
    });
    await run(`${PG_BIN_DIR}/psql`, [`${superuser}/postgres`, "-c", "CREATE DATABASE restored TEMPLATE template0"]);
    const restore = await timed("pg_restore -j 2", async () => {
      const r = await run(`${PG_BIN_DIR}/pg_restore`, ["-j", "2", "--no-owner", "-d", `${superuser}/restored`, dumpFile]);
      if (r.code !== 0 && !/warning|errors ignored/i.test(r.stderr)) throw new Error(r.stderr);
    });

    const gb = Number(latest.originalBytes) / 1024 ** 3;
    const pgbr = (await run(PGBACKREST_BIN, ["version"])).stdout.trim();
    const settings = readFileSync(conf, "utf8")
      .split("\n")
      .filter((l) => /^(process-max|compress-type|compress-level)=/.test(l))
      .join(", ");
    console.log(`\nMachine: ${machineLine()}`);
    console.log(
      `${pgbr}; PostgreSQL 15. Database ${(Number(size) / 1024 ** 3).toFixed(2)} GB (pgbench scale ${opts.scale} + ${opts.vectors} × 768 vectors with HNSW). tusk's pgBackRest settings: ${settings} — one compression process per core, zstd's fastest level.`,
    );
    printTable(
      "Backup and restore, one run",
      ["operation", "seconds", "note"],
      [
        [
          "tusk: full backup, pgBackRest's own start → stop",
          String(latest.durationSeconds),
          `whole seconds, from pgBackRest's record; ${((gb * 1024) / Math.max(1, latest.durationSeconds)).toFixed(0)} MB/s; ${(Number(latest.repositoryBytes) / 1024 ** 2).toFixed(0)} MB in the repository`,
        ],
        ["tusk: `tusk backup --type full`, whole command", seconds(full.ms), "also records the drill baseline (row counts of every table, restore point) and applies retention"],
        ["tusk: restore to accepting writes (drill)", drillResult.restoreSeconds.toFixed(1), "pgbackrest restore + start + recovery to the recorded restore point"],
        ["tusk: whole drill", seconds(drill.ms), `verify, restore, amcheck, row counts — ${drillResult.ok ? "passed" : "FAILED"}`],
        ["tusk: point-in-time clone (restore --into --time)", seconds(pitr.ms), "a whole new cluster: restore, recovery, Patroni, roles check, its own first backup, PgBouncer"],
        ["tusk: clone of the latest state", seconds(clone.ms), "as above, replaying all archived WAL"],
        ["baseline: pgBackRest defaults (gzip, 1 process)", seconds(defaults.ms), "full backup of the same database"],
        ["baseline: pg_dump -Fc", seconds(dump.ms), ""],
        ["baseline: pg_restore -j 2", seconds(restore.ms), "into an empty database"],
      ],
    );
  } finally {
    await runCli(["--state-dir", stateDir, "destroy", "--yes"]);
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(`${stateDir}-clones`, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

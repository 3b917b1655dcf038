import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { postgresUser } from "../os-user.js";
import type { Progress } from "../progress.js";
import { readSecret } from "../secrets.js";
import { ensureDir, writeAtomic, type StatePaths } from "../state-dir.js";
import { summarize } from "./catalog.js";
import { primaryRepository } from "../generate/pgbackrest-config.js";
import { drillTarget, readBaseline } from "./drill-baseline.js";
import { pgbackrestFor, type BackupTarget } from "./operations.js";
import { ScratchPostgres } from "./scratch-postgres.js";

export interface DrillCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DrillResult {
  startedAt: string;
  ok: boolean;
  backupLabel: string | null;
  /** Seconds from the start of the restore until the copy accepted writes. */
  restoreSeconds: number | null;
  /** How old the restored state was when the drill ran (seconds). */
  restoredStateAgeSeconds: number | null;
  checks: DrillCheck[];
}

const HISTORY_LIMIT = 100;
const historyFile = (paths: StatePaths) => join(paths.root, "drills", "history.json");

export function drillHistory(paths: StatePaths): DrillResult[] {
  return existsSync(historyFile(paths)) ? (JSON.parse(readFileSync(historyFile(paths), "utf8")) as DrillResult[]) : [];
}

function record(paths: StatePaths, result: DrillResult): void {
  mkdirSync(join(paths.root, "drills"), { recursive: true, mode: 0o700 });
  writeAtomic(historyFile(paths), `${JSON.stringify([...drillHistory(paths), result].slice(-HISTORY_LIMIT), null, 2)}\n`, 0o600);
}

/**
 * A restore drill: proves the latest backup restores. Verifies the repository (pgbackrest verify),
 * restores the latest backup into a scratch instance up to the restore point recorded after it,
 * starts it, runs amcheck on every B-tree index, compares every table's row count with the counts
 * recorded after the backup, records the time to restore and the age of the restored state, keeps a
 * history, and removes the scratch instance. A failed drill is a result (ok: false), not an error.
 */
export async function runDrill(cluster: BackupTarget, progress: Progress): Promise<DrillResult> {
  const { paths, config } = cluster;
  const user = postgresUser();
  const pgbackrest = pgbackrestFor(cluster);
  const result: DrillResult = { startedAt: new Date().toISOString(), ok: false, backupLabel: null, restoreSeconds: null, restoredStateAgeSeconds: null, checks: [] };
  const check = (name: string, ok: boolean, detail: string) => result.checks.push({ name, ok, detail });
  ensureDir(paths.scratchDir, 0o755); // postgres must traverse it to its own 0700 scratch directory
  const scratchDir = join(paths.scratchDir, `drill-${Date.now()}`);
  let scratch: ScratchPostgres | undefined;
  try {
    const backups = summarize(await pgbackrest.info(), primaryRepository(cluster.config));
    const latest = backups[backups.length - 1];
    if (!latest) {
      check("backup exists", false, "there is no backup to restore");
      return result;
    }
    result.backupLabel = latest.label;

    // check switches to a new WAL segment and waits until it is archived: the restore point
    // recorded after the backup is then in the repository.
    let step = progress.step("Checking archiving and verifying the repository (pgbackrest check, verify)");
    const archiving = await pgbackrest.run("check");
    check("archiving", archiving.code === 0, archiving.code === 0 ? "WAL reaches the repository" : (archiving.stderr || archiving.stdout).trim().split("\n").slice(-3).join("\n"));
    // pgBackRest 2.45's verify reports damage at INFO level ("invalid checksum 'LABEL/pg_data/…'",
    // "status: error") and still exits 0, so its report is read, not only its exit code.
    const verify = await pgbackrest.run("verify", ["--log-level-console=info"]);
    const verifyProblems = (verify.stdout + verify.stderr)
      .split("\n")
      .filter((l) => /\b(ERROR|WARN):|invalid checksum|checksum invalid|size invalid|missing|status: (error|invalid)/.test(l))
      .map((l) => l.replace(/^\S+ \S+ P\d+\s+\w+: /, "").trim());
    check("repository verify", verify.code === 0 && verifyProblems.length === 0, verifyProblems.length ? verifyProblems.slice(0, 10).join("\n") : "all files match their checksums");
    result.checks.every((x) => x.ok) ? step.done() : step.fail();

    const baseline = readBaseline(paths, latest.label);
    const target = drillTarget(baseline);
    step = progress.step(`Restoring ${latest.label} into a scratch instance`);
    const started = Date.now();
    try {
      scratch = await ScratchPostgres.restore(scratchDir, user, [`--config=${paths.pgbackrestConfig}`, `--stanza=${config.cluster_name}`, `--set=${latest.label}`, ...target]);
      await scratch.start();
      await scratch.waitPromoted(readSecret(paths, "superuser"), config.database);
      result.restoreSeconds = (Date.now() - started) / 1000;
      check("restore and start", true, `accepted writes ${result.restoreSeconds.toFixed(1)} s after the restore began`);
      step.done();
    } catch (e) {
      check("restore and start", false, `${(e as Error).message}\n${(e as { detail?: string }).detail ?? ""}`.trim());
      step.fail();
      return result;
    }
    const restoredAt = baseline ? Date.parse(baseline.recordedAt) : Date.parse(latest.endedAt);
    result.restoredStateAgeSeconds = Math.round((Date.now() - restoredAt) / 1000);

    step = progress.step("Checking indexes (amcheck) and row counts");
    const c = await scratch.connect(readSecret(paths, "superuser"), config.database);
    try {
      await c.query("CREATE EXTENSION IF NOT EXISTS amcheck");
      const indexes = (await c.query<{ index_name: string }>(readFileSync(new URL("./sql/btree-indexes.sql", import.meta.url), "utf8"))).rows;
      const broken: string[] = [];
      for (const { index_name } of indexes) {
        try {
          await c.query("SELECT bt_index_check($1::regclass, true)", [index_name]);
        } catch (e) {
          broken.push(`${index_name}: ${(e as Error).message}`);
        }
      }
      check("amcheck", broken.length === 0, broken.length ? broken.join("\n") : `${indexes.length} B-tree indexes verified with their heap`);
      if (baseline) {
        const mismatches: string[] = [];
        let compared = 0;
        for (const [table, expected] of Object.entries(baseline.counts)) {
          if (baseline.changedWhileRecorded.includes(table)) continue;
          const got = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`).then(
            (r) => Number(r.rows[0]!.n),
            (e: Error) => `error: ${e.message}`,
          );
          compared++;
          if (got !== expected) mismatches.push(`${table}: ${got} rows, ${expected} recorded after the backup`);
        }
        const tooLarge = baseline.tooLargeToCount?.length ?? 0;
        const skipped =
          (baseline.changedWhileRecorded.length ? `; ${baseline.changedWhileRecorded.length} written while recorded, not compared` : "") +
          (tooLarge ? `; ${tooLarge} over 2 GB not counted (${baseline.tooLargeToCount!.slice(0, 5).join(", ")})` : "");
        check("row counts", mismatches.length === 0, mismatches.length ? mismatches.join("\n") : `${compared} tables match${skipped}`);
      } else {
        check("row counts", true, "no counts were recorded for this backup; restored to its end instead");
      }
    } finally {
      await c.end();
    }
    step.done();
    result.ok = result.checks.every((x) => x.ok);
    return result;
  } finally {
    if (scratch) await scratch.destroy();
    else rmSync(scratchDir, { recursive: true, force: true });
    if (result.checks.length) {
      result.ok = result.checks.every((x) => x.ok);
      record(paths, result);
    }
  }
}

import { mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { run, tail, type RunResult } from "../exec.js";
import { TuskError } from "../errors.js";
import { PG_BIN_DIR } from "../install/components.js";
import { ROLES } from "../endpoints.js";
import type { Progress } from "../progress.js";
import { readSecret } from "../secrets.js";
import { readPrimary } from "../cluster/nodes.js";
import type { BackupTarget } from "./operations.js";

/**
 * Logical backups for portability: pg_dump in custom format out of tusk, and pg_dump | pg_restore
 * into tusk — the way users migrate in. Imported objects are created as the owner role (so the
 * application role gets its default privileges), without the source's owners and grants.
 */
function superuserUrl(target: BackupTarget): string {
  return `postgresql://${ROLES.superuser}:${encodeURIComponent(readSecret(target.paths, "superuser"))}@127.0.0.1:${readPrimary(target.config, target.paths).port}/${target.config.database}`;
}

function failed(what: string, stderr: string): TuskError {
  return new TuskError("ProcessFailed", `${what} failed.`, { detail: tail(stderr, 10), hint: "Fix what the messages above say, then run the command again." });
}

/** pg_dump -Fc into `file` as one progress step, naming each table as it is dumped. */
async function pgDump(label: string, args: string[], file: string, progress: Progress): Promise<RunResult> {
  const step = progress.step(label);
  const r = await run(`${PG_BIN_DIR}/pg_dump`, ["-Fc", "--verbose", "-f", file, ...args], {
    onErrorLine: (l) => {
      const m = /dumping contents of table "([^"]+)"/.exec(l);
      if (m) step.update(m[1]!);
    },
  });
  if (r.code === 0) step.done();
  else step.fail();
  return r;
}

/** pg_dump -Fc of the application database (or chosen tables) into `file`, reporting each table. */
export async function dumpDatabase(target: BackupTarget, file: string, tables: string[], progress: Progress): Promise<void> {
  const label = `Dumping ${tables.length ? tables.join(", ") : `database ${target.config.database}`} to ${file}`;
  const r = await pgDump(label, [...tables.map((t) => `--table=${t}`), superuserUrl(target)], file, progress);
  if (r.code !== 0) throw failed("pg_dump", r.stderr);
}

/** Extensions a dump needs, from its table of contents ("…; 3079 … EXTENSION - vector"). */
export function extensionsInToc(toc: string): string[] {
  return [...toc.matchAll(/^\d+; \d+ \d+ EXTENSION - (\S+)/gm)].map((m) => m[1]!);
}

/** The table of contents without extension entries (tusk creates those as superuser beforehand). */
export function tocWithoutExtensions(toc: string): string {
  return toc
    .split("\n")
    .filter((l) => !/ EXTENSION - | COMMENT - EXTENSION /.test(l))
    .join("\n");
}

/**
 * Restores a custom-format dump into the application database with `jobs` parallel workers:
 * extensions first (as superuser), then everything else as the owner role, without the source's
 * owners and privileges.
 */
export async function restoreDump(target: BackupTarget, file: string, jobs: number, progress: Progress): Promise<void> {
  const list = await run(`${PG_BIN_DIR}/pg_restore`, ["-l", file]);
  if (list.code !== 0) throw new TuskError("Usage", `${file} is not a pg_dump custom-format file.`, { detail: tail(list.stderr, 3), hint: "Give a file made by `pg_dump -Fc` or `tusk dump`." });
  const work = mkdtempSync(join(target.paths.root, "import-"));
  chmodSync(work, 0o700);
  try {
    for (const ext of extensionsInToc(list.stdout)) {
      const r = await run(`${PG_BIN_DIR}/psql`, [superuserUrl(target), "-v", "ON_ERROR_STOP=1", "-qc", `CREATE EXTENSION IF NOT EXISTS "${ext.replace(/"/g, '""')}" CASCADE`]);
      if (r.code !== 0) throw failed(`Creating extension ${ext}`, r.stderr);
    }
    const listFile = join(work, "toc.list");
    writeFileSync(listFile, tocWithoutExtensions(list.stdout));
    const step = progress.step(`Restoring ${file} with ${jobs} parallel jobs`);
    const r = await run(
      `${PG_BIN_DIR}/pg_restore`,
      ["--verbose", "--no-owner", "--no-privileges", `--role=${ROLES.owner}`, "--exit-on-error", "-j", String(jobs), "-L", listFile, "-d", superuserUrl(target), file],
      {
        onErrorLine: (l) => {
          const m = /(processing item \d+ \w+ [^\n]+|creating \w+ "[^"]+")/.exec(l);
          if (m) step.update(m[1]!.slice(0, 60));
        },
      },
    );
    if (r.code !== 0) {
      step.fail();
      throw failed("pg_restore", r.stderr);
    }
    step.done();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Imports from a running PostgreSQL: pg_dump from its connection string, then a parallel restore. */
export async function importFrom(target: BackupTarget, sourceUrl: string, jobs: number, progress: Progress): Promise<void> {
  const work = mkdtempSync(join(target.paths.root, "import-"));
  chmodSync(work, 0o700);
  const file = join(work, "source.dump");
  try {
    const r = await pgDump("Dumping the source database (pg_dump -Fc)", [sourceUrl], file, progress);
    if (r.code !== 0) {
      throw new TuskError("ProcessFailed", "Could not dump the source database.", {
        detail: tail(r.stderr, 5),
        hint: "Check the connection string (host, port, user, password, database) and that the source accepts the connection.",
      });
    }
    await restoreDump(target, file, jobs, progress);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, tail, type RunResult } from "../exec.js";
import { TuskError } from "../errors.js";
import type { ProgressStep } from "../progress.js";
import { configuredDebianMirror, privateAptOptions } from "./apt.js";
import { PG_CONFIG, TUSK_PREFIX, type SourceComponent } from "./components.js";

function check(r: RunResult, what: string, logFile: string): void {
  if (r.code !== 0) {
    throw new TuskError("InstallFailed", `${what} failed.`, {
      detail: tail(r.stderr || r.stdout),
      hint: `See ${logFile} for the whole output; fix what it shows, then run tusk up again.`,
    });
  }
}

/**
 * Fetches a Debian source package from another suite (with Debian's patches applied by dpkg-source)
 * into a fresh directory and returns the unpacked source tree and its upstream version.
 */
async function fetchSource(component: SourceComponent, step: ProgressStep, logFile: string): Promise<{ dir: string; version: string; workDir: string }> {
  const workDir = mkdtempSync(join(tmpdir(), `tusk-${component.sourcePackage}-`));
  const opts = privateAptOptions(workDir, configuredDebianMirror(), component.suite);
  step.update(`fetching ${component.suite} source list`);
  check(await run("apt-get", [...opts, "update"], { logFile }), `apt-get update for ${component.suite} sources`, logFile);
  step.update(`fetching source package ${component.sourcePackage}`);
  check(await run("apt-get", [...opts, "source", component.sourcePackage], { cwd: workDir, logFile }), `apt-get source ${component.sourcePackage}`, logFile);
  const unpacked = readdirSync(workDir).find((d) => d.startsWith(`${component.sourcePackage}-`));
  if (!unpacked) {
    throw new TuskError("InstallFailed", `The ${component.sourcePackage} source package did not unpack.`, {
      hint: `See ${logFile}; run tusk up again.`,
    });
  }
  return { dir: join(workDir, unpacked), version: unpacked.slice(component.sourcePackage.length + 1), workDir };
}

/** pgvector from Debian's source package, built against PostgreSQL's pg_config (portable flags, as Debian does). */
export async function buildPgvector(component: SourceComponent, step: ProgressStep, logFile: string): Promise<string> {
  const { dir, version, workDir } = await fetchSource(component, step, logFile);
  try {
    // Debian's packaging passes OPTFLAGS= to drop -march=native; pgvector dispatches SIMD at run time.
    const args = [`PG_CONFIG=${PG_CONFIG}`, "with_llvm=no", "OPTFLAGS="];
    step.update(`compiling pgvector ${version}`);
    check(await run("make", ["-j2", ...args], { cwd: dir, logFile }), "Building pgvector", logFile);
    step.update(`installing pgvector ${version}`);
    check(await run("make", ["install", ...args], { cwd: dir, logFile }), "Installing pgvector", logFile);
    return version;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** PgBouncer from Debian's source package into tusk's own prefix (the system's pgbouncer is left alone). */
export async function buildPgbouncer(component: SourceComponent, step: ProgressStep, logFile: string): Promise<string> {
  const { dir, version, workDir } = await fetchSource(component, step, logFile);
  const prefix = join(TUSK_PREFIX, "pgbouncer");
  try {
    step.update(`configuring pgbouncer ${version}`);
    check(await run("./configure", [`--prefix=${prefix}`, "--with-cares", "--with-openssl", "--without-pam", "--without-systemd"], { cwd: dir, logFile }), "Configuring PgBouncer", logFile);
    step.update(`compiling pgbouncer ${version}`);
    check(await run("make", ["-j2"], { cwd: dir, logFile }), "Building PgBouncer", logFile);
    step.update(`installing pgbouncer ${version}`);
    check(await run("make", ["install"], { cwd: dir, logFile }), "Installing PgBouncer", logFile);
    mkdirSync(prefix, { recursive: true });
    writeFileSync(join(prefix, "VERSION"), `${version}\n`);
    return version;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

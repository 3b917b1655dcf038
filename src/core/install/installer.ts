import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { TuskError } from "../errors.js";
import { withStep, type Progress } from "../progress.js";
import { aptInstall, missingPackages } from "./apt.js";
import { BUILD_PACKAGES, PGBOUNCER, PGVECTOR, RUNTIME_PACKAGES, versionAtLeast, type SourceComponent } from "./components.js";
import { buildPgbouncer, buildPgvector } from "./source-build.js";

export interface InstallPlan {
  packages: string[];
  sources: SourceComponent[];
}

/** What is missing from this machine: Debian packages and source-built components. */
export async function planInstall(extra: readonly string[] = []): Promise<InstallPlan> {
  const sources = [PGVECTOR, PGBOUNCER].filter((c) => {
    const v = c.installedVersion();
    return v === undefined || !versionAtLeast(v, c.minimumVersion);
  });
  const wanted: string[] = [...RUNTIME_PACKAGES, ...extra];
  if (sources.length > 0) wanted.push(...BUILD_PACKAGES);
  return { packages: await missingPackages(wanted), sources };
}

export function describePlan(plan: InstallPlan): string {
  const parts: string[] = [];
  if (plan.packages.length) parts.push(`Debian packages: ${plan.packages.join(", ")}`);
  for (const s of plan.sources) parts.push(`${s.sourcePackage} ≥ ${s.minimumVersion} (built from Debian ${s.suite}'s source package)`);
  return parts.join("; ");
}

/** Only root can install; anyone else is told exactly what is missing. */
export function requireRootToInstall(plan: InstallPlan, isRoot: boolean): void {
  if (isRoot || (plan.packages.length === 0 && plan.sources.length === 0)) return;
  throw new TuskError("NotRoot", `Missing: ${describePlan(plan)}, and only root can install them.`, {
    hint: "Run tusk up as root (for example with sudo); it installs what is missing itself.",
  });
}

/**
 * Debian's postgresql package creates and starts a "main" cluster on port 5432 when installed; tusk
 * runs its own, so it tells pg_createcluster not to (createcluster.conf's create_main_cluster,
 * read from the drop-in directory postgresql-common includes).
 */
function preventDebianMainCluster(): void {
  const dir = "/etc/postgresql-common/createcluster.d";
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/tusk.conf`, "# Written by tusk: it runs its own clusters, so Debian's default one is not created.\ncreate_main_cluster = false\n");
}

/**
 * Installs whatever is missing. Safe to run again: a complete machine costs one dpkg query.
 * Only root can install; anyone else is told what is missing.
 */
export async function ensureInstalled(progress: Progress, logFile: string, isRoot: boolean, extra: readonly string[] = []): Promise<InstallPlan> {
  const plan = await planInstall(extra);
  if (plan.packages.length === 0 && plan.sources.length === 0) return plan;
  requireRootToInstall(plan, isRoot);
  mkdirSync(dirname(logFile), { recursive: true });
  if (plan.packages.some((p) => p.startsWith("postgresql"))) preventDebianMainCluster();
  if (plan.packages.length) {
    await withStep(progress, `Installing ${plan.packages.length} Debian packages`, (step) => aptInstall(plan.packages, step, logFile));
  }
  for (const component of plan.sources) {
    const build = component === PGVECTOR ? buildPgvector : buildPgbouncer;
    await withStep(progress, `Building ${component.sourcePackage} from Debian ${component.suite} source`, (step) => build(component, step, logFile));
  }
  return plan;
}

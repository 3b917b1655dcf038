import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { TUSK_PREFIX } from "./components.js";
import { TUSK_VERSION, writeAtomic, type StatePaths } from "../state-dir.js";
import { TuskError } from "../errors.js";
import type { Progress } from "../progress.js";

/**
 * A running cluster never executes or reads the checkout it was started from: the supervisor, the
 * Patroni callback, the dashboard's files and the SQL files run from a release, a copy of tusk's
 * built code and production dependencies under TUSK_PREFIX/releases/<id>, where <id> is the version
 * and a hash of that code. `tusk up` installs the checkout's release when it is missing, records in
 * the state directory which release runs, starts the supervisor from it, and removes releases no
 * cluster on the machine records any more. A checkout moved or deleted afterwards changes nothing.
 */
export const RELEASES_DIR = join(TUSK_PREFIX, "releases");

/** The root of the code running now: a checkout, or a release (both hold dist/src and package files). */
const CODE_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
/** Marks a release copied completely (a copy is made beside it and renamed into place). */
const COMPLETE = ".complete";
/** One file per state directory that runs the release, naming it: prune reads these. */
const USERS = "clusters";

export interface Release {
  id: string;
  dir: string;
}

/** What a state directory records about the release its supervisor runs. */
export interface ReleaseRecord extends Release {
  startedAt: string;
}

const releaseFile = (paths: StatePaths) => join(paths.root, "release.json");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

let current: Release | undefined;

/** The release of the code running now: the version, and a hash of dist/src and package-lock.json. */
export function currentRelease(): Release {
  if (current) return current;
  const hash = createHash("sha256");
  const src = join(CODE_ROOT, "dist", "src");
  for (const f of [...files(src).sort(), join(CODE_ROOT, "package-lock.json")]) {
    hash.update(relative(CODE_ROOT, f)).update("\0").update(readFileSync(f)).update("\0");
  }
  const id = `${TUSK_VERSION}-${hash.digest("hex").slice(0, 12)}`;
  current = { id, dir: join(RELEASES_DIR, id) };
  return current;
}

/** The production dependencies' folders under node_modules, from package-lock.json (dev-only ones left out). */
function productionModules(root: string): string[] {
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([path, p]) => path.startsWith("node_modules/") && !p.dev && !p.devOptional)
    .map(([path]) => path)
    .filter((path) => !path.slice("node_modules/".length).includes("/node_modules/")) // nested ones come with their parent
    .filter((path) => existsSync(join(root, path)));
}

const userEntry = (paths: StatePaths) => createHash("sha256").update(paths.root).digest("hex").slice(0, 16);

/**
 * Installs the running code's release if missing (copied beside it, then renamed into place, so
 * two clusters starting at once never see half of one) and registers `paths` as its user.
 */
export function installRelease(paths: StatePaths, progress: Progress): Release {
  const release = currentRelease();
  const register = (dir: string) => {
    mkdirSync(join(dir, USERS), { recursive: true });
    writeFileSync(join(dir, USERS, userEntry(paths)), `${paths.root}\n`);
  };
  if (existsSync(join(release.dir, COMPLETE))) {
    register(release.dir);
    return release;
  }
  const step = progress.step(`Installing tusk release ${release.id} into ${RELEASES_DIR}`);
  mkdirSync(RELEASES_DIR, { recursive: true, mode: 0o755 });
  const tmp = join(RELEASES_DIR, `.tmp-${release.id}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    cpSync(join(CODE_ROOT, "dist", "src"), join(tmp, "dist", "src"), { recursive: true });
    for (const f of ["package.json", "package-lock.json"]) cpSync(join(CODE_ROOT, f), join(tmp, f));
    for (const m of productionModules(CODE_ROOT)) cpSync(join(CODE_ROOT, m), join(tmp, m), { recursive: true, dereference: true });
    register(tmp);
    writeFileSync(join(tmp, COMPLETE), `${new Date().toISOString()}\n`);
    try {
      renameSync(tmp, release.dir);
    } catch (e) {
      if (!existsSync(join(release.dir, COMPLETE))) throw e;
      register(release.dir); // another start installed it meanwhile
    }
    step.done();
  } catch (e) {
    step.fail();
    throw new TuskError("InstallFailed", `Could not install tusk release ${release.id} into ${RELEASES_DIR}: ${(e as Error).message}.`, {
      hint: "Check that the disk has room and that tusk runs as root, then run tusk up again.",
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return release;
}

export function readReleaseRecord(paths: StatePaths): ReleaseRecord | undefined {
  try {
    return JSON.parse(readFileSync(releaseFile(paths), "utf8")) as ReleaseRecord;
  } catch {
    return undefined;
  }
}

export function writeReleaseRecord(paths: StatePaths, release: Release): void {
  writeAtomic(releaseFile(paths), `${JSON.stringify({ ...release, startedAt: new Date().toISOString() }, null, 2)}\n`, 0o644);
}

/** The supervisor's entry point inside a release. */
export const supervisorMain = (release: Pick<Release, "dir">) => join(release.dir, "dist", "src", "core", "supervisor", "main.js");

/** The keeper's entry point inside a release (it restarts the supervisor where systemd does not). */
export const keeperMain = (release: Pick<Release, "dir">) => join(release.dir, "dist", "src", "core", "supervisor", "keeper-main.js");

/**
 * Removes every release but `keep` that no state directory on the machine records any more (its
 * users' state directories are gone, or record another release). A user whose state directory
 * exists but has no record yet keeps it: it is starting on it. Returns the ids removed.
 */
export function pruneReleases(keep: Release): string[] {
  if (!existsSync(RELEASES_DIR)) return [];
  const removed: string[] = [];
  for (const id of readdirSync(RELEASES_DIR)) {
    if (id === keep.id || id.startsWith(".tmp-")) continue;
    // Another `tusk up` may be pruning the same release at the same moment (tests start clusters two
    // at a time): what it removed first is gone, not an error.
    try {
      if (pruneRelease(id)) removed.push(id);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  return removed;
}

/** Removes release `id` unless a state directory uses it; whether it removed it. */
function pruneRelease(id: string): boolean {
  const dir = join(RELEASES_DIR, id);
  if (!statSync(dir).isDirectory()) return false;
  const usersDir = join(dir, USERS);
  const users = existsSync(usersDir) ? readdirSync(usersDir) : [];
  let inUse = false;
  for (const u of users) {
    let root: string;
    try {
      root = readFileSync(join(usersDir, u), "utf8").trim();
    } catch {
      continue; // removed meanwhile by another prune
    }
    const recordFile = join(root, "release.json");
    let record: ReleaseRecord | undefined;
    try {
      record = JSON.parse(readFileSync(recordFile, "utf8")) as ReleaseRecord;
    } catch {
      record = undefined;
    }
    // A state directory that exists without a record yet is starting on this release (or is
    // out of this process's sight, in another mount namespace): it keeps the release.
    if (record?.id === id || (record === undefined && existsSync(root) && !existsSync(recordFile))) inUse = true;
    else rmSync(join(usersDir, u), { force: true });
  }
  if (inUse) return false;
  rmSync(dir, { recursive: true, force: true });
  return true;
}

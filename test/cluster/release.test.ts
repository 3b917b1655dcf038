import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { freePortSet } from "../../src/core/cluster/free-ports.js";
import { currentRelease, RELEASES_DIR, type ReleaseRecord } from "../../src/core/install/release.js";
import type { SupervisorStatus } from "../../src/core/supervisor/status.js";
import { runCli } from "../helpers/cli.js";
import { sleep } from "../helpers/backup-tools.js";
import { pidIn, writer } from "../helpers/crash-tools.js";
import { writeTestConfig } from "../helpers/test-cluster.js";

/**
 * A running cluster executes nothing from the checkout it was started from: started from a copy of
 * this checkout that is then moved away, its supervisor, Patroni's callbacks (a switchover) and a
 * restart keep working from the installed release; a release no state directory records is removed.
 */
const CHECKOUT = fileURLToPath(new URL("../../../", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "tusk-release-"));
chmodSync(work, 0o755); // the postgres OS user reaches the state directory inside it
const first = join(work, "checkout");
const moved = join(work, "moved-checkout");
const stateDir = join(work, "state");
let checkout = first;
const cli = (...args: string[]) => runCli(["--state-dir", stateDir, ...args], { cliMain: join(checkout, "dist/src/cli/main.js") });
const stale = join(RELEASES_DIR, `0.0.0-stale-${process.pid}`);
/** The release the control-plane update installs (removed after the file). */
let newRelease: string | undefined;

async function status(): Promise<SupervisorStatus> {
  const r = await cli("status", "--json");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as SupervisorStatus;
}

const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");

before(async () => {
  // A copy of this checkout as a user has one: the built code and the package files.
  mkdirSync(join(first, "dist"), { recursive: true });
  cpSync(join(CHECKOUT, "dist/src"), join(first, "dist/src"), { recursive: true });
  for (const f of ["package.json", "package-lock.json"]) cpSync(join(CHECKOUT, f), join(first, f));
  symlinkSync(join(CHECKOUT, "node_modules"), join(first, "node_modules"));
  mkdirSync(stateDir);
  writeTestConfig(stateDir, await freePortSet(), { replicas: 1 });
  // A release that no state directory records any more (its cluster's directory is gone).
  mkdirSync(join(stale, "clusters"), { recursive: true });
  writeFileSync(join(stale, "clusters", "gone"), `${join(work, "no-such-state-dir")}\n`);
  const up = await cli("up", "--json");
  assert.equal(up.code, 0, `${up.stderr}\n${up.stdout}`);
});

after(async () => {
  if (existsSync(join(stateDir, "tusk-state.json"))) await cli("destroy", "--yes");
  rmSync(work, { recursive: true, force: true });
  rmSync(stale, { recursive: true, force: true });
  if (newRelease && newRelease !== currentRelease().id) rmSync(join(RELEASES_DIR, newRelease), { recursive: true, force: true });
});

test("up installs the checkout's release, records it, runs the supervisor from it, and removes releases nobody records", async () => {
  const record = JSON.parse(readFileSync(join(stateDir, "release.json"), "utf8")) as ReleaseRecord;
  assert.equal(record.id, currentRelease().id, "the copy's release is this checkout's (same code)");
  assert.equal(record.dir, join(RELEASES_DIR, record.id));
  assert.ok(existsSync(join(record.dir, "dist/src/core/supervisor/main.js")));
  assert.ok(existsSync(join(record.dir, "node_modules/pg")), "production dependencies");
  assert.equal(existsSync(join(record.dir, "node_modules/playwright-core")), false, "no development dependency");
  const s = await status();
  assert.equal(s.supervisor.release, record.id);
  assert.match(cmdline(s.supervisor.pid), new RegExp(`${record.dir}/dist/src/core/supervisor/main\\.js`));
  assert.doesNotMatch(cmdline(s.supervisor.pid), new RegExp(first));
  assert.doesNotMatch(readFileSync(join(stateDir, "patroni/patroni.yml"), "utf8"), new RegExp(first), "Patroni's callbacks are not in the checkout");
  assert.equal(existsSync(stale), false, "the stale release was removed");
});

test("with the checkout moved away, a switchover (Patroni's callback) and a restart still work", async () => {
  renameSync(first, moved);
  checkout = moved;
  const before = await status();
  assert.equal(before.replication.primary, "pg1");
  const sw = await cli("switchover", "--json");
  assert.equal(sw.code, 0, sw.stderr);
  const after = await status();
  assert.equal(after.replication.primary, "pg2");
  // The pooled string follows the new primary: Patroni's on_role_change callback reached the supervisor.
  const urls = JSON.parse((await cli("up", "--json")).stdout) as { pooled: string };
  const c = new pg.Client({ connectionString: urls.pooled });
  await c.connect();
  try {
    const r = await c.query<{ port: number; recovery: boolean }>("SELECT current_setting('port')::int AS port, pg_is_in_recovery() AS recovery");
    assert.equal(r.rows[0]!.recovery, false);
    assert.equal(r.rows[0]!.port, after.replication.nodes.find((n) => n.name === "pg2")!.postgresPort);
  } finally {
    await c.end();
  }
  const down = await cli("down");
  assert.equal(down.code, 0, down.stderr);
  const up = await cli("up", "--json");
  assert.equal(up.code, 0, up.stderr);
  const again = await status();
  assert.equal(again.phase, "ready");
  assert.equal(again.supervisor.release, currentRelease().id);
});

test("a control-plane update under a writer (tusk up from a checkout with other code): the supervisor is replaced, PostgreSQL is not restarted, and no write fails", async () => {
  const urls = JSON.parse((await cli("up", "--json")).stdout) as { pooled: string; migrations: string };
  const owner = new pg.Client({ connectionString: urls.migrations });
  await owner.connect();
  await owner.query("CREATE TABLE writes (id bigserial PRIMARY KEY, at timestamptz NOT NULL)");
  await owner.end();
  const before = await status();
  const postmasters = () => [join(stateDir, "postgresql/data/postmaster.pid"), join(stateDir, "nodes/pg2/data/postmaster.pid")].map(pidIn);
  const pgBefore = postmasters();
  const keeperBefore = pidIn(join(stateDir, "run/keeper.pid"));
  // Other code: a new release.
  writeFileSync(join(checkout, "dist/src/release-test-marker.js"), "export {};\n");
  const w = writer(urls.pooled, "writes");
  await sleep(1000);
  const up = await cli("up");
  await sleep(1000);
  const written = await w.stop();
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout + up.stderr, /Updating tusk's control plane from release \S+ to \S+ \(PostgreSQL keeps running\)/);
  assert.equal(written.errors, 0, `write errors: ${written.firstError}`);
  assert.ok(written.ok > 20, `${written.ok} writes`);
  const after = await status();
  newRelease = after.supervisor.release;
  assert.notEqual(newRelease, before.supervisor.release);
  assert.notEqual(after.supervisor.pid, before.supervisor.pid);
  assert.equal(after.phase, "ready");
  assert.deepEqual(postmasters(), pgBefore, "no PostgreSQL was restarted");
  const keeper = pidIn(join(stateDir, "run/keeper.pid"));
  assert.notEqual(keeper, keeperBefore, "the new release's keeper took over");
  assert.match(cmdline(keeper), new RegExp(`${join(RELEASES_DIR, newRelease)}/dist/src/core/supervisor/keeper-main\\.js`));
  assert.match(cmdline(after.supervisor.pid), new RegExp(`${join(RELEASES_DIR, newRelease)}/dist/src/core/supervisor/main\\.js`));
  console.log(`control-plane update: ${written.ok} writes through it, 0 errors`);
});

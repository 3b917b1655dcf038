import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { normalizeParameter } from "../../src/core/supervisor/supervisor.js";
import { decideRestarts } from "../../src/core/supervisor/restart-decision.js";
import { checkResources } from "../../src/core/cluster/preflight.js";
import { requireRootToInstall } from "../../src/core/install/installer.js";
import { PGVECTOR } from "../../src/core/install/components.js";
import { versionAtLeast } from "../../src/core/install/components.js";
import { isAlive, stopEscalating } from "../../src/core/processes/pid-file.js";
import { TuskError, ExitCode } from "../../src/core/errors.js";
import { GiB } from "../../src/core/config/units.js";

const primary = { state: "running", role: "master" };

test("supervision decisions are sentences: healthy, restart now, wait for back-off", () => {
  assert.deepEqual(decideRestarts([], new Map(), 1000, primary), { restartNow: [], healthy: true, sentence: "no action: all processes are up and PostgreSQL is primary" });
  const d = decideRestarts(["pgbouncer", "etcd"], new Map([["etcd", 5000]]), 1000, primary);
  assert.deepEqual(d.restartNow, ["pgbouncer"]);
  assert.equal(d.healthy, false);
  assert.equal(d.sentence, "restarting pgbouncer; waiting to restart etcd (back-off)");
  const pgDown = decideRestarts([], new Map(), 1000, { state: "starting", role: "master" });
  assert.match(pgDown.sentence, /PostgreSQL is starting; Patroni restarts it/);
  assert.match(decideRestarts([], new Map(), 0, undefined).sentence, /unreachable through Patroni/);
});

test("etcd silent: status explains whether failsafe mode is holding the primary", () => {
  const early = decideRestarts([], new Map(), 5000, { state: "running", role: "master" }, 1000);
  assert.equal(early.healthy, false);
  assert.match(early.sentence, /^etcd has not answered for 4 s, so Patroni cannot renew the leader lock; PostgreSQL is primary/);
  const held = decideRestarts([], new Map(), 21_000, { state: "running", role: "master", failsafe_mode_is_active: true }, 1000);
  assert.match(held.sentence, /for 20 s.*failsafe mode keeps PostgreSQL primary while every member's Patroni answers/);
});

test("parameters compare as PostgreSQL reads them (Patroni stores booleans)", () => {
  assert.equal(normalizeParameter(true), "on");
  assert.equal(normalizeParameter("off"), "off");
  assert.equal(normalizeParameter(100), "100");
});

test("resources below the minimum are refused with exit 6", () => {
  const ok = { memoryBytes: 4 * GiB, cores: 2, ssd: true, storageWhy: "", diskFreeBytes: 10 * GiB };
  checkResources(ok, "/x");
  for (const bad of [
    { ...ok, memoryBytes: 0.5 * GiB },
    { ...ok, diskFreeBytes: 0.2 * GiB },
  ]) {
    assert.throws(
      () => checkResources(bad, "/x"),
      (e: unknown) => e instanceof TuskError && e.exitCode === ExitCode.InsufficientResources,
    );
  }
});

test("missing packages without root: exit 5 naming what is missing", () => {
  const plan = { packages: ["patroni", "etcd-server"], sources: [PGVECTOR] };
  assert.throws(
    () => requireRootToInstall(plan, false),
    (e: unknown) => e instanceof TuskError && e.exitCode === ExitCode.NotRoot && /patroni, etcd-server/.test(e.message) && /pgvector ≥ 0\.8\.0/.test(e.message),
  );
  requireRootToInstall(plan, true);
  requireRootToInstall({ packages: [], sources: [] }, false);
});

test("version comparison", () => {
  assert.ok(versionAtLeast("1.24.1", "1.21.0"));
  assert.ok(!versionAtLeast("1.18.0", "1.21.0"));
  assert.ok(versionAtLeast("0.8.0", "0.8.0"));
});

test("stop escalates on a clock: a process that ignores SIGTERM is killed by the next step", async () => {
  const child = spawn("bash", ["-c", "trap '' TERM; while true; do sleep 0.1; done"], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 200));
  const started = Date.now();
  const by = await stopEscalating(child.pid!, [
    { signal: "SIGTERM", waitMs: 500 },
    { signal: "SIGINT", waitMs: 500 },
  ]);
  assert.equal(isAlive(child.pid!), false);
  assert.equal(by, "SIGKILL");
  assert.ok(Date.now() - started >= 1000);
});

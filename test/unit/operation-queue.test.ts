import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { admit, CONFLICTS, OPERATION_KINDS, OperationQueue, reconcile, type OperationKind, type OperationRecord } from "../../src/core/supervisor/operation-queue.js";
import { StatePaths } from "../../src/core/state-dir.js";
import { TuskError } from "../../src/core/errors.js";

const running = (kind: OperationKind, detail: string = kind, id = 1): OperationRecord => ({ id, kind, detail, state: "running", pid: 1, startedAt: "2026-12-01T10:00:00.000Z" });

test("the conflict table: every pair of kinds has a verdict, and admit follows it", () => {
  for (const asked of OPERATION_KINDS) {
    assert.equal(admit(asked, []).verdict, "run", `${asked} with nothing running`);
    for (const other of OPERATION_KINDS) {
      const verdict = CONFLICTS[asked][other];
      assert.ok(["together", "wait", "refuse"].includes(verdict), `${asked} during ${other}`);
      const a = admit(asked, [running(other)]);
      assert.equal(a.verdict, verdict === "together" ? "run" : verdict, `${asked} during ${other}`);
    }
  }
});

test("a restore in place refuses everything while it runs, and is refused while anything runs; the same operation twice is refused", () => {
  const during = admit("backup", [running("restore", "restore in place (API)")]);
  assert.equal(during.verdict, "refuse");
  assert.match(during.verdict === "refuse" ? during.reason : "", /being restored in place .* a backup now would act on data about to be replaced/);
  const restore = admit("restore", [running("backup", "full backup (scheduled)")]);
  assert.match(restore.verdict === "refuse" ? restore.reason : "", /A full backup \(scheduled\) is in progress; a restore in place would replace the data under it/);
  for (const k of OPERATION_KINDS.filter((k) => k !== "clone")) assert.equal(admit(k, [running(k)]).verdict, "refuse", `${k} twice`);
  const wait = admit("switchover", [running("backup", "incr backup (API)", 7)]);
  assert.equal(wait.verdict, "wait");
  assert.equal(wait.verdict === "wait" ? wait.behind.id : 0, 7);
});

test("a schema migration (tusk's advisory lock held): switchovers and rolling restarts wait, a restore in place is refused, backups and scaling go on", () => {
  const migration = running("migration", "schema migration (session 4242 on app as app_owner)");
  assert.equal(admit("switchover", [migration]).verdict, "wait");
  assert.equal(admit("settings", [migration]).verdict, "wait");
  const restore = admit("restore", [migration]);
  assert.match(restore.verdict === "refuse" ? restore.reason : "", /A schema migration \(session 4242 on app as app_owner\) is in progress; a restore in place would replace the data under it/);
  for (const k of ["backup", "restore drill", "clone", "scale", "repair"] as const) assert.equal(admit(k, [migration]).verdict, "run", `${k} beside a migration`);
  const second = admit("migration", [running("switchover")]);
  assert.equal(second.verdict, "wait", "a migration started by tusk waits for a switchover");
});

test("reconcile: what a dead process left running is interrupted, with pgBackRest's lock noted", () => {
  const records = [
    { ...running("backup", "full backup (scheduled)", 1), progress: "40.0%" },
    { ...running("switchover", "switchover", 2), state: "done" as const },
    { ...running("clone", "clone x", 3), pid: 42 },
  ];
  const out = reconcile(
    records,
    (r) => r.pid === 42,
    (kind) => kind === "backup",
    new Date("2026-12-01T11:00:00Z"),
  );
  assert.equal(out[0]!.state, "interrupted");
  assert.match(out[0]!.note!, /its process \(pid 1\) stopped before it finished \(it had reached 40\.0%\); pgBackRest's lock was still held/);
  assert.equal(out[0]!.progress, undefined);
  assert.equal(out[0]!.endedAt, "2026-12-01T11:00:00.000Z");
  assert.equal(out[1], records[1], "ended ones are untouched");
  assert.equal(out[2], records[2], "a live one is untouched");
});

test("the queue file: operations run, wait and are refused across queues (processes); a dead process's operation is interrupted", async () => {
  const root = mkdtempSync(join(tmpdir(), "tusk-queue-"));
  try {
    const paths = new StatePaths(root);
    mkdirSync(paths.runDir, { recursive: true });
    const a = new OperationQueue(paths);
    const b = new OperationQueue(paths); // another process's view of the same file
    let release!: () => void;
    const backup = a.run("backup", "full backup (tusk backup)", () => new Promise<string>((r) => (release = () => r("backed up"))));
    // Until the backup's record is in the file (a fixed wait can be too short under load).
    for (let i = 0; i < 100 && b.view().running.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(
      b.run("backup", "incr backup (API)", async () => "no"),
      (e: unknown) => e instanceof TuskError && /A full backup \(tusk backup\) is already in progress/.test(e.message),
    );
    await assert.rejects(
      b.run("scale", "scale to 1 replica(s)", async () => 1, 1000),
      (e: unknown) => e instanceof TuskError && e.exitCode === 7 && /The scale to 1 replica\(s\) waited 1 s for the full backup \(tusk backup\) \(#1\) to finish; it still runs/.test(e.message),
    );
    const order: string[] = [];
    const switchover = b.run("switchover", "switchover", async () => void order.push("switchover ran"), 10_000);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(order, [], "the switchover waits for the backup");
    release();
    assert.equal(await backup, "backed up");
    await switchover;
    assert.deepEqual(order, ["switchover ran"]);
    const view = a.view();
    assert.deepEqual(view.running, []);
    assert.deepEqual(
      view.recent.map((r) => `${r.kind}:${r.state}`),
      ["switchover:done", "backup:done"],
    );
    // Progress reported by the work is in the record, for every reader (status, the dashboard), until it ends.
    await a.run("clone", "clone c0", async (report) => {
      report("restoring: 40%");
      assert.equal(b.view().running[0]?.progress, "restoring: 40%");
      report("restoring: 41%"); // at most one write a second
      assert.equal(b.view().running[0]?.progress, "restoring: 40%");
    });
    assert.equal(b.view().recent[0]?.progress, undefined);
    // A process that began an operation and died: the next reader marks it interrupted.
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 200)"]);
    const { record } = a.begin("clone", "clone c1", child.pid!);
    await new Promise((r) => child.on("exit", r));
    assert.deepEqual(b.running(), []);
    const saved = JSON.parse(readFileSync(join(paths.runDir, "operations.json"), "utf8")) as { records: OperationRecord[] };
    assert.equal(saved.records.find((r) => r.id === record.id)!.state, "interrupted");
    // An unreadable file is an empty queue, not a crash.
    writeFileSync(join(paths.runDir, "operations.json"), "{ not json");
    assert.deepEqual(a.running(), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatWallClock, readWallClock, rfc3339Local } from "../../src/core/time/wall-clock.js";
import { chooseTarget } from "../../src/core/backup/restore-spec.js";
import { runCli } from "../helpers/cli.js";

// A zone with daylight saving: in 2026 the clocks go forward on 29 March (02:00 → 03:00) and back
// on 25 October (03:00 → 02:00). Node reads TZ again when it changes.
process.env.TZ = "Europe/Berlin";

const fields = { time: "--time", name: "--name", lsn: "--lsn" };

test("moments show in the local zone with its offset, winter and summer", () => {
  assert.equal(formatWallClock("2026-01-15T12:00:00Z"), "2026-01-15 13:00:00 +01:00");
  assert.equal(formatWallClock("2026-07-15T12:00:00Z"), "2026-07-15 14:00:00 +02:00");
  assert.equal(rfc3339Local(Date.parse("2026-07-15T12:00:00.250Z")), "2026-07-15T14:00:00.250+02:00");
});

test("a typed time without an offset is local wall-clock time; with an offset it is exact", () => {
  const read = (t: string) => {
    const r = readWallClock(t, "--time");
    assert.ok(r.ok, r.ok ? "" : r.problem);
    return r.at.toISOString();
  };
  assert.equal(read("2026-01-15 13:00:00"), "2026-01-15T12:00:00.000Z");
  assert.equal(read("2026-07-15T14:00"), "2026-07-15T12:00:00.000Z");
  assert.equal(read("2026-07-15T14:00:00+02:00"), "2026-07-15T12:00:00.000Z");
  assert.equal(read("2026-07-15 12:00:00Z"), "2026-07-15T12:00:00.000Z");
  assert.equal(read("2026-07-15 14:00:00+02"), "2026-07-15T12:00:00.000Z", "PostgreSQL's +02 form");
  assert.equal(read("2026-10-25 03:30:00"), "2026-10-25T02:30:00.000Z", "just after the change back: one reading");
  assert.equal(read("2026-01-01"), "2025-12-31T23:00:00.000Z", "a bare date is local midnight, its -01 no offset");
});

test("a local time that happened twice (autumn) is refused naming both readings; one in the spring gap naming the gap", () => {
  const twice = readWallClock("2026-10-25 02:30:00", "--time");
  assert.equal(twice.ok, false);
  assert.match(twice.ok ? "" : twice.problem, /^--time: 2026-10-25 02:30:00 happened twice in Europe\/Berlin \(the clocks went back\): 2026-10-25T02:30:00\+02:00 and 2026-10-25T02:30:00\+01:00\./);
  const never = readWallClock("2026-03-29T02:30", "Moment");
  assert.equal(never.ok, false);
  assert.match(never.ok ? "" : never.problem, /^Moment: 2026-03-29 02:30 did not happen in Europe\/Berlin: the clocks went forward from \+01:00 to \+02:00, skipping 1 h/);
  assert.equal(readWallClock("2026-10-25T02:30:00+01:00", "--time").ok, true, "with the offset it is one moment");
  for (const bad of ["yesterday", "2026-02-30 10:00", "2026-01-01 25:00", "2026-13-01"]) assert.equal(readWallClock(bad, "--time").ok, false, bad);
});

test("restore targets: the CLI reads local time, the API requires an offset; both keep the exact instant", () => {
  assert.deepEqual(chooseTarget({ time: "2026-07-15 14:00:00" }, fields), { kind: "time", time: "2026-07-15T12:00:00.000Z" });
  assert.throws(() => chooseTarget({ time: "2026-10-25 02:30:00" }, fields), /happened twice/);
  assert.throws(() => chooseTarget({ time: "2026-07-15T14:00:00" }, { time: "body.time", name: "body.restorePoint", lsn: "body.lsn" }, true), /body\.time: "2026-07-15T14:00:00" has no UTC offset/);
  assert.deepEqual(chooseTarget({ time: "2026-07-15T14:00:00+02:00" }, fields, true), { kind: "time", time: "2026-07-15T12:00:00.000Z" });
});

test("tusk restore --time refuses an ambiguous local time before it touches anything", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tusk-wall-clock-"));
  try {
    const r = await runCli(["--state-dir", dir, "restore", "--into", "copy", "--time", "2026-10-25 02:30:00"], { env: { ...process.env, TZ: "Europe/Berlin" } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /happened twice in Europe\/Berlin.*\+02:00 and .*\+01:00/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

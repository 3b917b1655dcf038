import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { durationOf, parseDuration, parseMemory, QuantityError, sizeOf } from "../../src/core/config/units.js";
import { parseConfig } from "../../src/core/config/config-file.js";
import { checkPostgresSetting } from "../../src/core/config/postgres-settings.js";
import { replicaMemoryBytes } from "../../src/core/supervisor/topology.js";
import { runCli } from "../helpers/cli.js";

/** One size parser and one duration parser for the CLI, tusk.yaml and PostgreSQL settings. */

test("sizes: units of 1024, bare numbers in the caller's unit, PostgreSQL's case-sensitive grammar when strict", () => {
  assert.equal(sizeOf("16MB", "read_only_max_lag"), 16 * 1024 ** 2);
  assert.equal(sizeOf("512kb", "x"), 512 * 1024);
  assert.equal(sizeOf(1048576, "x"), 1048576);
  assert.equal(parseMemory("2", "8kB"), 16384);
  assert.equal(parseMemory("1GB", "8kB", true), 1024 ** 3);
  assert.equal(parseMemory("1gb", "8kB", true), undefined, "PostgreSQL itself refuses 1gb");
  assert.throws(
    () => sizeOf("16 parsecs", "read_only_max_lag"),
    (e: unknown) => e instanceof QuantityError && /^read_only_max_lag: must be a size such as 16MB.*not "16 parsecs"/.test(e.message),
  );
  assert.throws(() => sizeOf(-1, "x"), QuantityError);
});

test("durations: us … d, 'm' as minutes only where tusk reads the value", () => {
  assert.equal(durationOf("90m", "--for"), 5400);
  assert.equal(durationOf("15min", "--since"), 900);
  assert.equal(durationOf("2h", "--since"), 7200);
  assert.equal(durationOf("1d", "--since"), 86_400);
  assert.equal(durationOf(45, "--since"), 45);
  assert.equal(parseDuration("200ms", "ms", true), 200);
  assert.equal(parseDuration("5m", "ms", true), undefined, "PostgreSQL reads no 'm' unit");
  assert.throws(
    () => durationOf("5x", "--since"),
    (e: unknown) => e instanceof QuantityError && e.exitCode === 2 && /^--since: must be a duration/.test(e.message),
  );
  assert.throws(() => durationOf("0s", "--for"), /--for: must be a duration/);
});

test("tusk.yaml and PostgreSQL settings go through the same parsers", () => {
  assert.equal(parseConfig("read_only_max_lag: 64MB\n", "t").read_only_max_lag, 64 * 1024 ** 2);
  assert.throws(
    () => parseConfig("read_only_max_lag: lots\n", "t"),
    (e: Error & { detail?: string }) => /read_only_max_lag: must be a size/.test(e.detail ?? ""),
  );
  assert.equal(checkPostgresSetting("work_mem", "64mb").ok, false);
  assert.equal(checkPostgresSetting("statement_timeout", "5min").ok, true);
  assert.equal(replicaMemoryBytes({ shared_buffers: "16384" }), 128 * 1024 ** 2 + 256 * 1024 ** 2, "bare shared_buffers counts 8kB blocks");
});

test("the CLI names the flag as typed, before it looks for a cluster", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tusk-units-"));
  try {
    const since = await runCli(["--state-dir", dir, "queries", "--since", "5x"]);
    assert.equal(since.code, 2);
    assert.match(since.stderr, /--since: must be a duration such as 30s, 15m, 2h or 1d, not "5x"/);
    assert.doesNotMatch(since.stderr, /--for/);
    const silence = await runCli(["--state-dir", dir, "alerts", "silence", "dead-tuples", "--for", "soon"]);
    assert.equal(silence.code, 2);
    assert.match(silence.stderr, /--for: must be a duration/);
    const scale = await runCli(["--state-dir", dir, "scale", "--replicas", "-1"]);
    assert.equal(scale.code, 2);
    assert.match(scale.stderr, /--replicas.*must be a whole number of 0 or more, not "-1"/);
    assert.doesNotMatch(scale.stderr, /body\/|openapi/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

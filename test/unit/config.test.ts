import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_CONFIG, parseConfig } from "../../src/core/config/config-file.js";
import { checkPostgresSetting } from "../../src/core/config/postgres-settings.js";
import { TuskError, ExitCode } from "../../src/core/errors.js";

function problems(yaml: string): string {
  try {
    parseConfig(yaml, "tusk.yaml");
  } catch (e) {
    assert.ok(e instanceof TuskError);
    assert.equal(e.exitCode, ExitCode.InvalidConfig);
    return `${e.message}\n${e.detail ?? ""}`;
  }
  assert.fail("expected the configuration to be refused");
}

test("an empty file means every default", () => {
  assert.deepEqual(parseConfig("", "tusk.yaml"), DEFAULT_CONFIG);
  assert.deepEqual(parseConfig("# only comments\n", "tusk.yaml"), DEFAULT_CONFIG);
});

test("overrides are normalised the way PostgreSQL reads them", () => {
  const c = parseConfig("postgresql:\n  work_mem: 64MB\n  jit: true\n  random_page_cost: 1.5\n  log_min_duration_statement: 1s\n", "t");
  assert.deepEqual(c.postgresql, { work_mem: "64MB", jit: "on", random_page_cost: "1.5", log_min_duration_statement: "1s" });
});

test("memory, time, enum, integer and bool values are checked against pg_settings", () => {
  assert.deepEqual(checkPostgresSetting("shared_buffers", "1GB"), { ok: true, value: "1GB" });
  assert.deepEqual(checkPostgresSetting("shared_buffers", 16384), { ok: true, value: "16384" }); // 8kB pages
  assert.equal(checkPostgresSetting("shared_buffers", "64kB").ok, false); // below 16 pages
  assert.equal(checkPostgresSetting("work_mem", "3TB").ok, false);
  assert.equal(checkPostgresSetting("statement_timeout", "30s").ok, true);
  assert.equal(checkPostgresSetting("statement_timeout", "soon").ok, false);
  assert.deepEqual(checkPostgresSetting("wal_compression", "LZ4"), { ok: true, value: "lz4" });
  assert.equal(checkPostgresSetting("wal_compression", "brotli").ok, false);
  assert.equal(checkPostgresSetting("max_connections", 10.5).ok, false);
  assert.equal(checkPostgresSetting("hnsw.ef_search", 100).ok, true);
  assert.equal(checkPostgresSetting("hnsw.ef_search", 5000).ok, false);
  assert.equal(checkPostgresSetting("cron.max_running_jobs", 3).ok, true);
});

test("every problem is reported at once, each naming its key", () => {
  const text = problems("postgresql:\n  shared_buffer: 1GB\n  max_connections: 0\nports:\n  pooler: 70000\n  postgres: 6432\ndatabase: My-DB\n");
  assert.match(text, /has 5 problems/);
  assert.match(text, /postgresql\.shared_buffer: is not a PostgreSQL 15 setting\. Did you mean shared_buffers\?/);
  assert.match(text, /postgresql\.max_connections: is out of range/);
  assert.match(text, /ports\.pooler: must be a whole number from 1 to 65535/);
  assert.match(text, /ports\.(postgres|pooler): 6432 is also ports\./);
  assert.match(text, /database: must be a lower-case identifier/);
});

test("settings tusk manages cannot be overridden", () => {
  assert.match(problems("postgresql:\n  data_directory: /elsewhere\n"), /managed by tusk/);
  assert.match(problems("postgresql:\n  wal_level: minimal\n"), /managed by tusk/);
});

test("PgBouncer overrides are limited to a known table", () => {
  assert.deepEqual(parseConfig("pgbouncer:\n  default_pool_size: 30\n", "t").pgbouncer, { default_pool_size: "30" });
  assert.match(problems("pgbouncer:\n  listen_port: 1\n"), /not a PgBouncer setting tusk lets you change/);
  assert.match(problems("pgbouncer:\n  pool_mode: sometimes\n"), /must be one of session, transaction, statement/);
});

test("not YAML, or not a mapping, is refused", () => {
  assert.match(problems("ports: [\n"), /not valid YAML/);
  assert.match(problems("- a\n- b\n"), /must be a mapping/);
});

test("the backup policy is validated: times, weekdays, whole numbers", () => {
  const c = parseConfig('backups:\n  time: "02:30"\n  full_day: Saturday\n  keep_daily_days: 14\n', "t");
  assert.equal(c.backups.time, "02:30");
  assert.equal(c.backups.full_day, "saturday");
  assert.equal(c.backups.keep_daily_days, 14);
  assert.equal(c.backups.keep_monthly_months, 12);
  const text = problems('backups:\n  time: "25:00"\n  full_day: someday\n  keep_weekly_weeks: -1\n  keep_yearly: 3\n');
  assert.match(text, /backups\.time: must be a time of day as HH:MM/);
  assert.match(text, /backups\.full_day: must be a day of the week/);
  assert.match(text, /backups\.keep_weekly_weeks: must be a whole number from 0 to 3650/);
  assert.match(text, /backups\.keep_yearly: not a backup setting/);
});

test("read_only_max_lag takes bytes or a size with a unit, and says what it wants otherwise", () => {
  assert.equal(parseConfig("read_only_max_lag: 64MB", "t.yaml").read_only_max_lag, 64 * 1024 ** 2);
  assert.equal(parseConfig("read_only_max_lag: 512kB", "t.yaml").read_only_max_lag, 512 * 1024);
  assert.equal(parseConfig("read_only_max_lag: 1000", "t.yaml").read_only_max_lag, 1000);
  assert.equal(parseConfig("", "t.yaml").read_only_max_lag, 16 * 1024 ** 2);
  assert.throws(
    () => parseConfig("read_only_max_lag: ten seconds", "t.yaml"),
    (e: TuskError) => e.exitCode === ExitCode.InvalidConfig && /read_only_max_lag: must be a size such as 16MB/.test(e.detail ?? ""),
  );
});

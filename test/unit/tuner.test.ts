import { test } from "node:test";
import assert from "node:assert/strict";
import { tunePostgres } from "../../src/core/config/tuner.js";
import { tunePgbouncer } from "../../src/core/config/pgbouncer-tuner.js";
import { effectiveSettings, asRecord } from "../../src/core/config/effective-settings.js";
import { checkPostgresSetting, checkAgainstSpec } from "../../src/core/config/postgres-settings.js";
import { PGBOUNCER_SETTINGS } from "../../src/core/config/pgbouncer-settings.js";
import { DEFAULT_CONFIG, parseConfig } from "../../src/core/config/config-file.js";
import { GiB } from "../../src/core/config/units.js";
import type { HostFacts } from "../../src/core/config/host-facts.js";

const host = (memGiB: number, cores: number, ssd = true): HostFacts => ({
  memoryBytes: memGiB * GiB,
  cores,
  ssd,
  storageWhy: ssd ? "test SSD" : "test HDD",
  diskFreeBytes: 100 * GiB,
});

test("this machine's shape (24 GiB, 2 cores, SSD): the values the vector workload needs", () => {
  const s = asRecord(tunePostgres({ host: host(24, 2), cronDatabase: "app" }));
  assert.equal(s.shared_buffers, "6GB");
  assert.equal(s.effective_cache_size, "18GB");
  assert.equal(s.maintenance_work_mem, "2457MB");
  assert.equal(s.max_parallel_maintenance_workers, "1");
  assert.equal(s.min_parallel_table_scan_size, "1MB");
  assert.equal(s.random_page_cost, "1.1");
  assert.equal(s.effective_io_concurrency, "200");
  assert.equal(s.checkpoint_completion_target, "0.9");
  assert.equal(s.log_min_duration_statement, "200ms");
  assert.equal(s.shared_preload_libraries, "pg_stat_statements,pg_cron");
});

test("small and rotational hosts get bounded, conservative values", () => {
  const s = asRecord(tunePostgres({ host: host(1, 1, false), cronDatabase: "app" }));
  assert.equal(s.shared_buffers, "256MB");
  assert.equal(s.maintenance_work_mem, "102MB");
  assert.equal(s.work_mem, "4MB");
  assert.equal(s.random_page_cost, "4");
  const big = asRecord(tunePostgres({ host: host(512, 64), cronDatabase: "app" }));
  assert.equal(big.maintenance_work_mem, "4GB");
  assert.equal(big.work_mem, "256MB");
});

test("every tuned value is valid for PostgreSQL 15 and PgBouncer, and has a reason", () => {
  for (const h of [host(1, 1, false), host(24, 2), host(256, 32)]) {
    for (const s of tunePostgres({ host: h, cronDatabase: "app" })) {
      const checked = checkPostgresSetting(s.name, s.value);
      assert.ok(checked.ok, `${s.name}=${s.value}: ${checked.ok ? "" : checked.problem}`);
      assert.ok(s.reason.length > 15, s.name);
    }
    for (const s of tunePgbouncer(h, 100)) {
      const spec = PGBOUNCER_SETTINGS.get(s.name);
      assert.ok(spec, `${s.name} is not in the PgBouncer table`);
      assert.ok(checkAgainstSpec(spec, s.value).ok, `${s.name}=${s.value}`);
    }
  }
});

test("the PgBouncer pool follows the cores; both entries stay below max_connections", () => {
  const p = asRecord(tunePgbouncer(host(24, 2), 100));
  assert.equal(p.default_pool_size, "10");
  assert.equal(asRecord(tunePgbouncer(host(24, 8), 100)).default_pool_size, "32");
  assert.ok(Number(p.max_db_connections) * 2 < 100);
  assert.ok(Number(p.max_client_conn) >= 1000);
  assert.ok(Number(p.max_prepared_statements) > 0);
});

test("overrides replace tuned values and say so; shared_preload_libraries is added to, never replaced", () => {
  const config = parseConfig("postgresql:\n  work_mem: 8MB\n  shared_preload_libraries: auto_explain\n  statement_timeout: 30s\n", "t");
  const e = effectiveSettings(config, host(24, 2));
  const wm = e.postgres.find((s) => s.name === "work_mem")!;
  assert.equal(wm.value, "8MB");
  assert.equal(wm.source, "override");
  assert.match(wm.reason, /tusk would choose 46MB/);
  assert.equal(asRecord(e.postgres).shared_preload_libraries, "pg_stat_statements,pg_cron,auto_explain");
  assert.equal(asRecord(e.postgres).statement_timeout, "30s");
  assert.equal(asRecord(effectiveSettings(DEFAULT_CONFIG, host(24, 2)).postgres).work_mem, "46MB");
});

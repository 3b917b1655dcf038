import { test } from "node:test";
import assert from "node:assert/strict";
import { planConfigChange } from "../../src/core/config/config-change.js";
import { DEFAULT_CONFIG, type TuskConfig } from "../../src/core/config/config-file.js";
import { GiB } from "../../src/core/config/units.js";

const host = { memoryBytes: 8 * GiB, cores: 2, ssd: true, storageWhy: "", diskFreeBytes: 50 * GiB };
const running: TuskConfig = structuredClone(DEFAULT_CONFIG);
const wanted = (change: (c: TuskConfig) => void): TuskConfig => {
  const c = structuredClone(DEFAULT_CONFIG);
  change(c);
  return c;
};

test("config change: nothing changed, nothing to do", () => {
  assert.deepEqual(planConfigChange(running, structuredClone(DEFAULT_CONFIG), host), { changes: [], refused: false, restart: false });
});

test("config change: a reloadable PostgreSQL setting reloads, one that needs a restart restarts node by node", () => {
  const plan = planConfigChange(
    running,
    wanted((c) => {
      c.postgresql = { work_mem: "64MB", shared_buffers: "512MB" };
    }),
    host,
  );
  const byKey = Object.fromEntries(plan.changes.map((c) => [c.key, c]));
  assert.equal(byKey["postgresql.work_mem"]?.how, "reload");
  assert.equal(byKey["postgresql.work_mem"]?.to, "64MB");
  assert.equal(byKey["postgresql.shared_buffers"]?.how, "restart");
  assert.match(byKey["postgresql.shared_buffers"]!.sentence, /^postgresql\.shared_buffers: .* → 512MB: takes effect after PostgreSQL restarts: a rolling restart/);
  assert.equal(plan.restart, true);
  assert.equal(plan.refused, false);
});

test("config change: PgBouncer pools, replication mode, backups, monitoring and alerts apply live", () => {
  const plan = planConfigChange(
    running,
    wanted((c) => {
      c.pgbouncer = { default_pool_size: "7" };
      c.replication_mode = "async";
      c.backups = { ...c.backups, time: "02:30" };
      c.monitoring = { ...c.monitoring, interval_seconds: 30 };
      c.alerts = { ...c.alerts, rules: { "replication-lag": { threshold: 10 } } };
    }),
    host,
  );
  assert.deepEqual(
    plan.changes.map((c) => [c.key, c.how]),
    [
      ["pgbouncer.default_pool_size", "reload"],
      ["replication_mode", "reload"],
      ["backups.time", "reload"],
      ["monitoring.interval_seconds", "reload"],
      ["alerts", "reload"],
    ],
  );
  assert.equal(plan.restart, false);
});

test("config change: ports, addresses, identity and PgBouncer's file limit are refused with what to do instead", () => {
  const plan = planConfigChange(
    running,
    wanted((c) => {
      c.ports = { ...c.ports, pooler: 7432 };
      c.database = "shop";
      c.listen_address = "0.0.0.0";
      c.pgbouncer = { max_client_conn: "5000" };
      c.postgresql = { work_mem: "64MB" };
    }),
    host,
  );
  assert.equal(plan.refused, true);
  const refused = plan.changes.filter((c) => c.how === "refused").map((c) => c.key);
  assert.deepEqual(refused.sort(), ["database", "listen_address", "pgbouncer.max_client_conn", "ports.pooler"]);
  assert.match(plan.changes.find((c) => c.key === "ports.pooler")!.sentence, /`tusk down`, then `tusk up` applies it \(data is kept\)/);
  assert.match(plan.changes.find((c) => c.key === "database")!.sentence, /create a new cluster and move the data/);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { evaluateRules, silenced, type ActiveAlert } from "../../src/core/alerts/engine.js";
import { fmtDuration, type AlertRule } from "../../src/core/alerts/rule.js";
import { RULES } from "../../src/core/alerts/rules/index.js";
import { parseConfig } from "../../src/core/config/config-file.js";
import { ruleSettings } from "../../src/core/config/monitoring-settings.js";
import { ExitCode, type TuskError } from "../../src/core/errors.js";
import { prometheusText } from "../../src/core/metrics/prometheus.js";
import { Snapshot, counterDelta } from "../../src/core/metrics/sample.js";
import { indexRows } from "../../src/core/metrics/views.js";

const snap = (at: number, samples: { name: string; labels?: Record<string, string>; value: number }[]) =>
  new Snapshot(
    new Date(at),
    samples.map((s) => ({ labels: {}, ...s })),
  );

test("a breach is pending, fires once it lasted the rule's 'for', and resolves when it clears", () => {
  const rule = RULES.find((r) => r.id === "long-transaction")!;
  const settings = ruleSettings({ webhooks: [], rules: { "long-transaction": { threshold: 10, for: 5 } } });
  let open = new Map<string, ActiveAlert>();
  const step = (at: number, seconds: number) => {
    const r = evaluateRules([rule], settings, { now: snap(at, [{ name: "pg_longest_transaction_seconds", value: seconds }]), previous: undefined, windowStart: undefined }, open, new Date(at));
    open = r.open;
    return r.transitions.map((t) => t.to);
  };
  assert.deepEqual(step(0, 5), []);
  assert.deepEqual(step(1000, 12), ["pending"]);
  assert.deepEqual(step(4000, 15), []);
  assert.deepEqual(step(6000, 17), ["firing"]);
  assert.match([...open.values()][0]!.summary, /open for 17 s/);
  assert.deepEqual(step(7000, 0), ["resolved"]);
  assert.equal(open.size, 0);
  // A breach that clears before its 'for' never fires.
  assert.deepEqual(step(8000, 20), ["pending"]);
  assert.deepEqual(step(9000, 0), ["resolved"]);
});

test("'for: 0' fires at once; one alert per series (labels)", () => {
  const rule = RULES.find((r) => r.id === "dead-tuples")!;
  const settings = ruleSettings({ webhooks: [], rules: { "dead-tuples": { for: 0 } } });
  const t = (table: string, dead: number, live: number) => [
    { name: "pg_table_dead_ratio", labels: { schema: "public", table }, value: dead / (dead + live) },
    { name: "pg_table_dead_tuples", labels: { schema: "public", table }, value: dead },
    { name: "pg_table_live_tuples", labels: { schema: "public", table }, value: live },
  ];
  const r = evaluateRules(
    [rule],
    settings,
    { now: snap(0, [...t("a", 600, 600), ...t("b", 300, 900), ...t("tiny", 90, 10), ...t("clean", 10, 5000)]), previous: undefined, windowStart: undefined },
    new Map(),
    new Date(0),
  );
  assert.deepEqual(
    r.transitions.map((x) => `${x.to}:${x.alert.labels.table}`),
    ["pending:a", "firing:a", "pending:b", "firing:b"],
  );
});

test("checkpoints-requested: only checkpoints that the WAL written explains count; backups, DROP DATABASE and switchovers do not", () => {
  const ck = RULES.find((r) => r.id === "checkpoints-requested")!;
  const threshold = ruleSettings({ webhooks: [], rules: {} }).get(ck.id)!.threshold;
  const GB = 1024 ** 3,
    MB = 1024 ** 2;
  const at = (ms: number, requested: number, lsn: number, maxWal = GB) =>
    snap(ms, [
      { name: "pg_checkpoints_requested_total", value: requested },
      { name: "pg_checkpoints_timed_total", value: 100 },
      { name: "pg_wal_position_bytes", value: lsn },
      { name: "pg_setting_max_wal_size_bytes", value: maxWal },
      { name: "pg_setting_checkpoint_completion_target", value: 0.9 },
    ]);
  const hour = 3_600_000;
  const verdict = (before: ReturnType<typeof snap>, now: ReturnType<typeof snap>) => ck.evaluate({ now, previous: undefined, windowStart: before }, threshold);
  // A DROP DATABASE, a backup (each asks for one) and a manual CHECKPOINT with little WAL: nothing.
  assert.deepEqual(verdict(at(0, 10, 100 * MB), at(hour, 14, 180 * MB)), []);
  // A switchover: the new primary's counters start low (read as a reset), its WAL position carries on.
  assert.deepEqual(verdict(at(0, 50, 100 * MB), at(hour, 3, 140 * MB)), []);
  // A restore went back in WAL: no verdict.
  assert.deepEqual(verdict(at(0, 10, 900 * MB), at(hour, 20, 100 * MB)), []);
  // Requested checkpoints and 5 GB of WAL with max_wal_size 1 GB: about 9 forced (every 539 MB), capped by the 6 requested.
  const fired = verdict(at(0, 10, 0), at(hour, 16, 5 * GB));
  assert.equal(fired.length, 1);
  assert.equal(fired[0]!.value, 6);
  assert.match(fired[0]!.summary, /5120 MB of WAL in 60 min forced about 6 checkpoints \(max_wal_size 1024 MB\); 6 were requested/);
  // Much WAL but few requests (timed checkpoints kept up): nothing.
  assert.deepEqual(verdict(at(0, 10, 0), at(hour, 12, 5 * GB)), []);
  assert.deepEqual(ck.evaluate({ now: at(hour, 16, 5 * GB), previous: undefined, windowStart: undefined }, threshold), [], "no window, no verdict");
});

test("rules over counters read the window; a reset counts from zero", () => {
  assert.equal(counterDelta(snap(0, [{ name: "x_total", value: 5 }]), snap(0, [{ name: "x_total", value: 9 }]), "x_total"), 5, "a reset counts from zero");
});

test("silences match the rule and a subset of labels until they expire", () => {
  const a = { rule: "disk-usage", labels: { disk: "backups" } };
  const until = new Date(10_000).toISOString();
  assert.equal(silenced(a, [{ rule: "disk-usage", labels: {}, until }], new Date(5000)), true);
  assert.equal(silenced(a, [{ rule: "disk-usage", labels: { disk: "data" }, until }], new Date(5000)), false);
  assert.equal(silenced(a, [{ rule: "disk-usage", labels: { disk: "backups" }, until }], new Date(20_000)), false);
});

test("every rule has an id, a doc of what, why and what to do, and a unique file-backed id", () => {
  assert.equal(new Set(RULES.map((r) => r.id)).size, RULES.length);
  for (const r of RULES as AlertRule[]) {
    assert.match(r.id, /^[a-z]+(-[a-z]+)*$/);
    for (const part of [r.doc.meaning, r.doc.why, r.doc.action]) assert.ok(part.length > 30, `${r.id} doc`);
  }
});

test("alerts and monitoring in tusk.yaml: overrides apply, mistakes are named", () => {
  const c = parseConfig("monitoring: { interval_seconds: 5 }\nalerts: { webhooks: ['https://hooks.example/x'], rules: { disk-usage: { threshold: 90, for: 30 } } }", "t.yaml");
  assert.equal(c.monitoring.interval_seconds, 5);
  assert.equal(ruleSettings(c.alerts).get("disk-usage")!.threshold, 90);
  assert.equal(ruleSettings(c.alerts).get("disk-usage")!.forSeconds, 30);
  assert.throws(
    () => parseConfig("monitoring: { interval_seconds: 0, retention: 3 }\nalerts: { webhooks: ['ftp://x'], rules: { disk-usag: {}, dead-tuples: { for: -1 } } }", "t.yaml"),
    (e: TuskError) =>
      e.exitCode === ExitCode.InvalidConfig &&
      /monitoring\.interval_seconds: must be a whole number from 1/.test(e.detail!) &&
      /monitoring\.retention: not a monitoring setting\. Known: enabled, interval_seconds, retention_days/.test(e.detail!) &&
      /alerts\.webhooks\[0\]: must be an http/.test(e.detail!) &&
      /alerts\.rules\.disk-usag: no such rule\. Did you mean disk-usage\?/.test(e.detail!) &&
      /alerts\.rules\.dead-tuples\.for: must be a number of 0 or more/.test(e.detail!),
  );
});

test("Prometheus text: one family per name, counters typed, labels escaped, cluster label added", () => {
  const text = prometheusText(
    [
      { name: "pg_xact_commit_total", labels: { database: "app" }, value: 42 },
      { name: "pg_connections", labels: { state: 'idle "x"\n' }, value: 3 },
      { name: "tusk_last_backup_age_seconds", labels: {}, value: Infinity },
    ],
    "c1",
    new Date(1000),
  );
  assert.match(text, /# TYPE pg_xact_commit_total counter\npg_xact_commit_total\{cluster="c1",database="app"\} 42\n/);
  assert.match(text, /# TYPE pg_connections gauge\npg_connections\{cluster="c1",state="idle \\"x\\"\\n"\} 3\n/);
  assert.match(text, /tusk_last_backup_age_seconds\{cluster="c1"\} \+Inf/);
  assert.match(text, /tusk_metrics_collected_timestamp_seconds\{cluster="c1"\} 1\n$/);
});

test("indexes: never scanned and not unique means unused, listed first", () => {
  const rows = indexRows([
    { name: "pg_index_size_bytes", labels: { schema: "s", table: "t", index: "t_pkey", unique: "true" }, value: 100 },
    { name: "pg_index_scans_total", labels: { schema: "s", table: "t", index: "t_pkey", unique: "true" }, value: 0 },
    { name: "pg_index_size_bytes", labels: { schema: "s", table: "t", index: "t_x", unique: "false" }, value: 10 },
    { name: "pg_index_scans_total", labels: { schema: "s", table: "t", index: "t_x", unique: "false" }, value: 0 },
  ]);
  assert.deepEqual(
    rows.map((r) => [r.index, r.unused]),
    [
      ["t_x", true],
      ["t_pkey", false],
    ],
  );
});

test("durations read as people say them", () => {
  assert.deepEqual([45, 600, 5400, 36_000, 300_000].map(fmtDuration), ["45 s", "10 min", "90 min", "10.0 h", "3.5 d"]);
});

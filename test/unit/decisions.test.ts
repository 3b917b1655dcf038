import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { normalizeParameter } from "../../src/core/supervisor/settings.js";
import { decide, explain, healthy, type DecisionKind, type DesiredState } from "../../src/core/supervisor/decide.js";
import type { ClusterState } from "../../src/core/supervisor/cluster-state.js";
import type { ChildObservation } from "../../src/core/supervisor/children.js";
import type { PatroniMember } from "../../src/core/processes/patroni.js";
import { checkResources } from "../../src/core/cluster/preflight.js";
import { requireRootToInstall } from "../../src/core/install/installer.js";
import { PGVECTOR } from "../../src/core/install/components.js";
import { versionAtLeast } from "../../src/core/install/components.js";
import { isAlive, stopEscalating } from "../../src/core/processes/pid-file.js";
import { TuskError, ExitCode } from "../../src/core/errors.js";
import { GiB } from "../../src/core/config/units.js";

const primary = { state: "running", role: "master" };
const member = (name: string, role: string, timeline = 1, extra: Partial<PatroniMember> = {}): PatroniMember => ({
  name,
  role,
  state: role === "leader" ? "running" : "streaming",
  host: "127.0.0.1",
  port: 5432,
  timeline,
  ...extra,
});
const child = (name: string, running = true, restartAfter: number | null = null, restarts = 0): ChildObservation => ({ name, running, restarts, restartAfter });

/** A healthy two-node cluster at t = 100 s: every test below changes one thing. */
const base: ClusterState = {
  at: 100_000,
  routedTo: "pg1",
  routedToHost: null,
  localNodes: ["pg1", "pg2"],
  remoteServed: [],
  children: [child("etcd"), child("patroni"), child("patroni-pg2"), child("pgbouncer"), child("haproxy")],
  members: [member("pg1", "leader", 4), member("pg2", "sync_standby", 4)],
  primary,
  etcdSilentSince: null,
  diverged: [],
  repairs: {},
  etcdMembers: [],
  operations: [],
  postmasterAlive: true,
  primaryWritable: undefined,
  writesHeldSince: null,
};
const etcdMember = (name: string, learner = false) => ({ id: `id-${name}`, name, learner });
const idle: DesiredState = { settingsChangeRunning: false };

/** One row per decision kind: the observation, and what decide must say of it. */
const table: { name: string; state: ClusterState; desired?: DesiredState; kinds: DecisionKind[]; sentence: RegExp; healthy: boolean }[] = [
  { name: "all up", state: base, kinds: ["none"], sentence: /^no action: all processes are up and PostgreSQL is primary$/, healthy: true },
  {
    name: "a child exited, back-off over",
    state: { ...base, children: [child("etcd"), child("patroni"), child("pgbouncer", false, 99_000, 2)] },
    kinds: ["restart-child"],
    sentence: /^restarting pgbouncer, which exited \(it has been restarted 2 time\(s\)\)$/,
    healthy: false,
  },
  {
    name: "a child exited, back-off running",
    state: { ...base, children: [child("etcd", false, 104_000, 3), child("pgbouncer", false)] },
    kinds: ["await-back-off", "restart-child"],
    sentence: /^waiting to restart etcd \(back-off, 4 s left\); restarting pgbouncer, which exited$/,
    healthy: false,
  },
  {
    name: "Patroni moved the leader",
    state: { ...base, members: [member("pg1", "replica", 4), member("pg2", "leader", 5)], primary: { state: "running", role: "replica" } },
    kinds: ["route-writes"],
    sentence: /^Patroni names pg2 leader while writes go to pg1: routing PgBouncer and the direct endpoint to pg2$/,
    healthy: false,
  },
  {
    name: "one voter and a learner: the learner waits for the next host (two voters would survive nothing more)",
    state: { ...base, etcdMembers: [etcdMember("tusk-etcd1"), etcdMember("tusk-w2", true)] },
    kinds: ["none"],
    sentence: /^no action: all processes are up and PostgreSQL is primary$/,
    healthy: true,
  },
  {
    name: "two voters and a learner: promoting it makes three",
    state: { ...base, etcdMembers: [etcdMember("tusk-etcd1"), etcdMember("tusk-w2"), etcdMember("tusk-w3", true)] },
    kinds: ["none", "promote-etcd-learner"],
    sentence: /etcd has 2 voters and tusk-w3 as a learner: promoting it once it has the leader's log makes 3 voters, which keep a majority when any one host is lost$/,
    healthy: true,
  },
  {
    name: "four voters and a learner: promoting it makes five",
    state: { ...base, etcdMembers: [etcdMember("a"), etcdMember("b"), etcdMember("c"), etcdMember("d"), etcdMember("e", true)] },
    kinds: ["none", "promote-etcd-learner"],
    sentence: /makes 5 voters, which keep a majority when any 2 hosts are lost$/,
    healthy: true,
  },
  {
    name: "three voters: nothing to promote",
    state: { ...base, etcdMembers: [etcdMember("a"), etcdMember("b"), etcdMember("c")] },
    kinds: ["none"],
    sentence: /^no action/,
    healthy: true,
  },
  {
    name: "Patroni names a node of another host leader",
    state: {
      ...base,
      remoteServed: ["db2"],
      members: [member("pg1", "replica", 4), member("pg2", "replica", 5), { ...member("db2", "leader", 5), host: "198.18.2.2" }],
      primary: { state: "running", role: "replica" },
    },
    kinds: ["route-writes"],
    sentence: /^Patroni names db2, a node of another host \(198\.18\.2\.2\), leader while writes go to pg1: routing PgBouncer \(over TLS\) and the direct endpoint to it$/,
    healthy: false,
  },
  {
    name: "writes routed to a node of another host",
    state: {
      ...base,
      routedTo: "db2",
      routedToHost: "198.18.2.2",
      remoteServed: ["db2"],
      members: [member("pg1", "replica", 5), member("db2", "leader", 5)],
      primary: { state: "running", role: "replica" },
    },
    kinds: ["none"],
    sentence: /^no action: all processes are up; PgBouncer and the direct endpoint send writes to db2 on 198\.18\.2\.2 \(another host\); PostgreSQL here is replica$/,
    healthy: true,
  },
  {
    name: "a running node of another host that HAProxy does not serve yet",
    state: { ...base, members: [...base.members, { ...member("db2", "sync_standby", 4), host: "198.18.2.2" }, { ...member("db3", "replica", 4), state: "starting" }] },
    kinds: ["none", "serve-remote-node"],
    sentence: /^all processes are up and PostgreSQL is primary; db2, a node of another host \(198\.18\.2\.2\), joins HAProxy's read-only and direct backends$/,
    healthy: true,
  },
  {
    name: "a diverged replica, first repair",
    state: { ...base, members: [member("pg1", "leader", 5), member("pg2", "replica", 4)], diverged: ["pg2"] },
    kinds: ["none", "rewind-replica"],
    sentence: /pg2 \(timeline 4\) has not replayed any WAL for 20 s while behind the timeline of the primary pg1 \(5\).*rewinding it with pg_rewind/,
    healthy: true,
  },
  {
    name: "still diverged after a rewind under the same timeline",
    state: { ...base, members: [member("pg1", "leader", 5), member("pg2", "replica", 4)], diverged: ["pg2"], repairs: { pg2: { timeline: 5, attempts: 1 } } },
    kinds: ["none", "reinitialize-replica"],
    sentence: /even after a rewind; reinitializing it from pg1$/,
    healthy: true,
  },
  {
    name: "a rewind made under an older timeline does not count",
    state: { ...base, members: [member("pg1", "leader", 6), member("pg2", "replica", 4)], diverged: ["pg2"], repairs: { pg2: { timeline: 5, attempts: 1 } } },
    kinds: ["none", "rewind-replica"],
    sentence: /rewinding it with pg_rewind/,
    healthy: true,
  },
  {
    name: "a repair under way",
    state: { ...base, diverged: ["pg2"], operations: [{ kind: "repair", detail: "repair of pg2" }] },
    kinds: ["none", "await-repair"],
    sentence: /repair of pg2 under way$/,
    healthy: true,
  },
  {
    name: "PostgreSQL not running",
    state: { ...base, primary: { state: "starting", role: "master" } },
    kinds: ["await-postgres", "hold-writes"],
    sentence: /^PostgreSQL is starting; Patroni restarts it; pg1 keeps the leader key while PostgreSQL is starting as master: PgBouncer holds new transactions until it takes writes again$/,
    healthy: false,
  },
  {
    name: "the leader restarted in place, read-only until Patroni promotes it",
    state: { ...base, primary: { state: "running", role: "replica" } },
    kinds: ["hold-writes"],
    sentence: /^pg1 keeps the leader key while PostgreSQL is running as replica: PgBouncer holds/,
    healthy: false,
  },
  {
    name: "held, still read-only",
    state: { ...base, primary: { state: "running", role: "replica" }, writesHeldSince: 97_000, primaryWritable: false },
    kinds: ["hold-writes"],
    sentence: /^pg1 keeps the leader key while PostgreSQL is running as replica/,
    healthy: false,
  },
  {
    name: "held, the leader takes writes again",
    state: { ...base, writesHeldSince: 97_000, primaryWritable: true },
    kinds: ["release-writes"],
    sentence: /^pg1 takes writes again: PgBouncer lets the held transactions through$/,
    healthy: false,
  },
  {
    name: "held: Patroni says primary, but the node has not left recovery yet",
    state: { ...base, writesHeldSince: 97_000, primaryWritable: false },
    kinds: ["hold-writes"],
    sentence: /^pg1 keeps the leader key while PostgreSQL is running as master/,
    healthy: false,
  },
  {
    name: "held for over 30 s",
    state: { ...base, primary: { state: "running", role: "replica" }, writesHeldSince: 69_000 },
    kinds: ["release-writes"],
    sentence: /^pg1 has not taken writes for 30 s: PgBouncer lets the held transactions through \(they may fail\)$/,
    healthy: false,
  },
  {
    name: "held when Patroni failed the leader over to a node of this host: held until the routing follows",
    state: { ...base, primary: { state: "stopped", role: "replica" }, members: [member("pg1", "replica", 4, { state: "stopped" }), member("pg2", "leader", 5)], writesHeldSince: 97_000 },
    kinds: ["route-writes", "await-postgres"],
    sentence: /^Patroni names pg2 leader while writes go to pg1/,
    healthy: false,
  },
  {
    name: "no hold while a switchover moves the leader (it pauses the pool itself)",
    state: { ...base, primary: { state: "running", role: "replica" }, operations: [{ kind: "switchover", detail: "switchover" }] },
    kinds: ["none"],
    sentence: /^no action: all processes are up and PostgreSQL is replica$/,
    healthy: true,
  },
  {
    name: "Patroni not answering while the postmaster runs (a frozen node: a failover's business, nothing held)",
    state: { ...base, primary: undefined },
    kinds: ["await-postgres"],
    sentence: /unreachable through Patroni/,
    healthy: false,
  },
  {
    name: "the leader's postmaster gone (crashed), Patroni not answering yet",
    state: { ...base, primary: undefined, postmasterAlive: false },
    kinds: ["await-postgres", "hold-writes"],
    sentence: /; pg1 keeps the leader key while its postmaster is gone: PgBouncer holds new transactions until it takes writes again$/,
    healthy: false,
  },
  {
    name: "etcd silent, failsafe not yet active",
    state: { ...base, etcdSilentSince: 96_000 },
    kinds: ["await-etcd"],
    sentence: /^etcd has not answered for 4 s, so Patroni cannot renew the leader lock; PostgreSQL is primary, and Patroni keeps it so/,
    healthy: false,
  },
  {
    name: "etcd silent, failsafe holding the primary",
    state: { ...base, etcdSilentSince: 80_000, primary: { ...primary, failsafe_mode_is_active: true } },
    kinds: ["await-etcd"],
    sentence: /for 20 s.*failsafe mode keeps PostgreSQL primary while every member's Patroni answers/,
    healthy: false,
  },
  {
    name: "settings wait for a restart",
    state: { ...base, members: [member("pg1", "leader", 4, { pending_restart: true }), member("pg2", "sync_standby", 4, { pending_restart: true })] },
    kinds: ["none", "report-pending-restart"],
    sentence: /pg1, pg2 have settings waiting for a restart: `tusk config apply` restarts them one node at a time$/,
    healthy: true,
  },
  {
    name: "a settings change restarts them itself",
    state: { ...base, members: [member("pg1", "leader", 4, { pending_restart: true })] },
    desired: { settingsChangeRunning: true },
    kinds: ["none"],
    sentence: /^no action: all processes are up and PostgreSQL is primary$/,
    healthy: true,
  },
];

for (const row of table) {
  test(`decide: ${row.name}`, () => {
    const decisions = decide(row.state, row.desired ?? idle);
    assert.deepEqual(
      decisions.map((d) => d.kind),
      row.kinds,
    );
    assert.match(explain(decisions), row.sentence);
    assert.equal(healthy(decisions), row.healthy);
  });
}

test("decide: the table covers every decision kind", () => {
  const covered = new Set(table.flatMap((r) => r.kinds));
  const all: DecisionKind[] = [
    "restart-child",
    "await-back-off",
    "route-writes",
    "rewind-replica",
    "reinitialize-replica",
    "await-repair",
    "await-postgres",
    "hold-writes",
    "release-writes",
    "await-etcd",
    "report-pending-restart",
    "promote-etcd-learner",
    "serve-remote-node",
    "none",
  ];
  assert.deepEqual([...covered].sort(), [...all].sort());
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
  // It says when its traps are set: a fixed wait was too short under load (seen: SIGTERM killed it before its trap).
  const child = spawn("bash", ["-c", "trap '' TERM INT; echo ready; while true; do sleep 0.1; done"], { stdio: ["ignore", "pipe", "ignore"] });
  await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
  const started = Date.now();
  const by = await stopEscalating(child.pid!, [
    { signal: "SIGTERM", waitMs: 500 },
    { signal: "SIGINT", waitMs: 500 },
  ]);
  assert.equal(isAlive(child.pid!), false);
  assert.equal(by, "SIGKILL");
  assert.ok(Date.now() - started >= 1000);
});

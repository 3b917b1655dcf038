import { parseServersUp } from "../../src/core/processes/haproxy.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseCandidate, nodeStatuses, type NodeStatus } from "../../src/core/supervisor/replication.js";
import { nextNodeName } from "../../src/core/cluster/nodes.js";
import { DIVERGED_AFTER_MS, DivergenceWatch } from "../../src/core/supervisor/divergence.js";
import type { PatroniMember } from "../../src/core/processes/patroni.js";

const nodes = [
  { name: "pg1", ports: { postgres: 5432, patroni: 8008 } },
  { name: "pg2", ports: { postgres: 5433, patroni: 8009 } },
  { name: "pg3", ports: { postgres: 5434, patroni: 8010 } },
];

test("node status joins Patroni's members with pg_stat_replication by node name", () => {
  const members = [
    { name: "pg1", role: "leader", state: "running", host: "127.0.0.1", port: 5432, timeline: 3 },
    { name: "pg2", role: "sync_standby", state: "streaming", host: "127.0.0.1", port: 5433, timeline: 3, lag: 0 },
    { name: "pg3", role: "replica", state: "running", host: "127.0.0.1", port: 5434, timeline: 3, lag: 5_000_000 },
  ];
  const rows = [{ name: "pg2", state: "streaming", syncState: "sync", lagBytes: 0, lagSeconds: 0.01 }];
  const s = nodeStatuses(nodes, members, rows);
  assert.deepEqual(
    s.map((n) => n.role),
    ["primary", "sync standby", "replica"],
  );
  assert.equal(s[1]!.syncState, "sync");
  assert.equal(s[2]!.lagBytes, 5_000_000, "Patroni's lag when the primary has no row for it");
  assert.equal(nodeStatuses(nodes, [], [])[0]!.state, "unreachable");
});

function node(name: string, role: NodeStatus["role"], state: string, lagBytes: number | null): NodeStatus {
  return { name, role, state, timeline: 1, postgresPort: 0, patroniPort: 0, lagBytes, lagSeconds: 0, syncState: null, servesReads: null };
}

test("switchover candidate in synchronous mode: the synchronous standby, and only it", () => {
  const cluster = [node("pg1", "primary", "running", 0), node("pg2", "replica", "running", 10), node("pg3", "sync standby", "streaming", 500)];
  assert.deepEqual(chooseCandidate(cluster, undefined, true), { ok: true, name: "pg3" });
  assert.deepEqual(chooseCandidate(cluster, "pg3", true), { ok: true, name: "pg3" });
  const notSync = chooseCandidate(cluster, "pg2", true);
  assert.ok(!notSync.ok && notSync.code === "IncompatibleState" && /pg3 is/.test(notSync.message));
  const noSyncYet = chooseCandidate([node("pg1", "primary", "running", 0), node("pg2", "replica", "running", 0)], undefined, true);
  assert.ok(!noSyncYet.ok && noSyncYet.transient === true);
});

test("switchover candidate in asynchronous mode: the named healthy replica, else the least lagging", () => {
  const cluster = [node("pg1", "primary", "running", 0), node("pg2", "replica", "running", 900), node("pg3", "replica", "running", 10)];
  assert.deepEqual(chooseCandidate(cluster, undefined, false), { ok: true, name: "pg3" });
  assert.deepEqual(chooseCandidate(cluster, "pg2", false), { ok: true, name: "pg2" });
});

test("switchover refusals: unknown node, the primary itself, a lagging or stopped replica, no replica at all", () => {
  const cluster = [node("pg1", "primary", "running", 0), node("pg2", "replica", "running", 50_000_000), node("pg3", "replica", "stopped", null)];
  const unknown = chooseCandidate(cluster, "pg7", false);
  assert.ok(!unknown.ok && unknown.code === "Usage" && /pg1, pg2, pg3/.test(unknown.hint));
  const self = chooseCandidate(cluster, "pg1", false);
  assert.ok(!self.ok && self.code === "Usage");
  const lagging = chooseCandidate(cluster, "pg2", false);
  assert.ok(!lagging.ok && lagging.code === "IncompatibleState" && /50000000 bytes behind/.test(lagging.message));
  const none = chooseCandidate(cluster, undefined, false);
  assert.ok(!none.ok && /no healthy, caught-up replica/.test(none.message));
  const alone = chooseCandidate([node("pg1", "primary", "running", 0)], undefined, false);
  assert.ok(!alone.ok && /tusk scale --replicas 1/.test(alone.hint));
});

test("new nodes take the first free name", () => {
  assert.equal(nextNodeName(nodes), "pg4");
  assert.equal(nextNodeName([nodes[0]!, nodes[2]!]), "pg2");
});

test("read-only endpoint membership from HAProxy's show stat: passing replicas, else the primary", () => {
  const header = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status\n";
  const row = (px: string, sv: string, st: string) => `${px},${sv},0,0,0,0,,0,0,0,,0,,0,0,0,0,${st}\n`;
  const both =
    header +
    row("readonly", "FRONTEND", "OPEN") +
    row("replicas", "pg2", "UP") +
    row("replicas", "pg3", "DOWN") +
    row("replicas", "BACKEND", "UP") +
    row("primary", "pg1", "UP") +
    row("primary", "pg2", "DOWN");
  assert.deepEqual([...parseServersUp(both)!], ["pg2"]);
  const none = header + row("replicas", "pg2", "DOWN 1/2") + row("primary", "pg1", "UP") + row("primary", "pg2", "DOWN");
  assert.deepEqual([...parseServersUp(none)!], ["pg1"]);
  assert.equal(parseServersUp("Unknown command\n"), undefined);
});

test("divergence: a replica whose replay stands still behind the leader's timeline, or past the primary's position, is named after 20 s", () => {
  const member = (name: string, role: string, timeline: number): PatroniMember => ({ name, role, state: "running", host: "127.0.0.1", port: 1, timeline });
  const t0 = 1_000_000;
  const limit = DIVERGED_AFTER_MS / 1000;
  // pg1 came back after a failover and stopped at the fork (timeline 1, replay fixed); pg3 is also
  // on timeline 1 but replaying toward the fork; the primary pg2 is on timeline 2.
  const watch = new DivergenceWatch();
  const at = (s: number, pg3Replayed: number) =>
    watch.observe(
      [member("pg1", "replica", 1), member("pg2", "leader", 2), member("pg3", "replica", 1)],
      new Map([
        ["pg1", 5000],
        ["pg3", pg3Replayed],
      ]),
      9000,
      t0 + s * 1000,
    );
  assert.deepEqual(at(0, 100), []);
  assert.deepEqual(at(10, 200), []);
  assert.deepEqual(at(limit - 1, 300), []);
  assert.deepEqual(at(limit, 400), ["pg1"]);
  // Once pg1 is on the leader's timeline and behind its position it is forgotten; a new sighting starts again.
  watch.observe([member("pg1", "replica", 2), member("pg2", "leader", 2)], new Map([["pg1", 5000]]), 9000, t0 + 30_000);
  assert.deepEqual(watch.observe([member("pg1", "replica", 1), member("pg2", "leader", 2)], new Map([["pg1", 5000]]), 9000, t0 + 31_000), []);

  // The other face: the WAL receiver still reports the new timeline, but the node has replayed past
  // the primary's current position. Named once that has held, replay standing still, for 20 s.
  const ahead = new DivergenceWatch();
  const seen = (s: number, primaryAt: number) => ahead.observe([member("pg1", "replica", 2), member("pg2", "leader", 2)], new Map([["pg1", 8000]]), primaryAt, t0 + s * 1000);
  assert.deepEqual(seen(0, 7000), []);
  assert.deepEqual(seen(limit, 7500), ["pg1"]);

  // Not suspect: a replica on the leader's timeline whose replay is held (behind the primary), with
  // its replay standing still for a minute; a replica exactly at the primary's position (idle).
  const held = new DivergenceWatch();
  for (let s = 0; s <= 60; s += 10)
    assert.deepEqual(
      held.observe(
        [member("pg1", "replica", 2), member("pg2", "leader", 2), member("pg3", "replica", 2)],
        new Map([
          ["pg1", 4000],
          ["pg3", 9000],
        ]),
        9000,
        t0 + s * 1000,
      ),
      [],
    );
  // No running leader (mid-failover), or no position from the replica: nothing is judged.
  const unsure = new DivergenceWatch();
  for (let s = 0; s <= 60; s += 10) {
    assert.deepEqual(unsure.observe([member("pg1", "replica", 1), { ...member("pg2", "leader", 2), state: "stopped" }], new Map([["pg1", 5000]]), 9000, t0 + s * 1000), []);
    assert.deepEqual(unsure.observe([member("pg3", "replica", 1), member("pg2", "leader", 2)], new Map(), 9000, t0 + s * 1000), []);
  }
});

test("a named replica that Patroni last saw (re)starting is worth another look; one that is far behind is not", () => {
  const primary: NodeStatus = { name: "pg1", role: "primary", state: "running", timeline: 2, postgresPort: 5432, patroniPort: 8008, lagBytes: 0, lagSeconds: 0, syncState: null, servesReads: null };
  const starting: NodeStatus = { ...primary, name: "pg2", role: "replica", state: "starting", lagBytes: null, lagSeconds: null };
  const choice = chooseCandidate([primary, starting], "pg2", false);
  assert.ok(!choice.ok && choice.transient === true);
  const behind = chooseCandidate([primary, { ...starting, state: "streaming", lagBytes: 64 * 1024 * 1024 }], "pg2", false);
  assert.ok(!behind.ok && !behind.transient);
});

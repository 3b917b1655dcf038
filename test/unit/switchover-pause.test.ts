import { test } from "node:test";
import assert from "node:assert/strict";
import { prefixEnd } from "../../src/core/network/etcd-kv.js";
import type { HostNetwork } from "../../src/core/network/host-network.js";
import type { PatroniMember } from "../../src/core/processes/patroni.js";
import { decidePause, hostsToPause, MAX_PAUSE_MS, type PauseAnnouncement, type PauseObservation } from "../../src/core/supervisor/switchover-pause.js";

const announced: PauseAnnouncement = { id: "host1-1000", host: "host1", from: "pg1", to: "db2", lease: "7" };
/** db2's host, not paused, with host1's switchover announced: every case below changes one thing. */
const base: PauseObservation = { self: "db2", now: 10_000, announced, paused: undefined, followed: undefined, candidateWritable: false };
const paused = { id: announced.id, to: "db2", since: 9000 };

test("another host's switchover pauses this host's pool once; its own, none, or one already followed, does not", () => {
  assert.deepEqual(decidePause(base), { kind: "pause", announcement: announced });
  assert.equal(decidePause({ ...base, self: "host1" }).kind, "none", "the announcer paused its own pool");
  assert.equal(decidePause({ ...base, announced: null }).kind, "none");
  assert.equal(decidePause({ ...base, announced: undefined }).kind, "none", "etcd not answering");
  assert.equal(decidePause({ ...base, followed: announced.id }).kind, "none", "resumed already (the candidate was writable before the announcement ended)");
  assert.equal(decidePause({ ...base, followed: "host1-500" }).kind, "pause", "a later switchover");
});

test("a paused pool resumes once the candidate is the writable primary, when the announcement ends, or after the bound; it waits while etcd is silent", () => {
  const p = { ...base, paused };
  assert.equal(decidePause(p).kind, "wait");
  assert.equal(decidePause({ ...p, announced: undefined }).kind, "wait", "etcd not answering is not the end of the switchover");
  assert.deepEqual(decidePause({ ...p, candidateWritable: true }), { kind: "resume", reason: "db2 is the primary and writable" });
  assert.deepEqual(decidePause({ ...p, announced: null }), { kind: "resume", reason: "the switchover ended" });
  assert.equal(decidePause({ ...p, announced: { ...announced, id: "db2-2000" } }).kind, "resume");
  assert.equal(decidePause({ ...p, announced: undefined, now: paused.since + MAX_PAUSE_MS + 1 }).kind, "resume", "a lost announcer never holds a pool longer than the bound");
});

test("the hosts asked to pause: the other data hosts that have a node in Patroni's members (not a witness, not a lost host, not this one)", () => {
  const network = {
    name: "host1",
    role: "data",
    hosts: [
      { name: "host1", address: "198.18.0.1", role: "data" },
      { name: "db2", address: "198.18.0.2", role: "data" },
      { name: "w3", address: "198.18.0.3", role: "witness" },
      { name: "db4", address: "198.18.0.4", role: "data" },
    ],
  } as unknown as HostNetwork;
  const members = [
    { name: "pg1", host: "198.18.0.1", role: "leader", state: "running", port: 5432 },
    { name: "db2", host: "198.18.0.2", role: "sync_standby", state: "streaming", port: 5432 },
  ] as PatroniMember[];
  assert.deepEqual(hostsToPause(network, members), ["db2"]);
});

test("an etcd prefix's range end is the prefix with its last byte plus one", () => {
  assert.equal(prefixEnd("/tusk-switchover/main/paused/").toString(), "/tusk-switchover/main/paused0");
  assert.deepEqual([...prefixEnd("aÿ")], [0x61, 0xc3, 0xc0], "on the UTF-8 bytes");
});

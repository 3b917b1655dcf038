import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { request } from "node:https";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeToken, encodeToken, type JoinToken } from "../../src/core/network/join-tokens.js";
import type { HostNetwork } from "../../src/core/network/host-network.js";
import type { HostTokenResult } from "../../src/core/supervisor/host-tokens.js";
import type { SupervisorStatus } from "../../src/core/supervisor/status.js";
import type { HostView } from "../../src/core/supervisor/hosts-view.js";
import { sleep } from "../helpers/backup-tools.js";
import { runCli } from "../helpers/cli.js";
import { waitFor } from "../helpers/crash-tools.js";
import { TestNetwork, type TestHost } from "../helpers/netns.js";
import { TestCluster } from "../helpers/test-cluster.js";

/**
 * A witness host joins a converted cluster. Two test hosts (network namespaces on one bridge), each
 * with its state directory on a tmpfs in its own mount namespace: neither host, nor this process,
 * can read the other's files, so whatever the witness knows came through the join.
 */
let net: TestNetwork;
/**
 * Each host's state directory: a tmpfs in its own mount namespace (a volume of its own, as a user
 * may mount at /var/lib/tusk). Seen from elsewhere it is an empty directory.
 */
const base1 = join(tmpdir(), `tusk-join-${process.pid}-h1`);
const base2 = join(tmpdir(), `tusk-join-${process.pid}-h2`);
const base3 = join(tmpdir(), `tusk-join-${process.pid}-h3`);
const dir1 = base1;
const dir2 = base2;
const dir3 = base3;
let h1: TestHost;
let h2: TestHost;
let h3: TestHost;
let cluster: TestCluster;
let token: string;

/** A command on a test host; its standard output. */
const on = (host: TestHost, ...command: string[]): string => execFileSync(host.via[0]!, [...host.via.slice(1), ...command], { encoding: "utf8" });

const joinAs = (name: string, text: string, stateDir = dir2, env: NodeJS.ProcessEnv = process.env) =>
  runCli(["--state-dir", stateDir, "join", text, "--name", name, "--address", h2.address], { via: h2.via, env, timeoutMs: 600_000 });

/** etcd's members as the first host's etcd lists them. */
function members(): { name?: string; isLearner?: boolean; peerURLs: string[] }[] {
  const out = on(h1, "env", "ETCDCTL_API=3", "etcdctl", "--endpoints", `http://127.0.0.1:${cluster.ports.etcd_client}`, "member", "list", "-w", "json");
  return (JSON.parse(out) as { members: { name?: string; isLearner?: boolean; peerURLs: string[] }[] }).members;
}

before(async () => {
  net = TestNetwork.create("join", "198.18.1");
  h1 = net.host(1, [base1]);
  h2 = net.host(2, [base2]);
  h3 = net.host(3, [base3]);
  cluster = await TestCluster.start("join", {}, undefined, h1.via, dir1);
  const made = await cluster.cli("host", "token", "--address", h1.address, "--role", "witness", "--json");
  assert.equal(made.code, 0, made.stderr);
  token = (JSON.parse(made.stdout) as HostTokenResult).token;
});

after(async () => {
  await runCli(["--state-dir", dir2, "destroy", "--yes"], { via: h2.via }).catch(() => undefined);
  await runCli(["--state-dir", dir3, "destroy", "--yes"], { via: h3.via }).catch(() => undefined);
  await cluster?.destroy();
  net?.destroy();
  rmSync(base1, { recursive: true, force: true });
  rmSync(base2, { recursive: true, force: true });
  rmSync(base3, { recursive: true, force: true });
});

test("refused joins change nothing and say why: not a token, a repo token, a wrong secret, a forged CA, an unreachable endpoint, a taken name, a skewed clock, another PostgreSQL", async () => {
  const t = decodeToken(token) as JoinToken;
  const cases: [string, string, NodeJS.ProcessEnv, number, RegExp][] = [
    ["w2", "hello", process.env, 2, /not a usable join token: not a tusk join token/],
    ["w2", encodeToken({ ...t, role: "repo" }), process.env, 7, /admits a repo host; this version of tusk joins data and witness hosts/],
    ["w2", encodeToken({ ...t, secret: "x".repeat(43) }), process.env, 2, /not one of this cluster's/],
    ["w2", encodeToken({ ...t, caFingerprint: t.caFingerprint.replace(/^../, t.caFingerprint.startsWith("00") ? "11" : "00") }), process.env, 7, /fingerprint is not the token's/],
    ["w2", encodeToken({ ...t, endpoint: `${net.subnet}.9:${t.endpoint.split(":")[1]}` }), process.env, 16, new RegExp(`Could not reach the cluster's join endpoint at ${net.subnet}\\.9:`)],
    ["host1", token, process.env, 7, /A host named host1 is already in the cluster/],
    ["w2", token, { ...process.env, TUSK_TEST_CLOCK_OFFSET_MS: "5000" }, 7, /clock is [45]\.\d s ahead of the cluster's \(at most 1 s is allowed\)/],
  ];
  for (const [name, text, env, code, message] of cases) {
    const r = await joinAs(name, text, dir2, env);
    assert.equal(r.code, code, `${message}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(on(h2, "ls", "-A", base2).trim(), "", "nothing written on the joining host");
  }
  assert.equal(members().length, 1, "etcd's membership unchanged");
  const network = JSON.parse(on(h1, "cat", join(dir1, "network.json"))) as HostNetwork;
  assert.deepEqual(
    network.hosts.map((h) => h.name),
    ["host1"],
  );
});

test("a witness joins: its etcd becomes a learner with the cluster's log; the first host records it; the token is spent; the hosts' files stay apart", async () => {
  const r = await joinAs("w2", token);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Host w2 joined the cluster: no action: witness host; etcd follows the cluster as a learner/);
  const list = members();
  assert.equal(list.length, 2);
  const witness = list.find((m) => m.peerURLs.includes(`https://${h2.address}:${cluster.ports.etcd_peer}`));
  assert.ok(witness?.isLearner, `the witness is a learner: ${JSON.stringify(list)}`);
  assert.equal(witness.name, "tusk-w2");
  const network = JSON.parse(on(h1, "cat", join(dir1, "network.json"))) as HostNetwork;
  assert.deepEqual(
    network.hosts.map((h) => [h.name, h.address, h.role]),
    [
      ["host1", h1.address, "data"],
      ["w2", h2.address, "witness"],
    ],
  );
  for (const [where, hosts] of [
    ["the first host", await cluster.cli("hosts", "--json")],
    ["the witness", await runCli(["--state-dir", dir2, "hosts", "--json"], { via: h2.via })],
  ] as const) {
    assert.equal(hosts.code, 0, hosts.stderr);
    const view = JSON.parse(hosts.stdout) as HostView[];
    assert.deepEqual(
      view.map((h) => [h.name, h.role, h.etcd, h.reachable]),
      [
        ["host1", "data", "voter", true],
        ["w2", "witness", "learner", true],
      ],
      where,
    );
    for (const h of view) assert.ok(Date.parse(h.certificateExpires ?? "") > Date.now() + 800 * 86_400_000, `${h.name}'s certificate runs for about 825 days`);
  }
  const status = JSON.parse((await runCli(["--state-dir", dir2, "status", "--json"], { via: h2.via })).stdout) as SupervisorStatus;
  assert.equal(status.phase, "ready");
  const shown = await runCli(["--state-dir", dir2, "status"], { via: h2.via });
  assert.match(shown.stdout, /— ready: no action: witness host; etcd follows the cluster as a learner/);
  assert.match(shown.stdout, /^host w2 \(witness\); state directory /m);
  assert.doesNotMatch(shown.stdout, /Metrics:/, "a witness collects no metrics");
  assert.deepEqual(
    status.processes.map((p) => [p.name, p.up]),
    [["etcd", true]],
  );
  // What the first host wrote into etcd, read on the witness through its own member.
  const keys = on(h2, "env", "ETCDCTL_API=2", "etcdctl", "--no-sync", "--endpoints", `http://127.0.0.1:${cluster.ports.etcd_client}`, "ls", "--recursive", "/tusk/tusk");
  assert.match(keys, /\/tusk\/tusk\/leader/);

  const again = await joinAs("w3", token, join(tmpdir(), `tusk-join-${process.pid}-second`));
  assert.equal(again.code, 2, again.stderr);
  assert.match(again.stderr, /already used/);
  assert.equal(on(h2, "ls", "-A", base1).trim(), "", "the first host's state directory is not visible on the witness");
  assert.equal(on(h1, "ls", "-A", base2).trim(), "", "nor the witness's on the first host");
});

test("the witness's etcd is supervised (kill -9: restarted), and losing the witness costs the cluster nothing", async () => {
  const witnessStatus = async () => JSON.parse((await runCli(["--state-dir", dir2, "status", "--json"], { via: h2.via })).stdout) as SupervisorStatus;
  const pid = (await witnessStatus()).processes.find((p) => p.name === "etcd")?.pid;
  assert.ok(pid, "etcd's pid");
  on(h2, "kill", "-9", String(pid));
  await waitFor("the witness's etcd restarted", 30_000, async () => {
    const s = await witnessStatus();
    const etcd = s.processes.find((p) => p.name === "etcd");
    return etcd?.up && etcd.pid !== pid && s.phase === "ready" ? true : undefined;
  });

  execFileSync("ip", ["link", "set", `${net.tag}v2`, "down"]);
  try {
    await sleep(8000); // past Patroni's ttl: a lost quorum would have demoted the primary by now
    const view = JSON.parse((await cluster.cli("hosts", "--json")).stdout) as HostView[];
    assert.deepEqual(
      view.map((h) => [h.name, h.reachable]),
      [
        ["host1", true],
        ["w2", false],
      ],
    );
    const write = await cluster.cli("psql", "--superuser", "-c", "CREATE TABLE after_witness_loss (id int)");
    assert.equal(write.code, 0, write.stderr);
    const status = JSON.parse((await cluster.cli("status", "--json")).stdout) as SupervisorStatus;
    assert.equal(status.phase, "ready", status.decision);

    // The dead witness is removed: its member leaves etcd's membership, the host the cluster's records.
    const removed = await cluster.cli("host", "remove", "w2");
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /Host w2 \(198\.18\.1\.2\) removed; its etcd member left the membership/);
    assert.equal(members().length, 1);
    assert.deepEqual(
      (JSON.parse((await cluster.cli("hosts", "--json")).stdout) as HostView[]).map((h) => h.name),
      ["host1"],
    );
    const unknown = await cluster.cli("host", "remove", "w9");
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /There is no host named w9/);
    const self = await cluster.cli("host", "remove", "host1");
    assert.equal(self.code, 2);
    assert.match(self.stderr, /host1 is this host/);
  } finally {
    execFileSync("ip", ["link", "set", `${net.tag}v2`, "up"]);
  }
});

test("the removed machine, cleared, joins again under the same name with a new token", async () => {
  const logs = on(h2, "sh", "-c", `tail -n 30 '${dir2}/log/supervisor.log' '${dir2}/log/keeper.log' '${dir2}/log/etcd.log' 2>&1`);
  const destroyed = await runCli(["--state-dir", dir2, "destroy", "--yes"], { via: h2.via });
  assert.equal(destroyed.code, 0, `${destroyed.stderr}\n${logs}`);
  const made = await cluster.cli("host", "token", "--role", "witness", "--json");
  assert.equal(made.code, 0, made.stderr);
  const again = await joinAs("w2", (JSON.parse(made.stdout) as HostTokenResult).token);
  assert.equal(again.code, 0, again.stderr);
  const view = JSON.parse((await cluster.cli("hosts", "--json")).stdout) as HostView[];
  assert.deepEqual(
    view.map((h) => [h.name, h.etcd, h.reachable]),
    [
      ["host1", "voter", true],
      ["w2", "learner", true],
    ],
  );
});

/** Whether the etcd member on `host` has a leader and commits a write (a majority of voters reach each other). */
function etcdCommits(host: TestHost): boolean {
  const etcdctl = ["env", "ETCDCTL_API=3", "etcdctl", "--command-timeout=3s", "--endpoints", `http://127.0.0.1:${cluster.ports.etcd_client}`];
  try {
    on(host, ...etcdctl, "put", "/tusk-join-test/quorum", String(Date.now()));
    on(host, ...etcdctl, "del", "/tusk-join-test/quorum");
    return true;
  } catch {
    return false;
  }
}

test("a third host makes three etcd voters (the learner promoted before it joins, the new one once it has the log); the two witnesses keep etcd's majority without the first host", async () => {
  const made = await cluster.cli("host", "token", "--role", "witness", "--json");
  assert.equal(made.code, 0, made.stderr);
  const joined = await runCli(["--state-dir", dir3, "join", (JSON.parse(made.stdout) as HostTokenResult).token, "--name", "w3", "--address", h3.address], { via: h3.via, timeoutMs: 600_000 });
  assert.equal(joined.code, 0, joined.stderr + joined.stdout);
  await waitFor("three voters", 90_000, async () => {
    const list = members();
    return list.length === 3 && list.every((m) => !m.isLearner) ? true : undefined;
  });
  const view = JSON.parse((await runCli(["--state-dir", dir3, "hosts", "--json"], { via: h3.via })).stdout) as HostView[];
  assert.deepEqual(
    view.map((h) => [h.name, h.role, h.etcd, h.reachable]),
    [
      ["host1", "data", "voter", true],
      ["w2", "witness", "voter", true],
      ["w3", "witness", "voter", true],
    ],
  );
  const log = on(h1, "cat", join(dir1, "log", "supervisor.log"));
  assert.match(log, /etcd: w2 promoted from learner to voter to make room for w3/);
  assert.match(log, /etcd: w3 promoted from learner to voter/);
  await waitFor("the witness reports its vote", 30_000, async () =>
    /witness host; etcd votes in the cluster's quorum/.test((await runCli(["--state-dir", dir3, "status"], { via: h3.via })).stdout) ? true : undefined,
  );

  // The first host cut off: the two witnesses are a majority of three and go on committing.
  execFileSync("ip", ["link", "set", `${net.tag}v1`, "down"]);
  try {
    await waitFor("w2 and w3 commit without the first host", 30_000, async () => (etcdCommits(h2) && etcdCommits(h3) ? true : undefined));
  } finally {
    execFileSync("ip", ["link", "set", `${net.tag}v1`, "up"]);
  }
  await waitFor("the first host back in etcd's majority, the cluster ready and writable", 90_000, async () => {
    if (!etcdCommits(h1)) return undefined;
    const status = JSON.parse((await cluster.cli("status", "--json")).stdout) as SupervisorStatus;
    if (status.phase !== "ready") return undefined;
    return (await cluster.cli("psql", "--superuser", "-c", "CREATE TABLE IF NOT EXISTS after_host1_cut (id int)")).code === 0 ? true : undefined;
  });
});

/** GET of the join endpoint's CA route from this process (another address than the hosts'); its HTTP status. */
function getCa(endpoint: string): Promise<number> {
  const [host, port] = endpoint.split(":");
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), path: "/v1/join/ca", rejectUnauthorized: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

test("the join endpoint is rate-limited per address: past 30 requests a minute, 429", async () => {
  const endpoint = (decodeToken(token) as JoinToken).endpoint;
  const statuses: number[] = [];
  for (let i = 0; i < 32; i++) statuses.push(await getCa(endpoint));
  assert.deepEqual(statuses.slice(0, 30), Array(30).fill(200));
  assert.deepEqual(statuses.slice(30), [429, 429]);
});

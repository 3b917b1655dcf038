import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { readNodes } from "../../src/core/cluster/nodes.js";
import { DEFAULT_CONFIG } from "../../src/core/config/config-file.js";
import { haproxyConfig } from "../../src/core/generate/haproxy-config.js";
import { patroniConfig } from "../../src/core/generate/patroni-config.js";
import { pgbouncerHba } from "../../src/core/generate/pgbouncer-config.js";
import { pgbackrestConf, remotePrimaryOptions } from "../../src/core/generate/pgbackrest-config.js";
import { remotePgNode } from "../../src/core/cluster/remote-primary.js";
import { drillTarget } from "../../src/core/backup/drill-baseline.js";
import { chooseCandidate, otherHostsNodes, type NodeStatus } from "../../src/core/supervisor/replication.js";
import type { PatroniMember } from "../../src/core/processes/patroni.js";
import { nodesOn } from "../../src/core/supervisor/hosts-view.js";
import { formatHostNodes } from "../../src/cli/format.js";
import { serverAltNames } from "../../src/core/tls/server-certificate.js";
import { pgHbaRules } from "../../src/core/generate/pg-hba.js";
import { conversionAddress, networkedConfig, type HostNetwork } from "../../src/core/network/host-network.js";
import { decodeToken, encodeToken, newToken, pruneTokens, spendToken, type JoinToken } from "../../src/core/network/join-tokens.js";
import { etcdArgs } from "../../src/core/processes/etcd.js";
import { joinProblems, MAX_CLOCK_SKEW_MS, type JoinRequest } from "../../src/core/network/join-protocol.js";
import { decideDataHost, decideWitness } from "../../src/core/supervisor/decide.js";
import { StatePaths } from "../../src/core/state-dir.js";

const paths = new StatePaths("/srv/tusk-test");
const network: HostNetwork = {
  address: "198.18.0.1",
  name: "host1",
  role: "data",
  hosts: [
    { name: "host1", address: "198.18.0.1", role: "data", etcdName: "tusk-etcd1" },
    { name: "h2", address: "198.18.0.2", role: "data", etcdName: "tusk-h2" },
    { name: "w3", address: "198.18.0.3", role: "witness", etcdName: "tusk-w3" },
  ],
  since: "2026-12-02T00:00:00Z",
};
const callback = { command: "/usr/bin/node /x/patroni-callback.js /srv/tusk-test/run/patroni-callback.sock" };
const secrets = { superuser: "s", replication: "r", rewind: "w", restApi: "p" };

test("conversion address: the one given or tusk.yaml's, one of this machine's, never loopback or a wildcard; a different configured address is refused", () => {
  const local = ["127.0.0.1", "::1", "198.18.0.1", "fe80::1"];
  assert.deepEqual(conversionAddress("198.18.0.1", DEFAULT_CONFIG, local), { address: "198.18.0.1" });
  assert.deepEqual(conversionAddress(undefined, { ...DEFAULT_CONFIG, listen_address: "198.18.0.1" }, local), { address: "198.18.0.1" });
  const none = conversionAddress(undefined, DEFAULT_CONFIG, local);
  assert.ok("problem" in none && /loopback only/.test(none.problem) && /--address ADDRESS \(one of: 198\.18\.0\.1\)/.test(none.hint), JSON.stringify(none));
  for (const bad of ["127.0.0.1", "0.0.0.0", "*", "::"]) assert.ok("problem" in conversionAddress(bad, DEFAULT_CONFIG, local), bad);
  const foreign = conversionAddress("198.18.0.9", DEFAULT_CONFIG, local);
  assert.ok("problem" in foreign && /not an address of this machine/.test(foreign.problem));
  const other = conversionAddress("198.18.0.1", { ...DEFAULT_CONFIG, listen_address: "10.0.0.5" }, [...local, "10.0.0.5"]);
  assert.ok("problem" in other && /listen_address is 10\.0\.0\.5/.test(other.problem));
  assert.equal(networkedConfig(DEFAULT_CONFIG, network).listen_address, "198.18.0.1");
  assert.equal(networkedConfig(DEFAULT_CONFIG, null), DEFAULT_CONFIG);
});

test("etcd: loopback HTTP alone on one machine; converted, mutual TLS for peers and clients on the address, loopback kept for local tools", () => {
  const one = etcdArgs(DEFAULT_CONFIG, paths, null).join(" ");
  assert.doesNotMatch(one, /https|--cert-file|198\.18/);
  const args = etcdArgs(DEFAULT_CONFIG, paths, network);
  const value = (flag: string) => args[args.indexOf(flag) + 1];
  assert.equal(value("--listen-client-urls"), "http://127.0.0.1:2379,https://198.18.0.1:2379");
  assert.equal(value("--advertise-client-urls"), "https://198.18.0.1:2379");
  assert.equal(value("--listen-peer-urls"), "https://198.18.0.1:2380");
  for (const flag of ["--client-cert-auth", "--peer-client-cert-auth"]) assert.ok(args.includes(flag), flag);
  assert.equal(value("--trusted-ca-file"), "/srv/tusk-test/etcd-tls/ca.crt");
  assert.equal(value("--peer-trusted-ca-file"), "/srv/tusk-test/etcd-tls/ca.crt");
  assert.ok(etcdArgs(DEFAULT_CONFIG, paths, { ...network, address: "2001:db8::1" }).includes("https://[2001:db8::1]:2380"));
});

test("patroni.yml converted: etcd over https on every host with the CA and a client certificate; the node advertised on the host's address", () => {
  const node = readNodes(DEFAULT_CONFIG, paths)[0]!;
  const one = parse(patroniConfig(DEFAULT_CONFIG, paths, node, {}, secrets, callback));
  assert.deepEqual(one.etcd, { hosts: ["127.0.0.1:2379"], protocol: "http" });
  const doc = parse(patroniConfig(networkedConfig(DEFAULT_CONFIG, network), paths, node, {}, secrets, callback, undefined, network));
  assert.deepEqual(doc.etcd, {
    hosts: ["198.18.0.1:2379", "198.18.0.2:2379", "198.18.0.3:2379"],
    protocol: "https",
    cacert: "/srv/tusk-test/tls/ca.crt",
    cert: "/srv/tusk-test/tls/server.crt",
    key: "/srv/tusk-test/tls/server.key",
  });
  assert.equal(doc.postgresql.connect_address, "198.18.0.1:5432");
  assert.equal(doc.postgresql.listen, "127.0.0.1,198.18.0.1:5432");
  assert.ok(doc.postgresql.pg_hba.includes("hostssl replication replicator 198.18.0.2/32 scram-sha-256"));
  assert.ok(!doc.postgresql.pg_hba.some((r: string) => r.includes("198.18.0.3")), "a witness runs no PostgreSQL: nothing admitted from it");
  // Patroni's API: loopback HTTP on one machine; on the address over mutual TLS once converted.
  assert.deepEqual(one.restapi.listen, "127.0.0.1:8008");
  assert.equal(one.restapi.certfile, undefined);
  assert.equal(doc.restapi.listen, "198.18.0.1:8008");
  assert.equal(doc.restapi.connect_address, "198.18.0.1:8008");
  assert.equal(doc.restapi.certfile, "/srv/tusk-test/tls/server.crt");
  assert.equal(doc.restapi.cafile, "/srv/tusk-test/tls/ca.crt");
  assert.equal(doc.restapi.verify_client, "required");
});

test("pg_hba converted: replication and pg_rewind from the cluster's hosts only, over TLS, before the rejections", () => {
  const rules = pgHbaRules("198.18.0.1", ["198.18.0.1", "198.18.0.2", "2001:db8::3"]);
  const reject = rules.indexOf("host all replicator 0.0.0.0/0 reject");
  for (const host of ["198.18.0.1/32", "198.18.0.2/32", "2001:db8::3/128"]) {
    const replication = rules.indexOf(`hostssl replication replicator ${host} scram-sha-256`);
    const rewind = rules.indexOf(`hostssl all tusk_rewind ${host} scram-sha-256`);
    assert.ok(replication >= 0 && rewind >= 0 && replication < reject && rewind < reject, host);
  }
  assert.ok(!rules.some((r) => /replication replicator (0\.0\.0\.0\/0|::\/0) scram/.test(r)), "never from anywhere");
  assert.ok(!rules.some((r) => r.includes(" postgres ") && !r.includes("reject") && !r.startsWith("local")), "the superuser: socket only");
});

test("PgBouncer's hba: the superuser from loopback only; beyond it TLS; HAProxy forwards from 127.0.0.2 when listening beyond loopback", () => {
  const wide = pgbouncerHba("198.18.0.1").trim().split("\n").slice(1);
  const first = (user: string, net: string) => wide.find((r) => r.includes(net) && (r.includes(` ${user} `) || r.includes(" all all ")));
  assert.equal(first("postgres", "0.0.0.0/0"), "host all postgres 0.0.0.0/0 reject");
  assert.equal(first("postgres", "127.0.0.1/32"), "host all postgres 127.0.0.1/32 scram-sha-256");
  assert.equal(first("app", "0.0.0.0/0"), "hostssl all all 0.0.0.0/0 scram-sha-256");
  assert.ok(!pgbouncerHba("127.0.0.1").includes("hostssl"));
  const nodes = readNodes(DEFAULT_CONFIG, paths);
  assert.doesNotMatch(haproxyConfig(DEFAULT_CONFIG, nodes, "pg1", "/s"), /source/);
  assert.match(haproxyConfig(networkedConfig(DEFAULT_CONFIG, network), nodes, "pg1", "/s"), /^ {2}source 127\.0\.0\.2$/m);
  // Converted, the checks reach Patroni on the address over TLS with the host's certificate.
  const rest = { address: "198.18.0.1", caFile: "/t/ca.crt", clientPem: "/t/client.pem" };
  const checked = haproxyConfig(networkedConfig(DEFAULT_CONFIG, network), nodes, "pg1", "/s", rest);
  assert.match(checked, /server pg1 127\.0\.0\.1:5432 check addr 198\.18\.0\.1 port 8008 check-ssl verify required ca-file \/t\/ca\.crt crt \/t\/client\.pem inter/);
  assert.doesNotMatch(haproxyConfig(DEFAULT_CONFIG, nodes, "pg1", "/s"), /check-ssl/);
  // A node of another host: reached from this host's address, checked on its own, and the direct endpoint's when it leads.
  const db2 = { name: "db2", host: "198.18.0.2", ports: { postgres: 5432, patroni: 8008 } };
  const across = haproxyConfig(networkedConfig(DEFAULT_CONFIG, network), [...nodes, db2], "db2", "/s", rest);
  assert.match(across, /server db2 198\.18\.0\.2:5432 source 198\.18\.0\.1 check addr 198\.18\.0\.2 port 8008 check-ssl verify required/);
  const direct = across.slice(across.indexOf("backend direct"));
  assert.match(direct, /server db2 198\.18\.0\.2:5432 source 198\.18\.0\.1$/m);
  assert.match(direct, /server pg1 127\.0\.0\.1:5432 disabled$/m);
});

test("join tokens: round trip; a changed or foreign text is refused with the reason; spent once; expired; kept as a hash; pruned a day after", () => {
  const now = new Date("2026-12-02T10:00:00Z");
  const { secret, stored } = newToken("witness", 3_600_000, now);
  assert.equal(stored.expiresAt, "2026-12-02T11:00:00.000Z");
  assert.ok(!JSON.stringify(stored).includes(secret));
  const token: JoinToken = { endpoint: "198.18.0.1:8432", role: "witness", secret, caFingerprint: Array.from({ length: 32 }, () => "AB").join(":") };
  const text = encodeToken(token);
  assert.deepEqual(decodeToken(`  ${text}\n`), token);
  assert.match((decodeToken("hello") as { problem: string }).problem, /not a tusk join token/);
  assert.match((decodeToken(`${text.slice(0, -10)}`) as { problem: string }).problem, /cut short|missing|malformed/);
  const wrong = Buffer.from(JSON.stringify({ e: "x:1", r: "boss", s: secret, f: token.caFingerprint })).toString("base64url");
  assert.match((decodeToken(`tusk-join-1.${wrong}`) as { problem: string }).problem, /role/);

  const spent = spendToken([stored], secret, "198.18.0.2", new Date("2026-12-02T10:30:00Z"));
  assert.ok(spent.ok);
  assert.equal(spent.store[0]!.usedBy, "198.18.0.2");
  const again = spendToken(spent.store, secret, "198.18.0.3", new Date("2026-12-02T10:31:00Z"));
  assert.deepEqual([again.ok, !again.ok && again.reason], [false, "used"]);
  const late = spendToken([stored], secret, "198.18.0.2", new Date("2026-12-02T11:00:00Z"));
  assert.deepEqual([late.ok, !late.ok && late.reason], [false, "expired"]);
  const unknown = spendToken([stored], "x".repeat(43), "198.18.0.2", now);
  assert.deepEqual([unknown.ok, !unknown.ok && unknown.reason], [false, "unknown"]);
  assert.equal(pruneTokens(spent.store, new Date("2026-12-03T10:29:00Z")).length, 1);
  assert.equal(pruneTokens(spent.store, new Date("2026-12-03T10:31:00Z")).length, 0);
});

test("a join is refused, with what to do, for a taken name or address, another PostgreSQL or extension build, or a skewed clock", () => {
  const facts = { postgresMajor: 15, extensions: { vector: "0.8.0" }, hosts: network.hosts, nodeNames: ["pg1", "pg2"], now: 1_000_000 };
  const req: JoinRequest = { secret: "s".repeat(43), name: "w4", address: "198.18.0.4", role: "witness", postgresMajor: 15, extensions: {}, clock: 1_000_000, csr: "" };
  assert.deepEqual(joinProblems(req, facts), [], "a witness needs no PostgreSQL or extension");
  const problems = (r: Partial<JoinRequest>, f: Partial<typeof facts> = {}) => joinProblems({ ...req, ...r }, { ...facts, ...f }).map((p) => p.problem);
  assert.match(problems({ name: "h2" })[0]!, /A host named h2 is already in the cluster \(198\.18\.0\.2\)/);
  assert.match(problems({ name: "Bad_Name" })[0]!, /not a name tusk can use/);
  assert.match(problems({ address: "198.18.0.2" })[0]!, /already the address of host h2/);
  assert.match(problems({ role: "data", postgresMajor: 16, extensions: { vector: "0.8.0" } })[0]!, /PostgreSQL 16; the cluster runs PostgreSQL 15/);
  assert.match(problems({ role: "data", extensions: { vector: "0.7.4" } })[0]!, /Extension vector: the cluster has 0\.8\.0, this host 0\.7\.4/);
  assert.deepEqual(problems({ clock: 1_000_000 + MAX_CLOCK_SKEW_MS }), []);
  assert.match(problems({ role: "data", name: "pg2", extensions: { vector: "0.8.0" } })[0]!, /pg2 is the name of a PostgreSQL node of the cluster/);
  assert.deepEqual(problems({ role: "witness", name: "pg2" }), [], "a witness runs no node");
  assert.match(problems({ role: "data", name: "pg2", extensions: { vector: "0.8.0" } })[0]!, /pg2 is the name of a PostgreSQL node of the cluster/);
  assert.deepEqual(problems({ role: "witness", name: "pg2" }), [], "a witness runs no node");
  assert.match(problems({ clock: 1_000_000 - 2500 })[0]!, /2\.5 s behind the cluster's/);
  const all = joinProblems({ ...req, name: "h2", address: "198.18.0.2", clock: 0 }, facts);
  assert.equal(all.length, 3, "every problem at once");
  assert.ok(all.every((p) => p.hint.length > 0));
});

test("etcd on a joined host starts into the existing cluster with every member; a witness decides on etcd alone", () => {
  const joined = { ...network, address: "198.18.0.3", name: "w3", role: "witness" as const };
  const args = etcdArgs(DEFAULT_CONFIG, paths, joined);
  const value = (flag: string) => args[args.indexOf(flag) + 1];
  assert.equal(value("--name"), "tusk-w3");
  assert.equal(value("--initial-cluster-state"), "existing");
  assert.equal(value("--initial-cluster"), "tusk-etcd1=https://198.18.0.1:2380,tusk-h2=https://198.18.0.2:2380,tusk-w3=https://198.18.0.3:2380");
  assert.equal(etcdArgs(DEFAULT_CONFIG, paths, network)[etcdArgs(DEFAULT_CONFIG, paths, network).indexOf("--initial-cluster-state") + 1], "new");

  const up = [{ name: "etcd", running: true, restarts: 0, restartAfter: null }];
  assert.match(decideWitness({ at: 0, children: up, etcd: { learner: true, leaderKnown: true } })[0]!.sentence, /learner/);
  assert.match(decideWitness({ at: 0, children: up, etcd: { learner: false, leaderKnown: true } })[0]!.sentence, /votes/);
  assert.equal(decideWitness({ at: 0, children: up, etcd: { learner: true, leaderKnown: false } })[0]!.kind, "await-etcd");
  assert.equal(decideWitness({ at: 0, children: [{ name: "etcd", running: false, restarts: 0, restartAfter: null }], etcd: undefined })[0]!.kind, "restart-child");
});

test("a joined data host says where its endpoints send writes, follows a leader that moved, and serves the other hosts' nodes", () => {
  const up = ["etcd", "patroni-db2", "pgbouncer", "haproxy"].map((name) => ({ name, running: true, restarts: 0, restartAfter: null }));
  const pg1 = { name: "pg1", role: "leader", state: "running", host: "198.18.0.1", port: 5432, timeline: 1 };
  const db2 = { name: "db2", role: "sync_standby", state: "streaming", host: "198.18.0.2", port: 5432, timeline: 1 };
  const state = {
    at: 0,
    children: up,
    etcd: { learner: false, leaderKnown: true },
    node: "db2",
    patroni: { role: "replica", state: "streaming", timeline: 1 },
    members: [pg1, db2],
    routedTo: "pg1",
    routedToHost: "198.18.0.1",
    localNodes: ["db2"],
    remoteServed: ["pg1"],
  };
  const [first, ...rest] = decideDataHost(state);
  assert.equal(first!.sentence, "no action: data host; PostgreSQL db2 is a replica (replica), timeline 1; etcd votes; PgBouncer and the direct endpoint send writes to pg1 on 198.18.0.1");
  assert.deepEqual(rest, []);

  const promoted = decideDataHost({
    ...state,
    members: [
      { ...pg1, role: "replica", state: "stopped" },
      { ...db2, role: "leader", state: "running", timeline: 2 },
    ],
  });
  assert.deepEqual(
    promoted.map((d) => d.kind),
    ["route-writes"],
    "db2 promoted: writes move to it",
  );
  const unserved = decideDataHost({ ...state, remoteServed: [] });
  assert.deepEqual(
    unserved.map((d) => d.kind),
    ["none", "serve-remote-node"],
  );
  assert.equal(decideDataHost({ ...state, children: [...up.slice(0, 2), { ...up[2]!, running: false }, up[3]!] })[0]!.kind, "restart-child");
});

test("one repository across hosts: the first host serves it over TLS to the data hosts' certificates; a data host archives there and serves its node to the first host; certificates name an address for pgBackRest too", () => {
  const tls = { cert: "/t/server.crt", key: "/t/server.key", ca: "/t/ca.crt" };
  const server = pgbackrestConf(DEFAULT_CONFIG, paths, [], { tls, server: { address: "198.18.0.1", port: 8433, clients: ["tusk server", "db2 etcd"] } });
  assert.match(server, /^repo1-path=/m);
  const section = server.slice(server.indexOf("[global:server]"), server.indexOf(`[${DEFAULT_CONFIG.cluster_name}]`));
  assert.match(section, /^tls-server-address=198\.18\.0\.1$/m);
  assert.match(section, /^tls-server-port=8433$/m);
  assert.match(section, /^tls-server-ca-file=\/t\/ca\.crt$/m);
  assert.match(section, new RegExp(`^tls-server-auth=db2 etcd=${DEFAULT_CONFIG.cluster_name}$`, "m"));
  const remote = pgbackrestConf(DEFAULT_CONFIG, paths, [], {
    tls,
    repository: { host: "198.18.0.1", port: 8433, config: "/h1/pgbackrest/pgbackrest.conf" },
    server: { address: "198.18.0.2", port: 8433, clients: ["tusk server"] },
  });
  assert.doesNotMatch(remote, /repo1-path/);
  assert.match(remote, /^tls-server-address=198\.18\.0\.2$/m);
  assert.match(remote, new RegExp(`^tls-server-auth=tusk server=${DEFAULT_CONFIG.cluster_name}$`, "m"));
  for (const line of [
    "repo1-host-type=tls",
    "repo1-host=198.18.0.1",
    "repo1-host-port=8433",
    "repo1-host-config=/h1/pgbackrest/pgbackrest.conf",
    "repo1-host-cert-file=/t/server.crt",
    "repo1-host-key-file=/t/server.key",
    "repo1-host-ca-file=/t/ca.crt",
  ]) {
    assert.ok(remote.split("\n").includes(line), line);
  }
  assert.doesNotMatch(pgbackrestConf(DEFAULT_CONFIG, paths, []), /repo1-host|global:server/, "one machine: the local repository alone");
  assert.deepEqual(serverAltNames("198.18.0.1").slice(-2), ["IP:198.18.0.1", "DNS:198.18.0.1"]);
  // A backup on the first host reaches a primary on db2's host through db2's TLS server, with db2's own paths.
  const options = remotePrimaryOptions(remotePgNode({ name: "db2", host: "198.18.0.2", port: 5432, stateDir: "/h2" }), 8433, tls);
  for (const option of [
    "--pg1-host=198.18.0.2",
    "--pg1-host-type=tls",
    "--pg1-host-port=8433",
    "--pg1-host-config=/h2/pgbackrest/pgbackrest.conf",
    "--pg1-port=5432",
    "--pg1-host-cert-file=/t/server.crt",
  ]) {
    assert.ok(options.includes(option), option);
  }
  assert.ok(
    options.some((o) => o.startsWith("--pg1-path=/h2/") && o.includes("db2")),
    "db2's data directory on its host",
  );
});

test("a drill restores to where its baseline counted: the restore point on the primary, the replica's replay position (exclusive) on another host, or the backup's end", () => {
  const base = { backupLabel: "L", recordedAt: "2026-12-06T00:00:00Z", database: "app", counts: {}, changedWhileRecorded: [] };
  assert.deepEqual(drillTarget({ ...base, restorePoint: "tusk-drill-L" }), ["--type=name", "--target=tusk-drill-L", "--target-action=promote"]);
  assert.deepEqual(drillTarget({ ...base, replayedLsn: "0/5000060" }), ["--type=lsn", "--target=0/5000060", "--target-exclusive", "--target-action=promote"]);
  assert.deepEqual(drillTarget(undefined), ["--type=immediate", "--target-action=promote"]);
});

test("a switchover across hosts chooses among this host's nodes and the other hosts' members: the synchronous standby on another host, named by Patroni's view", () => {
  const local: NodeStatus[] = [{ name: "pg1", role: "primary", state: "running", timeline: 3, postgresPort: 5432, patroniPort: 8008, lagBytes: 0, lagSeconds: 0, syncState: null, servesReads: null }];
  const members: PatroniMember[] = [
    { name: "pg1", role: "leader", state: "running", host: "198.18.0.1", port: 5432, timeline: 3 },
    { name: "db2", role: "sync_standby", state: "streaming", host: "198.18.0.2", port: 5432, api_url: "https://198.18.0.2:8008/patroni", timeline: 3, lag: 0 },
  ];
  const others = otherHostsNodes(members, local);
  assert.deepEqual(
    others.map((n) => [n.name, n.role, n.patroniPort, n.lagBytes]),
    [["db2", "sync standby", 8008, 0]],
  );
  assert.deepEqual(chooseCandidate([...local, ...others], undefined, true), { ok: true, name: "db2" });
  const behind = otherHostsNodes([members[0]!, { ...members[1]!, lag: "unknown" }], local);
  assert.equal(chooseCandidate([...local, ...behind], "db2", true).ok, false, "a member whose lag Patroni cannot tell is no candidate");
});

test("the hosts view groups Patroni's members by the address their PostgreSQL listens on", () => {
  const members: PatroniMember[] = [
    { name: "pg1", role: "leader", state: "running", host: "198.18.0.1", port: 5432 },
    { name: "db2", role: "replica", state: "streaming", host: "198.18.0.2", port: 5432, lag: 4096 },
    { name: "db3", role: "replica", state: "starting", host: "198.18.0.3", port: 5432, lag: "unknown" },
  ];
  assert.deepEqual(nodesOn("198.18.0.2", members), [{ name: "db2", role: "replica", state: "streaming", lagBytes: 4096 }]);
  assert.deepEqual(nodesOn("198.18.0.3", members)[0]!.lagBytes, null);
  assert.equal(nodesOn(undefined, members).length, 3, "one machine: every member is this host's");
  assert.equal(formatHostNodes(nodesOn("198.18.0.1", members)), "pg1 primary");
  assert.equal(formatHostNodes(nodesOn("198.18.0.2", members)), "db2 replica streaming, 4.0 kB behind");
  assert.equal(formatHostNodes([]), "-");
});

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import type { WriterReport } from "../../src/core/failover/writer.js";
import { decodeToken, tokenHash, tokenStoreFile, type JoinToken } from "../../src/core/network/join-tokens.js";
import { StatePaths } from "../../src/core/state-dir.js";
import type { HostTokenResult } from "../../src/core/supervisor/host-tokens.js";
import { etcdTlsFiles } from "../../src/core/tls/etcd-certificate.js";
import { sleep } from "../helpers/backup-tools.js";
import { TestNetwork, type TestHost } from "../helpers/netns.js";
import { TestCluster } from "../helpers/test-cluster.js";

/**
 * The first `tusk host token` converts a running one-machine cluster (a primary and a replica, under
 * a writer) for the network. The cluster runs on a test host (a network namespace); the test process
 * reaches it only over the bridge, as another host would, so everything checked from here crossed a
 * network: TLS, pg_hba, etcd's client certificates.
 */
const WRITER = fileURLToPath(new URL("../helpers/writer-main.js", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "tusk-conv-"));
let net: TestNetwork;
let host: TestHost;
let cluster: TestCluster;
let paths: StatePaths;
let converted: HostTokenResult;
let report: WriterReport;

before(async () => {
  net = TestNetwork.create("conv");
  host = net.host(1);
  cluster = await TestCluster.start("conv", { replicas: 1 }, undefined, host.via);
  paths = new StatePaths(cluster.stateDir);
  const made = await cluster.cli("psql", "--superuser", "-c", "CREATE TABLE w (id int PRIMARY KEY); GRANT ALL ON w TO app");
  assert.equal(made.code, 0, made.stderr);
});

after(async () => {
  await cluster?.destroy();
  net?.destroy();
  rmSync(work, { recursive: true, force: true });
});

/** The writer runs on the test host, through the pooler on its loopback (the only address it has before the conversion). */
function startWriter(): { stop: () => Promise<WriterReport> } {
  const out = join(work, "writer.json");
  const [command, ...args] = [...host.via, process.execPath, WRITER, cluster.url("pooled"), "w", out];
  const child: ChildProcess = spawn(command!, args, { stdio: "ignore" });
  return {
    stop: async () => {
      child.kill("SIGTERM");
      for (let i = 0; i < 100 && child.exitCode === null; i++) await sleep(100);
      if (child.exitCode === null) child.kill("SIGKILL");
      return JSON.parse(readFileSync(out, "utf8")) as WriterReport;
    },
  };
}

/** A connection from the test process (another host) to the cluster's address, verifying the server against the cluster's CA. */
function remote(port: number, user: string, password: string, database: string): pg.Client {
  const ca = readFileSync(join(cluster.stateDir, "tls", "ca.crt"), "utf8");
  return new pg.Client({ host: host.address, port, user, password, database, ssl: { ca }, connectionTimeoutMillis: 5000 });
}

const secret = (name: string) => readFileSync(join(cluster.stateDir, "secrets", `${name}.secret`), "utf8").trim();

test("the first host token converts the cluster under a writer: each step timed with what clients saw; the pooled outage is bounded and no acknowledged write is lost", async () => {
  const writer = startWriter();
  await sleep(2000);
  const r = await cluster.cli("host", "token", "--address", host.address, "--json");
  await sleep(2000);
  report = await writer.stop();
  assert.equal(r.code, 0, r.stderr + r.stdout);
  converted = JSON.parse(r.stdout) as HostTokenResult;
  const c = converted.conversion;
  assert.ok(c, "the first token converts");
  assert.equal(c.address, host.address);
  const steps = c.steps.map((s) => s.step).join("\n");
  for (const step of [/certificates/, /PostgreSQL restarting/, /PgBouncer restarting/, /HAProxy restarting/, /Patroni paused/, /etcd: peer URL/, /Patroni restarting/, /Patroni resumed/])
    assert.match(steps, step);
  for (const s of c.steps) assert.ok(s.ms >= 0 && s.clients.length > 0, JSON.stringify(s));
  assert.deepEqual([...c.restarted].sort(), ["pg1", "pg2"], "both nodes restarted to listen on the address");
  assert.ok(c.switchedOver, "the primary moved to the replica for its own restart");
  console.log(`conversion ${c.totalMs} ms; writer: ${report.acked.length} commits, ${report.errors.length} errors, longest gap ${report.maxGapMs} ms`);
  console.log(c.steps.map((s) => `  ${s.step}: ${s.ms} ms (${s.clients})`).join("\n"));
  assert.ok(report.acked.length > 100, "the writer committed throughout");
  assert.ok(report.maxGapMs < 30_000, `the pooled outage is bounded (longest gap ${report.maxGapMs} ms)`);

  // Every acknowledged write is there, read from another host through the pooler over verified TLS.
  const client = remote(cluster.ports.pooler, "app", secret("app"), "app");
  await client.connect();
  try {
    const ids = new Set((await client.query<{ id: number }>("SELECT id FROM w")).rows.map((x) => x.id));
    const lost = report.acked.filter((id) => !ids.has(id));
    assert.deepEqual(lost, [], "no acknowledged write lost");
  } finally {
    await client.end();
  }
});

/** GET /health on etcd's client port on the host's address, with or without a client certificate. */
const etcdHealth = (withCertificate: boolean) => tlsGet(cluster.ports.etcd_client, "/health", withCertificate);

/** GET over TLS on the host's address, verifying the server against the cluster's CA, with or without the host's certificate as the client's. */
function tlsGet(port: number, path: string, withCertificate: boolean): Promise<string> {
  const tls = etcdTlsFiles(paths);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: host.address,
        port,
        path,
        ca: readFileSync(tls.ca),
        ...(withCertificate ? { cert: readFileSync(join(cluster.stateDir, "tls", "server.crt")), key: readFileSync(join(cluster.stateDir, "tls", "server.key")) } : {}),
        timeout: 5000,
      },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve(body));
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}

test("converted: etcd on the address demands a client certificate from the cluster's CA; the superuser and the replication role are refused from elsewhere; the replica streams over TLS from the host's address", async () => {
  assert.match(await etcdHealth(true), /"health":"true"/);
  await assert.rejects(etcdHealth(false), "no client certificate, no answer");
  const etcdCert = new X509Certificate(readFileSync(etcdTlsFiles(paths).cert));
  assert.match(etcdCert.subjectAltName ?? "", new RegExp(`IP Address:${host.address.replace(/\./g, "\\.")}`));
  assert.equal(statSync(etcdTlsFiles(paths).key).mode & 0o777, 0o600);

  // Directly, through HAProxy (which connects from 127.0.0.2, not as a local client) and through
  // PgBouncer (its own hba rules): the superuser, replication and rewind roles never get in from here.
  const refusals: [string, string, number, RegExp][] = [
    ["postgres", "superuser", cluster.ports.postgres, /pg_hba\.conf rejects/],
    ["postgres", "superuser", cluster.ports.direct, /pg_hba\.conf rejects/],
    ["postgres", "superuser", cluster.ports.pooler, /login rejected/],
    ["replicator", "replication", cluster.ports.postgres, /pg_hba\.conf rejects/],
    ["replicator", "replication", cluster.ports.direct, /pg_hba\.conf rejects/],
    ["tusk_rewind", "rewind", cluster.ports.postgres, /pg_hba\.conf rejects/],
  ];
  for (const [user, name, port, refusal] of refusals) {
    const client = remote(port, user, secret(name), "app");
    const error = await client.connect().then(
      () => new Error("connected"),
      (e: Error) => e,
    );
    await client.end().catch(() => undefined);
    assert.match(error.message, refusal, `${user} from ${net.gateway} on port ${port}: ${error.message}`);
  }
  // The application role gets in on each endpoint, over TLS verified against the cluster's CA.
  for (const port of [cluster.ports.postgres, cluster.ports.direct, cluster.ports.pooler]) {
    const client = remote(port, "app", secret("app"), "app");
    await client.connect();
    await client.end();
  }

  // Patroni's API on the address, for the other hosts' Patroni: TLS, a client certificate of the
  // cluster's CA required; every member advertised there over https.
  const patroniPort = cluster.ports.patroni;
  const node = JSON.parse(await tlsGet(patroniPort, "/patroni", true)) as { state: string };
  assert.equal(node.state, "running");
  await assert.rejects(tlsGet(patroniPort, "/patroni", false), "no client certificate, no answer");
  const view = JSON.parse(await tlsGet(patroniPort, "/cluster", true)) as { members: { name: string; api_url: string }[] };
  for (const m of view.members) assert.match(m.api_url, new RegExp(`^https://${host.address.replace(/\./g, "\\.")}:\\d+/patroni$`), JSON.stringify(view.members));
  // HAProxy checks Patroni there over TLS: the read-only endpoint reaches the replica.
  const reader = remote(cluster.ports.readonly, "app", secret("app"), "app");
  await reader.connect();
  try {
    assert.equal((await reader.query<{ r: boolean }>("SELECT pg_is_in_recovery() AS r")).rows[0]?.r, true, "the read-only endpoint serves from the replica");
  } finally {
    await reader.end();
  }

  const replication = await cluster.cli(
    "psql",
    "--superuser",
    "-At",
    "-c",
    "SELECT r.application_name, r.client_addr, s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE r.state = 'streaming'",
  );
  assert.equal(replication.code, 0, replication.stderr);
  assert.match(replication.stdout, new RegExp(`^pg\\d\\|${host.address.replace(/\./g, "\\.")}\\|t$`, "m"), `the replica streams from ${host.address} over TLS: ${replication.stdout}`);
});

test("the token: its endpoint and the CA's fingerprint; kept only as a hash, root-only; the next token converts nothing; a different address and a bad ttl are refused", async () => {
  const token = decodeToken(converted.token) as JoinToken;
  assert.ok(!("problem" in token), JSON.stringify(token));
  assert.equal(token.endpoint, `${host.address}:${cluster.ports.api}`);
  assert.equal(token.role, "data");
  const ca = await cluster.cli("ca");
  assert.equal(token.caFingerprint, new X509Certificate(ca.stdout).fingerprint256);
  const store = readFileSync(tokenStoreFile(paths), "utf8");
  assert.ok(store.includes(tokenHash(token.secret)), "the store keeps the secret's hash");
  assert.ok(!store.includes(token.secret), "never the secret");
  assert.equal(statSync(tokenStoreFile(paths)).mode & 0o777, 0o600);

  const next = await cluster.cli("host", "token", "--role", "witness", "--ttl", "30min", "--json");
  assert.equal(next.code, 0, next.stderr);
  const second = JSON.parse(next.stdout) as HostTokenResult;
  assert.equal(second.conversion, null);
  assert.equal(second.role, "witness");
  const minutes = (Date.parse(second.expiresAt) - Date.now()) / 60_000;
  assert.ok(minutes > 28 && minutes <= 30, `expires in ${minutes} min`);

  const elsewhere = await cluster.cli("host", "token", "--address", "198.18.0.77");
  assert.equal(elsewhere.code, 2, elsewhere.stderr);
  assert.match(elsewhere.stderr, /already converted on 198\.18\.0\.1/);
  const short = await cluster.cli("host", "token", "--ttl", "10s");
  assert.equal(short.code, 2, short.stderr);
  assert.match(short.stderr, /between 1 minute and 7 days/);
});

test("a converted cluster stays converted across tusk down and tusk up: etcd comes back on the address with mutual TLS", async () => {
  const down = await cluster.cli("down");
  assert.equal(down.code, 0, down.stderr);
  const up = await cluster.cli("up");
  assert.equal(up.code, 0, up.stderr);
  assert.match(await etcdHealth(true), /"health":"true"/);
  const client = remote(cluster.ports.pooler, "app", secret("app"), "app");
  await client.connect();
  try {
    assert.ok(Number((await client.query<{ n: string }>("SELECT count(*) AS n FROM w")).rows[0]!.n) >= report.acked.length);
  } finally {
    await client.end();
  }
});

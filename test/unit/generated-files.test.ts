import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { readNodes } from "../../src/core/cluster/nodes.js";
import { DEFAULT_CONFIG, parseConfig } from "../../src/core/config/config-file.js";
import { effectiveSettings, asRecord } from "../../src/core/config/effective-settings.js";
import { patroniConfig, PATRONI_TIMING } from "../../src/core/generate/patroni-config.js";
import { pgbouncerIni, pgbouncerUserlist } from "../../src/core/generate/pgbouncer-config.js";
import { pgHbaRules } from "../../src/core/generate/pg-hba.js";
import { haproxyConfig } from "../../src/core/generate/haproxy-config.js";
import { StatePaths } from "../../src/core/state-dir.js";
import { GiB } from "../../src/core/config/units.js";

const callback = { command: "/usr/bin/node /x/patroni-callback.js /srv/tusk-test/run/patroni-callback.sock" };

/** Generated text is checked here and started for real in test/cluster. */
const paths = new StatePaths("/srv/tusk-test");
const host = { memoryBytes: 24 * GiB, cores: 2, ssd: true, storageWhy: "test", diskFreeBytes: 100 * GiB };

test("pg_hba: no trust anywhere; SCRAM on TCP; TLS only rules when listening beyond loopback, where the superuser, replication and rewind roles are rejected", () => {
  const local = pgHbaRules("127.0.0.1");
  assert.ok(local.every((r) => !/\btrust\b/.test(r)));
  assert.ok(local.filter((r) => r.startsWith("host")).every((r) => r.endsWith("scram-sha-256")));
  assert.ok(!local.some((r) => r.startsWith("hostssl")));
  const wide = pgHbaRules("10.1.2.3");
  const remote = wide.filter((r) => r.includes("0.0.0.0/0") || r.includes("::/0"));
  const admitted = remote.filter((r) => !r.endsWith(" reject"));
  assert.ok(admitted.length > 0 && admitted.every((r) => r.startsWith("hostssl")));
  assert.ok(!wide.some((r) => r.includes("replication") && !r.includes("127.0.0.1") && !r.includes("::1/128")), "no replication from the network on one host");
  // First match wins: each of these roles meets its reject rule before any rule that admits it.
  for (const role of ["postgres", "replicator", "tusk_rewind"]) {
    for (const net of ["0.0.0.0/0", "::/0"]) {
      const first = wide.findIndex((r) => r.includes(net) && (r.includes(` ${role} `) || r.startsWith("hostssl all all")));
      assert.equal(wide[first], `host all ${role} ${net} reject`, `${role} from ${net}`);
    }
  }
});

test("patroni.yml: etcd (v2 protocol), authenticated REST API, parameters bootstrapped into etcd, timing rule holds", () => {
  const params = asRecord(effectiveSettings(DEFAULT_CONFIG, host).postgres);
  const doc = parse(patroniConfig(DEFAULT_CONFIG, paths, readNodes(DEFAULT_CONFIG, paths)[0]!, params, { superuser: "s", replication: "r", rewind: "w", restApi: "p" }, callback));
  assert.deepEqual(doc.etcd.hosts, ["127.0.0.1:2379"]);
  assert.equal(doc.etcd3, undefined, "Patroni 3.0.2's etcd3 client can overwrite a new leader's key");
  assert.equal(doc.restapi.listen, "127.0.0.1:8008");
  assert.equal(doc.restapi.authentication.password, "p");
  assert.equal(doc.postgresql.listen, "127.0.0.1:5432");
  assert.equal(doc.postgresql.data_dir, "/srv/tusk-test/postgresql/data");
  assert.equal(doc.postgresql.parameters.unix_socket_directories, "/srv/tusk-test/run/postgresql");
  assert.equal(doc.bootstrap.dcs.postgresql.parameters.shared_buffers, params.shared_buffers);
  assert.equal(doc.bootstrap.dcs.postgresql.use_pg_rewind, true);
  assert.deepEqual(doc.postgresql.authentication.rewind, { username: "tusk_rewind", password: "w" }, "pg_rewind as its own role, not the superuser");
  assert.ok(doc.bootstrap.initdb.includes("data-checksums"));
  const t = Object.fromEntries(PATRONI_TIMING.map((s) => [s.name, Number(s.value)]));
  assert.ok(t.loop_wait! + 2 * t.retry_timeout! <= t.ttl!, "loop_wait + 2 × retry_timeout ≤ ttl");
  assert.equal(doc.bootstrap.dcs.ttl, t.ttl);
  assert.equal(doc.bootstrap.dcs.failsafe_mode, true);
  assert.equal(doc.bootstrap.dcs.synchronous_mode, true, "one synchronous standby by default");
  assert.equal(doc.bootstrap.dcs.synchronous_mode_strict, false);
  assert.equal(doc.postgresql.callbacks.on_role_change, callback.command);
  assert.match(
    doc.postgresql.parameters.archive_command,
    /--pg1-path=\/srv\/tusk-test\/postgresql\/data --spool-path=\/srv\/tusk-test\/pgbackrest\/spool --lock-path=\/srv\/tusk-test\/run\/pgbackrest archive-push %p$/,
  );
  assert.match(doc.postgresql.parameters.archive_command, /^TZ=UTC \//, "pgBackRest's archive-push logs carry UTC times, which tusk reads for dropped WAL");
});

test("patroni.yml for a replica node: its own ports, directories and archive_command; strict mode", () => {
  const config = parseConfig("replication_mode: strict\n", "t");
  const node = { name: "pg3", ports: { postgres: 7101, patroni: 7102 } };
  const doc = parse(patroniConfig(config, paths, node, {}, { superuser: "s", replication: "r", rewind: "w", restApi: "p" }, callback));
  assert.equal(doc.name, "pg3");
  assert.equal(doc.restapi.listen, "127.0.0.1:7102");
  assert.equal(doc.postgresql.listen, "127.0.0.1:7101");
  assert.equal(doc.postgresql.data_dir, "/srv/tusk-test/nodes/pg3/data");
  assert.equal(doc.postgresql.parameters.unix_socket_directories, "/srv/tusk-test/run/postgresql-pg3");
  assert.match(
    doc.postgresql.parameters.archive_command,
    /--pg1-path=\/srv\/tusk-test\/nodes\/pg3\/data --spool-path=\/srv\/tusk-test\/pgbackrest\/spool\/pg3 --lock-path=\/srv\/tusk-test\/run\/pgbackrest\/pg3 archive-push/,
  );
  assert.equal(doc.bootstrap.dcs.synchronous_mode_strict, true);
  // pgBackRest refuses archive-get from a data directory other than pg1-path: the node names its own.
  assert.match(
    doc.postgresql.recovery_conf.restore_command,
    /--pg1-path=\/srv\/tusk-test\/nodes\/pg3\/data --spool-path=\/srv\/tusk-test\/pgbackrest\/spool\/pg3 --lock-path=\/srv\/tusk-test\/run\/pgbackrest\/pg3 archive-get %f "%p"$/,
  );
});

test("pgbouncer.ini: transaction and session entries, SCRAM, prepared statements, tuned values", () => {
  const config = parseConfig("database: shop\nports:\n  pooler: 7000\n  postgres: 7001\n", "t");
  const ini = pgbouncerIni(config, paths, effectiveSettings(config, host).pgbouncer);
  assert.match(ini, /^shop = host=127\.0\.0\.1 port=7001 dbname=shop$/m);
  assert.match(ini, /^shop_session = host=127\.0\.0\.1 port=7001 dbname=shop pool_mode=session$/m);
  assert.match(ini, /^listen_port = 7000$/m);
  assert.match(ini, /^auth_type = hba$/m); // SCRAM, by the rules of pgbouncerHba (host-network.test.ts)
  assert.match(ini, /^pool_mode = transaction$/m);
  assert.match(ini, /^max_prepared_statements = 200$/m);
  assert.match(ini, /^max_client_conn = 2000$/m);
  assert.match(ini, /^stats_users = tusk_monitor$/m);
});

test("userlist.txt quotes names and verifiers", () => {
  assert.equal(pgbouncerUserlist({ app: "SCRAM-SHA-256$4096:abc", 'we"ird': "x" }), '"app" "SCRAM-SHA-256$4096:abc"\n"we""ird" "x"\n');
});

test("TLS: PgBouncer offers it on loopback and requires it beyond; PostgreSQL ssl is node-local; strings say sslmode", () => {
  const local = pgbouncerIni(DEFAULT_CONFIG, paths, effectiveSettings(DEFAULT_CONFIG, host).pgbouncer);
  assert.match(local, /^client_tls_sslmode = allow$/m);
  assert.match(local, /^client_tls_cert_file = \/srv\/tusk-test\/tls\/server\.crt$/m);
  const wide = parseConfig("listen_address: 10.1.2.3\n", "t");
  assert.match(pgbouncerIni(wide, paths, effectiveSettings(wide, host).pgbouncer), /^client_tls_sslmode = require$/m);
  assert.match(pgbouncerIni(wide, paths, effectiveSettings(wide, host).pgbouncer), /^listen_addr = 127\.0\.0\.1,10\.1\.2\.3$/m);
  const doc = parse(patroniConfig(wide, paths, readNodes(wide, paths)[0]!, {}, { superuser: "s", replication: "r", rewind: "w", restApi: "p" }, callback));
  assert.equal(doc.postgresql.parameters.ssl, "on");
  assert.equal(doc.postgresql.parameters.ssl_key_file, "/srv/tusk-test/tls/server.key");
  assert.equal(doc.postgresql.listen, "127.0.0.1,10.1.2.3:5432");
});

test("haproxy.cfg: every node in every backend; reads by Patroni's /replica with the lag limit, else /primary; direct only on the primary", () => {
  const config = parseConfig("read_only_max_lag: 1MB\nports: { readonly: 7433, direct: 7434 }", "t.yaml");
  const nodes = [
    { name: "pg1", ports: { postgres: 5432, patroni: 8008 } },
    { name: "pg2", ports: { postgres: 5433, patroni: 8009 } },
  ];
  const cfg = haproxyConfig(config, nodes, "pg2", "/run/h.sock");
  assert.match(cfg, /frontend readonly\n {2}bind 127\.0\.0\.1:7433/);
  assert.match(cfg, /frontend direct\n {2}bind 127\.0\.0\.1:7434\n {2}default_backend direct/);
  // The direct backend has no health check: the supervisor routes it, only the primary enabled.
  assert.match(cfg, /backend direct\n {2}mode tcp\n {2}balance first\n {2}server pg1 127\.0\.0\.1:5432 disabled\n {2}server pg2 127\.0\.0\.1:5433\n/);
  assert.match(cfg, /stats socket \/run\/h\.sock mode 600 level admin/);
  assert.match(cfg, /backend replicas[^]*option httpchk OPTIONS \/replica\?lag=1048576[^]*server pg2 127\.0\.0\.1:5433 check port 8009/);
  assert.match(cfg, /backend primary[^]*option httpchk OPTIONS \/primary[^]*server pg1 127\.0\.0\.1:5432 check port 8008/);
  assert.match(cfg, /use_backend replicas if \{ nbsrv\(replicas\) gt 0 \}\n {2}default_backend primary/);
  assert.match(cfg, /on-marked-down shutdown-sessions/);
});

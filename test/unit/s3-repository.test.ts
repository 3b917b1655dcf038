import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { repositoryFrom } from "../../src/core/backup/operations.js";
import { readNodes } from "../../src/core/cluster/nodes.js";
import { parseConfig, type TuskConfig } from "../../src/core/config/config-file.js";
import { asRecord, effectiveSettings } from "../../src/core/config/effective-settings.js";
import { GiB } from "../../src/core/config/units.js";
import { ExitCode, TuskError } from "../../src/core/errors.js";
import { patroniConfig } from "../../src/core/generate/patroni-config.js";
import { hostTls, pgbackrestConf, primaryRepository, repositories } from "../../src/core/generate/pgbackrest-config.js";
import { StatePaths } from "../../src/core/state-dir.js";

/** backups.s3 as tusk.yaml states it, and what pgBackRest's file and the archive commands make of it. */
const dir = mkdtempSync(join(tmpdir(), "tusk-s3-unit-"));
const secret = join(dir, "key");
writeFileSync(secret, "SECRET\n", { mode: 0o600 });
after(() => rmSync(dir, { recursive: true, force: true }));

const paths = new StatePaths("/srv/tusk-test");
const host = { memoryBytes: 24 * GiB, cores: 2, ssd: true, storageWhy: "test", diskFreeBytes: 100 * GiB };

function configWith(s3: Record<string, unknown> | null): TuskConfig {
  const yaml = s3
    ? `backups:\n  s3:\n${Object.entries(s3)
        .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)
        .join("\n")}\n`
    : "";
  return parseConfig(yaml, "tusk.yaml");
}

const S3 = { endpoint: "198.18.4.3:9000", bucket: "b", uri_style: "path", access_key_id: "AK", secret_access_key_file: secret };

const conf = (config: TuskConfig) => pgbackrestConf(config, paths, effectiveSettings(config, host).pgbackrest);

test("backups.s3.only: a boolean, refused otherwise with what it must be", () => {
  assert.equal(configWith(S3).s3?.only, false, "S3 beside the local repository unless told");
  assert.equal(configWith({ ...S3, only: true }).s3?.only, true);
  assert.throws(
    () => configWith({ ...S3, only: "yes" }),
    (e: unknown) => e instanceof TuskError && e.exitCode === ExitCode.InvalidConfig && /backups\.s3\.only: must be true or false, not "yes"/.test(`${e.message} ${e.detail ?? ""} ${e.hint ?? ""}`),
  );
});

test("the repositories: local alone, local then S3, or S3 alone (still repo 2, so a set's number means the same everywhere)", () => {
  assert.deepEqual(repositories(configWith(null)), [1]);
  assert.deepEqual(repositories(configWith(S3)), [1, 2]);
  assert.deepEqual(repositories(configWith({ ...S3, only: true })), [2]);
  assert.equal(primaryRepository(configWith({ ...S3, only: true })), 2);
  assert.equal(primaryRepository(configWith(S3)), 1);
});

test("pgbackrest.conf with S3 only: no repo1 at all, the tuned retention and compression on repo2, the secret copied in", () => {
  const both = conf(configWith(S3));
  assert.match(both, /^repo1-path=\/srv\/tusk-test\//m);
  assert.match(both, /^repo2-type=s3$/m);
  const only = conf(configWith({ ...S3, only: true }));
  assert.doesNotMatch(only, /^repo1-/m, "pgBackRest allows repo2 without repo1");
  assert.match(only, /^repo2-type=s3$/m);
  assert.match(only, /^repo2-s3-endpoint=198\.18\.4\.3$/m);
  assert.match(only, /^repo2-storage-port=9000$/m);
  assert.match(only, /^repo2-s3-key-secret=SECRET$/m);
  assert.match(only, /^repo2-path=\/tusk\/tusk$/m);
  const tunedRepo1 = both.split("\n").filter((l) => l.startsWith("repo1-") && !l.startsWith("repo1-path"));
  assert.ok(tunedRepo1.length > 0);
  for (const line of tunedRepo1) assert.ok(only.includes(`repo2-${line.slice("repo1-".length)}`), `${line} applies to repo2`);
  // A joined data host's file: with S3 only it names no repository host either.
  const links = { tls: hostTls(paths), repository: { host: "198.18.4.1", port: 8433, config: "/x/pgbackrest.conf" } };
  assert.doesNotMatch(pgbackrestConf(configWith({ ...S3, only: true }), paths, [], links), /repo1-host/);
  assert.match(pgbackrestConf(configWith(S3), paths, [], links), /^repo1-host=198\.18\.4\.1$/m);
});

test("a replica's WAL fetch probes the object store for half a second first when it is the only repository", () => {
  const config = configWith({ ...S3, only: true });
  const params = asRecord(effectiveSettings(config, host).postgres);
  const node = readNodes(config, paths)[0]!;
  const doc = parse(patroniConfig(config, paths, node, params, { superuser: "s", replication: "r", rewind: "w", restApi: "p" }, { command: "cb" }));
  assert.match(doc.postgresql.recovery_conf.restore_command, /^timeout 0\.5 bash -c '<\/dev\/tcp\/198\.18\.4\.3\/9000' 2>\/dev\/null && .* archive-get %f "%p"$/);
  const local = parse(patroniConfig(configWith(S3), paths, node, params, { superuser: "s", replication: "r", rewind: "w", restApi: "p" }, { command: "cb" }));
  assert.doesNotMatch(local.postgresql.recovery_conf.restore_command, /timeout/, "the local repository needs no probe");
});

test("a restore's --from is checked against the cluster's repositories", () => {
  assert.equal(repositoryFrom(configWith(S3), "s3"), 2);
  assert.equal(repositoryFrom(configWith(S3), "local"), 1);
  assert.equal(repositoryFrom(configWith(S3), undefined), undefined);
  assert.throws(() => repositoryFrom(configWith(null), "s3"), /this cluster has no S3 repository/);
  assert.throws(() => repositoryFrom(configWith({ ...S3, only: true }), "local"), /only repository is S3/);
  assert.throws(() => repositoryFrom(configWith(S3), "tape"), /--from must be "local" or "s3"/);
});

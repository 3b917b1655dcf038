import { test } from "node:test";
import assert from "node:assert/strict";
import { RULES } from "../../src/core/alerts/rules/index.js";
import { Snapshot } from "../../src/core/metrics/sample.js";
import { renewalDue, type CertificateFact } from "../../src/core/tls/certificate-facts.js";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKeyAndRequest, ensureClusterCa, signRequest } from "../../src/core/tls/cluster-ca.js";
import { StatePaths } from "../../src/core/state-dir.js";

const DAY = 86_400_000;
const now = Date.parse("2026-12-06T00:00:00Z");
const cert = (certificate: CertificateFact["certificate"], days: number, host = "host1"): CertificateFact => ({ host, certificate, expiresAt: new Date(now + days * DAY).toISOString(), serial: "01" });

test("a host's certificates are renewed 45 days before the first of its server and etcd certificates ends; the CA's does not count", () => {
  assert.equal(renewalDue([cert("ca", 3000), cert("server", 800), cert("etcd", 800)], now), false);
  assert.equal(renewalDue([cert("ca", 3000), cert("server", 800), cert("etcd", 44)], now), true);
  assert.equal(renewalDue([cert("server", 46)], now), false);
  assert.equal(renewalDue([cert("ca", 10)], now), false, "the CA is not renewed this way (the alert says so)");
  assert.equal(renewalDue([cert("server", -1)], now), true, "an ended one too");
});

test("certificate-expiring fires for each certificate ending within 30 days (this host's, or another host's as recorded), saying which and when", () => {
  const rule = RULES.find((r) => r.id === "certificate-expiring")!;
  const snap = new Snapshot(new Date(now), [
    { name: "tusk_certificate_expiry_seconds", labels: { host: "host1", certificate: "server" }, value: 800 * 86_400 },
    { name: "tusk_certificate_expiry_seconds", labels: { host: "db2", certificate: "etcd" }, value: 12 * 86_400 },
    { name: "tusk_certificate_expiry_seconds", labels: { host: "w3", certificate: "etcd" }, value: -3600 },
  ]);
  const breaches = rule.evaluate({ now: snap, previous: undefined, windowStart: undefined }, rule.threshold);
  assert.deepEqual(
    breaches.map((b) => [b.labels, Math.round(b.value) + 0, b.summary]),
    [
      [{ host: "db2", certificate: "etcd" }, 12, "the etcd certificate of db2 ends in 12.0 d"],
      [{ host: "w3", certificate: "etcd" }, 0, "the etcd certificate of w3 has ended"],
    ],
  );
});

test("the CA signs a request under the name it is given, whatever name the request asks for (a host cannot get the first host's)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tusk-ca-"));
  try {
    const ca = await ensureClusterCa(new StatePaths(join(dir, "state")), "unit");
    await createKeyAndRequest("tusk server", join(dir, "w3.key"), join(dir, "w3.csr"));
    await signRequest(ca, join(dir, "w3.csr"), "w3 etcd", ["IP:198.18.0.3"], 1, join(dir, "w3.crt"));
    const x = new X509Certificate(readFileSync(join(dir, "w3.crt")));
    assert.equal(x.subject, "O=tusk\nCN=w3 etcd");
    assert.equal(x.subjectAltName, "IP Address:198.18.0.3");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

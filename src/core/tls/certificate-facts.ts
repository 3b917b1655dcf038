import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { StatePaths } from "../state-dir.js";
import { clusterCa } from "./cluster-ca.js";
import { etcdTlsFiles } from "./etcd-certificate.js";
import { tlsFiles } from "./server-certificate.js";

/** One certificate a host uses, and when it ends. */
export interface CertificateFact {
  host: string;
  /** ca: the cluster's CA; server: PostgreSQL, PgBouncer, Patroni's API, pgBackRest's TLS server; etcd: etcd's peers and clients. */
  certificate: "ca" | "server" | "etcd";
  /** ISO 8601. */
  expiresAt: string;
  /** Hex, as openssl prints it (null for a certificate recorded for another host). */
  serial: string | null;
}

/** The supervisor renews a host's certificates (server and etcd) this many days before the first ends; the alert fires at 30. */
export const RENEW_BEFORE_DAYS = 45;

/** The certificates this host holds, read from their files: the CA's, the server's, etcd's (on a converted host). */
export function ownCertificates(paths: StatePaths, host: string): CertificateFact[] {
  const files: [CertificateFact["certificate"], string][] = [
    ["ca", clusterCa(paths).cert],
    ["server", tlsFiles(paths).cert],
    ["etcd", etcdTlsFiles(paths).cert],
  ];
  return files
    .filter(([, file]) => existsSync(file))
    .map(([certificate, file]) => {
      const x = new X509Certificate(readFileSync(file));
      return { host, certificate, expiresAt: new Date(x.validTo).toISOString(), serial: x.serialNumber };
    });
}

/** Pure: whether this host's renewable certificates (not the CA's) end within `days` of `now`. */
export function renewalDue(facts: readonly CertificateFact[], now: number, days = RENEW_BEFORE_DAYS): boolean {
  return facts.some((f) => f.certificate !== "ca" && Date.parse(f.expiresAt) - now < days * 86_400_000);
}

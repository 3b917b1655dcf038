import { join } from "node:path";
import { run } from "../exec.js";
import { isLoopback } from "../generate/pg-hba.js";
import type { OsUser } from "../os-user.js";
import { ensureDir, type StatePaths } from "../state-dir.js";
import { ensureClusterCa, issueCertificate, issuedByAndValid } from "./cluster-ca.js";

export interface TlsFiles {
  cert: string;
  key: string;
}

export function tlsFiles(paths: StatePaths): TlsFiles {
  return { cert: join(paths.tlsDir, "server.crt"), key: join(paths.tlsDir, "server.key") };
}

/** The common name of the certificate `tusk up` makes (the first host's, on a converted cluster). */
export const SERVER_CERTIFICATE_NAME = "tusk server";

/** Validity of a server certificate, and how long before its end a start renews it. */
const SERVER_CERT_DAYS = 825;
const RENEW_BEFORE_DAYS = 30;

/**
 * The names a server certificate covers: loopback, and the configured listen address when it is one
 * — as an IP entry and as a DNS entry too: pgBackRest 2.45's TLS client matches the host it dials
 * against the certificate's CN and DNS entries only ("unable to find hostname '10.0.0.1' in
 * certificate common name or subject alternative names" with an IP entry alone, measured here).
 */
export function serverAltNames(listenAddress: string): string[] {
  const names = ["DNS:localhost", "IP:127.0.0.1", "IP:0:0:0:0:0:0:0:1"];
  if (!isLoopback(listenAddress) && /^[0-9.:a-fA-F]+$/.test(listenAddress) && listenAddress !== "0.0.0.0") names.push(...hostAltNames(listenAddress));
  return names;
}

/** A host address as a certificate names it: an IP entry (PostgreSQL, etcd, Patroni) and a DNS entry (pgBackRest). */
export function hostAltNames(address: string): string[] {
  return [`IP:${address}`, `DNS:${address}`];
}

/** Whether the certificate's subjectAltName covers every name (as openssl prints them). */
async function covers(cert: string, names: string[]): Promise<boolean> {
  const r = await run("openssl", ["x509", "-in", cert, "-noout", "-ext", "subjectAltName"]);
  const shown = r.stdout;
  return names.every((n) => shown.includes(n.replace(/^IP:/, "IP Address:")));
}

/**
 * The server certificate of PostgreSQL and PgBouncer, issued by the cluster's CA (cluster-ca.ts) for
 * 127.0.0.1, localhost and the configured listen address. Kept across restarts; issued again when it
 * is missing, not the CA's (a cluster from before the CA had a self-signed one), ends within 30
 * days, or does not cover the listen address; and when `renew` asks for it (tusk certs renew). Owned by postgres, key 0600 as PostgreSQL requires.
 */
export async function ensureServerCertificate(paths: StatePaths, listenAddress: string, clusterName: string, owner: OsUser, renew = false): Promise<TlsFiles> {
  const files = tlsFiles(paths);
  const ca = await ensureClusterCa(paths, clusterName);
  const names = serverAltNames(listenAddress);
  if (!renew && (await issuedByAndValid(ca, files.cert, RENEW_BEFORE_DAYS)) && (await covers(files.cert, names))) return files;
  ensureDir(paths.tlsDir, 0o700, { uid: owner.uid, gid: owner.gid });
  await issueCertificate(ca, { name: SERVER_CERTIFICATE_NAME, altNames: names, cert: files.cert, key: files.key, owner: { uid: owner.uid, gid: owner.gid }, days: SERVER_CERT_DAYS });
  return files;
}

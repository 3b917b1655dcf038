import { X509Certificate } from "node:crypto";
import { copyFileSync, chmodSync, chownSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { OsUser } from "../os-user.js";
import { ensureDir, type StatePaths } from "../state-dir.js";
import { ensureClusterCa, issueCertificate, issuedByAndValid } from "./cluster-ca.js";

export interface EtcdTlsFiles {
  dir: string;
  cert: string;
  key: string;
  /** A copy of the CA's certificate: etcd runs as its own OS user and cannot read tls/. */
  ca: string;
}

export function etcdTlsFiles(paths: StatePaths): EtcdTlsFiles {
  const dir = join(paths.root, "etcd-tls");
  return { dir, cert: join(dir, "etcd.crt"), key: join(dir, "etcd.key"), ca: join(dir, "ca.crt") };
}

const ETCD_CERT_DAYS = 825;
const RENEW_BEFORE_DAYS = 30;

/**
 * etcd's certificate for peers and clients on the host's address (and loopback), issued by the
 * cluster's CA, in a directory only etcd's OS user reads. Issued again when missing, not the CA's,
 * ending within 30 days, or when `renew` asks for it (tusk certs renew).
 */
export async function ensureEtcdCertificate(paths: StatePaths, clusterName: string, address: string, owner: OsUser, renew = false): Promise<EtcdTlsFiles> {
  const files = etcdTlsFiles(paths);
  const ca = await ensureClusterCa(paths, clusterName);
  const own = { uid: owner.uid, gid: owner.gid };
  ensureDir(files.dir, 0o700, own);
  copyFileSync(ca.cert, files.ca);
  chmodSync(files.ca, 0o644);
  chownSync(files.ca, own.uid, own.gid);
  if (!renew && (await issuedByAndValid(ca, files.cert, RENEW_BEFORE_DAYS)) && new X509Certificate(readFileSync(files.cert)).subjectAltName?.includes(`IP Address:${address}`)) return files;
  await issueCertificate(ca, { name: `${clusterName} etcd`, altNames: ["DNS:localhost", "IP:127.0.0.1", `IP:${address}`], cert: files.cert, key: files.key, owner: own, days: ETCD_CERT_DAYS });
  return files;
}

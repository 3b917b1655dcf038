import { chmodSync, chownSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { run, tail } from "../exec.js";
import { TuskError } from "../errors.js";
import { ensureDir, type StatePaths } from "../state-dir.js";

/**
 * The cluster's own certificate authority (ECDSA P-256, ten years): every certificate tusk uses is
 * issued by it, so that hosts, and clients given `tusk ca`, verify each other (sslmode=verify-full)
 * instead of trusting whatever answers. Its certificate is `tls/ca.crt`; its key is
 * `secrets/ca.key` on the first host (root, 0600, in the root-only secrets directory), which signs
 * with it. It leaves the host only to data hosts that join, through the join's TLS channel, and
 * is kept there as `caKeyCopy` so that it survives the loss of the first host; a data host signs
 * nothing with it.
 */
export interface ClusterCa {
  cert: string;
  key: string;
}

export const clusterCa = (paths: StatePaths): ClusterCa => ({ cert: join(paths.tlsDir, "ca.crt"), key: join(paths.secretsDir, "ca.key") });

/**
 * A data host's copy of the CA's key (root, 0600, in the root-only secrets directory). Not at
 * `clusterCa(paths).key`: holding that file is what makes a host sign (the join endpoint, its own
 * renewals), and only the first host does.
 */
export const caKeyCopy = (paths: StatePaths): string => join(paths.secretsDir, "ca-copy.key");

async function openssl(args: string[], what: string, cwd: string): Promise<void> {
  const r = await run("openssl", args, { cwd });
  if (r.code !== 0) {
    throw new TuskError("ProcessFailed", `Could not ${what} with openssl.`, {
      detail: tail(r.stderr),
      hint: "Check that openssl is installed (tusk install), then run tusk up again.",
    });
  }
}

/** The cluster's CA, created on first use. */
export async function ensureClusterCa(paths: StatePaths, clusterName: string): Promise<ClusterCa> {
  const ca = clusterCa(paths);
  if (existsSync(ca.cert) && existsSync(ca.key)) return ca;
  ensureDir(paths.secretsDir, 0o700);
  ensureDir(paths.tlsDir, 0o700);
  await openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "3650",
      "-subj",
      `/O=tusk/CN=${clusterName.replace(/[/=+,]/g, "_")} cluster CA`,
      "-addext",
      "basicConstraints=critical,CA:TRUE,pathlen:0",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
      "-keyout",
      ca.key,
      "-out",
      ca.cert,
    ],
    "create the cluster's certificate authority",
    paths.tlsDir,
  );
  chmodSync(ca.key, 0o600);
  chmodSync(ca.cert, 0o644);
  return ca;
}

export interface CertificateRequest {
  /** The certificate's common name. */
  name: string;
  /** subjectAltName entries: "DNS:localhost", "IP:127.0.0.1" … */
  altNames: string[];
  /** Where to write the certificate and its key (key 0600), owned by `owner`. */
  cert: string;
  key: string;
  owner?: { uid: number; gid: number };
  /** Validity in days. */
  days: number;
}

/**
 * A certificate issued by the cluster's CA for TLS servers and clients alike (serverAuth and
 * clientAuth: Patroni's REST client and etcd peers present the same kind of certificate they serve).
 */
export async function issueCertificate(ca: ClusterCa, req: CertificateRequest): Promise<void> {
  // Made beside the files in use and renamed over them once both exist: a process reading them
  // meanwhile (etcd reads them at every handshake) never sees a key without its certificate.
  const csr = `${req.cert}.csr`;
  const next = { key: `${req.key}.next`, cert: `${req.cert}.next` };
  try {
    await createKeyAndRequest(req.name, next.key, csr);
    await signRequest(ca, csr, req.name, req.altNames, req.days, next.cert);
    chmodSync(next.key, 0o600);
    chmodSync(next.cert, 0o644);
    if (req.owner) for (const f of [next.cert, next.key]) chownSync(f, req.owner.uid, req.owner.gid);
    renameSync(next.key, req.key);
    renameSync(next.cert, req.cert);
  } finally {
    for (const f of [csr, next.key, next.cert]) rmSync(f, { force: true });
  }
}

/** A new ECDSA P-256 key (0600) and a signing request for it: on a joining host, the key never leaves it. */
export async function createKeyAndRequest(name: string, key: string, csr: string): Promise<void> {
  await openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", subject(name), "-keyout", key, "-out", csr], `create a key for ${name}`, dirname(key));
  chmodSync(key, 0o600);
}

/** A certificate's subject: the organisation tusk, and `name` (characters the subject syntax reserves replaced). */
const subject = (name: string): string => `/O=tusk/CN=${name.replace(/[/=+,]/g, "_")}`;

/**
 * The CA signs a request for a certificate of `name` naming `altNames`, for servers and clients
 * alike. The request's own subject and extensions are ignored: who the certificate names and what
 * it may do are decided here (a host asking for another's name, such as the first host's, which
 * pgBackRest's TLS servers authorize, gets its own).
 */
export async function signRequest(ca: ClusterCa, csr: string, name: string, altNames: string[], days: number, cert: string): Promise<void> {
  const ext = `${cert}.ext`;
  writeFileSync(
    ext,
    [`subjectAltName=${altNames.join(",")}`, "basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature,keyAgreement", "extendedKeyUsage=serverAuth,clientAuth", ""].join("\n"),
  );
  try {
    await openssl(
      [
        "x509",
        "-req",
        "-in",
        csr,
        "-subj",
        subject(name),
        "-CA",
        ca.cert,
        "-CAkey",
        ca.key,
        "-set_serial",
        `0x${randomBytes(16).toString("hex")}`,
        "-days",
        String(days),
        "-sha256",
        "-extfile",
        ext,
        "-out",
        cert,
      ],
      `issue a certificate for ${altNames.join(", ")}`,
      dirname(cert),
    );
  } finally {
    rmSync(ext, { force: true });
  }
}

/** Whether `cert` is issued by the CA and valid for at least `days` more days. */
export async function issuedByAndValid(ca: ClusterCa, cert: string, days: number): Promise<boolean> {
  if (!existsSync(cert)) return false;
  const verified = await run("openssl", ["verify", "-CAfile", ca.cert, cert]);
  if (verified.code !== 0) return false;
  const end = await run("openssl", ["x509", "-in", cert, "-noout", "-checkend", String(days * 86_400)]);
  return end.code === 0;
}

/**
 * TLS options for tusk's own clients of PgBouncer on loopback (its admin console): PgBouncer
 * requires TLS from every client once it listens beyond loopback, and the server certificate names
 * 127.0.0.1, so the connection verifies it against the cluster's CA.
 */
export function loopbackTls(paths: StatePaths): { ca: string } {
  const file = clusterCa(paths).cert;
  let ca = caPems.get(file);
  if (ca === undefined) {
    ca = readFileSync(file, "utf8");
    caPems.set(file, ca); // a CA is made once per cluster: read it once per process
  }
  return { ca };
}
const caPems = new Map<string, string>();

/** The CA's certificate, PEM (what `tusk ca` prints). */
export function caCertificate(paths: StatePaths): string {
  return readFileSync(clusterCa(paths).cert, "utf8");
}

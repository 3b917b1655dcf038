import { httpsRequest, type HttpResult } from "../processes/http-probe.js";
import { ExitCode, exitCodeName, TuskError } from "../errors.js";
import { ROUTES } from "../endpoints.js";
import { EtcdMembers, type EtcdCredentials } from "./etcd-members.js";
import type { JoinAnswer, JoinRequest } from "./join-protocol.js";
import { certificateFingerprint, type JoinToken } from "./join-tokens.js";

/** One HTTPS request to the join endpoint; `ca` verifies the server, none accepts any (only to fetch the CA, checked by fingerprint). */
function call(endpoint: string, path: string, ca: string | undefined, body?: unknown): Promise<HttpResult> {
  const host = endpoint.slice(0, endpoint.lastIndexOf(":")).replace(/^\[|\]$/g, "");
  const port = Number(endpoint.slice(endpoint.lastIndexOf(":") + 1));
  return httpsRequest({ host, port, path, body, tls: ca ? { ca } : { rejectUnauthorized: false }, timeoutMs: 120_000 }).catch((e: NodeJS.ErrnoException) => {
    throw new TuskError("Unreachable", `Could not reach the cluster's join endpoint at ${endpoint}: ${e.code ?? e.message}.`, {
      hint: `Check that this host reaches ${host} on TCP port ${port} (and the ports tusk's README lists for several machines), then join again: the token is still valid.`,
    });
  });
}

/**
 * The cluster's CA certificate, trusted only if its SHA-256 fingerprint is the token's: whoever
 * answers on the endpoint without the cluster's CA is refused before anything is sent to it.
 */
export async function fetchClusterCa(token: JoinToken): Promise<string> {
  const r = await call(token.endpoint, ROUTES.joinCa, undefined);
  if (r.status !== 200)
    throw new TuskError("Unreachable", `The join endpoint at ${token.endpoint} answered ${r.status} for the CA certificate.`, { hint: "Is it a tusk cluster's join endpoint? Check the token." });
  let fingerprint = "";
  try {
    fingerprint = certificateFingerprint(r.body);
  } catch {
    /* not a certificate: refused below */
  }
  if (fingerprint !== token.caFingerprint) {
    throw new TuskError("IncompatibleState", `The server at ${token.endpoint} presented a CA certificate whose fingerprint is not the token's.`, {
      hint: "Something other than the cluster answers there (or the token is another cluster's): check the address; nothing was sent.",
    });
  }
  return r.body;
}

/**
 * Removes this host's own etcd member through another host's etcd (mutual TLS with this host's new
 * certificate): a join that failed after the cluster added its learner leaves nothing behind.
 */
export async function removeOwnMember(host: string, clientPort: number, peerUrl: string, creds: EtcdCredentials): Promise<boolean> {
  const etcd = EtcdMembers.remote(host, clientPort, creds);
  const mine = (await etcd.list()).find((m) => m.peerURLs.includes(peerUrl));
  if (!mine) return false;
  await etcd.remove(mine.ID);
  return true;
}

/** Sends the join request over TLS verified against the cluster's CA; a refusal keeps the cluster's message, hint and exit code. */
export async function requestJoin(token: JoinToken, ca: string, body: JoinRequest): Promise<JoinAnswer> {
  const r = await call(token.endpoint, ROUTES.join, ca, body);
  if (r.status === 200) return JSON.parse(r.body) as JoinAnswer;
  let e: { error?: string; hint?: string; exitCode?: number } = {};
  try {
    e = JSON.parse(r.body);
  } catch {
    /* not JSON */
  }
  throw new TuskError(exitCodeName(e.exitCode ?? ExitCode.Usage), `The cluster refused the join: ${e.error ?? `HTTP ${r.status}`}`, { hint: e.hint || undefined });
}

/**
 * A renewed certificate for this (joined) host: the signing request goes to the first host's join
 * endpoint over mutual TLS with the host's current certificate, which is what admits it there.
 */
export async function requestCertificate(endpoint: string, creds: EtcdCredentials, csr: string): Promise<string> {
  const host = endpoint.slice(0, endpoint.lastIndexOf(":")).replace(/^\[|\]$/g, "");
  const port = Number(endpoint.slice(endpoint.lastIndexOf(":") + 1));
  const r = await httpsRequest({ host, port, path: ROUTES.joinCertificate, body: { csr }, tls: creds, timeoutMs: 60_000 }).catch((e: NodeJS.ErrnoException) => {
    throw new TuskError("Unreachable", `Could not reach the first host's join endpoint at ${endpoint}: ${e.code ?? e.message}.`, {
      hint: `The first host signs certificates: check that this host reaches ${host} on TCP port ${port} and that its tusk runs, then renew again.`,
    });
  });
  if (r.status === 200) return (JSON.parse(r.body) as { cert: string }).cert;
  let e: { error?: string; hint?: string; exitCode?: number } = {};
  try {
    e = JSON.parse(r.body);
  } catch {
    /* not JSON */
  }
  throw new TuskError(exitCodeName(e.exitCode ?? ExitCode.ProcessFailed), `The first host refused to renew this host's certificate: ${e.error ?? `HTTP ${r.status}`}`, { hint: e.hint || undefined });
}

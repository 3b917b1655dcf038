import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TuskError } from "../errors.js";
import { hostCertificateName } from "../network/host-network.js";
import { clusterCa, signRequest } from "../tls/cluster-ca.js";
import { hostAltNames } from "../tls/server-certificate.js";
import type { SupervisorContext } from "./context.js";

/** Days a joined host's certificate is valid. */
export const HOST_CERT_DAYS = 825;

/**
 * The CA signs a host's request (at its join, or to renew) for its address and loopback, under the
 * host's own certificate name whatever the request says; the host's key never leaves it.
 */
export async function signHostCertificate(ctx: SupervisorContext, name: string, address: string, csr: string): Promise<string> {
  if (!/^-----BEGIN CERTIFICATE REQUEST-----[\s\S]+-----END CERTIFICATE REQUEST-----\s*$/.test(csr)) {
    throw new TuskError("Usage", "The request carries no certificate signing request (PEM).", { hint: "Use tusk join or tusk certs renew, which make one." });
  }
  const dir = mkdtempSync(join(ctx.paths.secretsDir, "sign-"));
  try {
    writeFileSync(join(dir, "host.csr"), csr);
    await signRequest(clusterCa(ctx.paths), join(dir, "host.csr"), hostCertificateName(name), ["DNS:localhost", "IP:127.0.0.1", ...hostAltNames(address)], HOST_CERT_DAYS, join(dir, "host.crt"));
    return readFileSync(join(dir, "host.crt"), "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

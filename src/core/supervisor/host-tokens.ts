import { TuskError } from "../errors.js";
import { conversionAddress, localAddresses, urlHost } from "../network/host-network.js";
import { certificateFingerprint, encodeToken, newToken, pruneTokens, readTokenStore, writeTokenStore, type HostRole } from "../network/join-tokens.js";
import { caCertificate } from "../tls/cluster-ca.js";
import { convertForNetwork, type ConversionParts, type ConversionResult } from "./network-conversion.js";
import type { Exclusive } from "./operation-queue.js";

/** Bounds of a join token's life. */
export const TOKEN_TTL_MS = { min: 60_000, max: 7 * 86_400_000, default: 3_600_000 } as const;

export interface HostTokenRequest {
  role: HostRole;
  ttlMs: number;
  /** This host's address for the others; needed on the first token unless tusk.yaml's listen_address is one. */
  address?: string;
}

export interface HostTokenResult {
  token: string;
  role: HostRole;
  expiresAt: string;
  /** Where a joining host connects. */
  endpoint: string;
  /** The conversion this token's request made (the cluster's first token), else null. */
  conversion: ConversionResult | null;
}

/**
 * `tusk host token`: converts the cluster for the network on the first call (network-conversion.ts,
 * through the operation queue), then makes a single-use join token. The token carries the join
 * endpoint, a fresh secret and the CA's fingerprint; the state directory keeps only the secret's
 * SHA-256 (secrets/join-tokens.json, root-only), so a token is shown once and never stored.
 */
export async function issueHostToken(parts: ConversionParts, exclusive: Exclusive, req: HostTokenRequest): Promise<HostTokenResult> {
  const { ctx } = parts;
  if (req.ttlMs < TOKEN_TTL_MS.min || req.ttlMs > TOKEN_TTL_MS.max) {
    throw new TuskError("Usage", `--ttl must be between 1 minute and 7 days, not ${Math.round(req.ttlMs / 1000)} s.`, { hint: "For example --ttl 1h (the default) or --ttl 30min." });
  }
  let conversion: ConversionResult | null = null;
  if (!ctx.network) {
    const where = conversionAddress(req.address, ctx.config, localAddresses());
    if ("problem" in where) throw new TuskError("Usage", where.problem, { hint: where.hint });
    conversion = await exclusive("network", `conversion for the network on ${where.address}`, (report) => convertForNetwork(parts, where.address, report));
  } else if (req.address !== undefined && req.address !== ctx.network.address) {
    throw new TuskError("Usage", `The cluster is already converted on ${ctx.network.address}, not ${req.address}.`, { hint: "Leave --address out, or give that address." });
  }
  const now = new Date();
  const { secret, stored } = newToken(req.role, req.ttlMs, now);
  writeTokenStore(ctx.paths, [...pruneTokens(readTokenStore(ctx.paths), now), stored]);
  const endpoint = `${urlHost(ctx.network!.address)}:${ctx.config.ports.api}`;
  const token = encodeToken({ endpoint, role: req.role, secret, caFingerprint: certificateFingerprint(caCertificate(ctx.paths)) });
  ctx.log(`join token made for a ${req.role} host, valid until ${stored.expiresAt}`);
  return { token, role: req.role, expiresAt: stored.expiresAt, endpoint, conversion };
}

import { createHash, randomBytes, X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ensureDir, writeAtomic, type StatePaths } from "../state-dir.js";

/** What a joining host becomes. */
export type HostRole = "data" | "witness" | "repo";
export const HOST_ROLES: readonly HostRole[] = ["data", "witness", "repo"];

/** What a join token carries: where to join, its secret, and the CA to trust there. */
export interface JoinToken {
  /** The join endpoint: host:port. */
  endpoint: string;
  role: HostRole;
  /** 32 random bytes, base64url: shown once, stored only as its SHA-256. */
  secret: string;
  /** SHA-256 fingerprint of the cluster CA's certificate (as openssl and Node print it: AA:BB:…). */
  caFingerprint: string;
}

/** A token as the first host keeps it: the secret's hash, never the secret. */
export interface StoredToken {
  hash: string;
  role: HostRole;
  createdAt: string;
  expiresAt: string;
  usedAt?: string;
  usedBy?: string;
}

const PREFIX = "tusk-join-1.";

/** The token as printed: a prefix that names its format, then base64url JSON. */
export function encodeToken(t: JoinToken): string {
  return PREFIX + Buffer.from(JSON.stringify({ e: t.endpoint, r: t.role, s: t.secret, f: t.caFingerprint })).toString("base64url");
}

/** The token a user pasted, or why it is not one. */
export function decodeToken(text: string): JoinToken | { problem: string } {
  const s = text.trim();
  if (!s.startsWith(PREFIX)) return { problem: `not a tusk join token (it starts with "${PREFIX}")` };
  try {
    const j = JSON.parse(Buffer.from(s.slice(PREFIX.length), "base64url").toString("utf8")) as Record<string, unknown>;
    const { e, r, s: secret, f } = j;
    if (typeof e !== "string" || !/^[^\s:]+:\d+$|^\[[0-9a-fA-F:]+\]:\d+$/.test(e)) return { problem: "its endpoint is missing or not host:port" };
    if (typeof r !== "string" || !HOST_ROLES.includes(r as HostRole)) return { problem: `its role is not one of ${HOST_ROLES.join(", ")}` };
    if (typeof secret !== "string" || secret.length < 32) return { problem: "its secret is missing or too short" };
    if (typeof f !== "string" || !/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/.test(f)) return { problem: "its CA fingerprint is missing or malformed" };
    return { endpoint: e, role: r as HostRole, secret, caFingerprint: f };
  } catch {
    return { problem: "it is cut short or changed (not base64url JSON)" };
  }
}

export const tokenHash = (secret: string): string => createHash("sha256").update(secret).digest("hex");

/** SHA-256 fingerprint of a PEM certificate, AA:BB:… */
export const certificateFingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

/** A new token's secret and what the store keeps of it. */
export function newToken(role: HostRole, ttlMs: number, now: Date): { secret: string; stored: StoredToken } {
  const secret = randomBytes(32).toString("base64url");
  return { secret, stored: { hash: tokenHash(secret), role, createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + ttlMs).toISOString() } };
}

/**
 * Spends a token: the store with it marked used, or why it is refused (unknown, used, expired). Pure;
 * the caller writes the store back. Comparison is by SHA-256, so the stored hashes never have to
 * match a secret byte by byte.
 */
export function spendToken(
  store: readonly StoredToken[],
  secret: string,
  by: string,
  now: Date,
): { ok: true; token: StoredToken; store: StoredToken[] } | { ok: false; reason: "unknown" | "used" | "expired"; token?: StoredToken } {
  const hash = tokenHash(secret);
  const token = store.find((t) => t.hash === hash);
  if (!token) return { ok: false, reason: "unknown" };
  if (token.usedAt) return { ok: false, reason: "used", token };
  if (new Date(token.expiresAt) <= now) return { ok: false, reason: "expired", token };
  const spent = { ...token, usedAt: now.toISOString(), usedBy: by };
  return { ok: true, token: spent, store: store.map((t) => (t === token ? spent : t)) };
}

/** Tokens that ended (used or expired) more than a day ago are dropped from the store. */
export function pruneTokens(store: readonly StoredToken[], now: Date): StoredToken[] {
  const dayAgo = now.getTime() - 86_400_000;
  return store.filter((t) => new Date(t.usedAt ?? t.expiresAt).getTime() > dayAgo);
}

/** secrets/join-tokens.json: root-only, like every secret. */
export const tokenStoreFile = (paths: StatePaths): string => join(paths.secretsDir, "join-tokens.json");

export function readTokenStore(paths: StatePaths): StoredToken[] {
  const file = tokenStoreFile(paths);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as StoredToken[]) : [];
}

export function writeTokenStore(paths: StatePaths, store: readonly StoredToken[]): void {
  ensureDir(paths.secretsDir, 0o700);
  writeAtomic(tokenStoreFile(paths), `${JSON.stringify(store, null, 2)}\n`, 0o600);
}

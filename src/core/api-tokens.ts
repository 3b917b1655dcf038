import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { TuskError } from "./errors.js";
import { hashToken } from "./secrets.js";
import { ensureDir, writeAtomic, type StatePaths } from "./state-dir.js";

/** An API token as stored: its name and the SHA-256 of the token, never the token itself. */
export interface StoredToken {
  name: string;
  sha256: string;
  createdAt: string;
}

const TOKEN_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const file = (paths: StatePaths) => join(paths.secretsDir, "api-tokens.json");

export function listTokens(paths: StatePaths): StoredToken[] {
  return existsSync(file(paths)) ? (JSON.parse(readFileSync(file(paths), "utf8")) as StoredToken[]) : [];
}

/** Creates a named token and returns it: shown once, stored hashed (secrets/api-tokens.json, 0600). */
export function createToken(paths: StatePaths, name: string): string {
  if (!TOKEN_NAME.test(name)) throw new TuskError("Usage", `Token name "${name}" is not valid: use lower-case letters, digits, ".", "_" and "-" (up to 63).`);
  const tokens = listTokens(paths);
  if (tokens.some((t) => t.name === name)) throw new TuskError("AlreadyExists", `A token named "${name}" exists.`, { hint: `Revoke it first (tusk token revoke ${name}) or choose another name.` });
  const token = `tusk_${randomBytes(32).toString("base64url")}`;
  ensureDir(paths.secretsDir, 0o700);
  writeAtomic(file(paths), JSON.stringify([...tokens, { name, sha256: hashToken(token), createdAt: new Date().toISOString() }], null, 2), 0o600);
  return token;
}

export function revokeToken(paths: StatePaths, name: string): void {
  const tokens = listTokens(paths);
  if (!tokens.some((t) => t.name === name)) throw new TuskError("Usage", `There is no token named "${name}".`, { hint: `Tokens: ${tokens.map((t) => t.name).join(", ") || "none"}.` });
  writeAtomic(
    file(paths),
    JSON.stringify(
      tokens.filter((t) => t.name !== name),
      null,
      2,
    ),
    0o600,
  );
}

/**
 * Checks bearer tokens against the hashes: the CLI's own token and the named ones, re-read when the
 * file changes so a revoked token stops working at once. Compared in constant time.
 */
export class TokenVerifier {
  private cache: { mtimeMs: number; tokens: StoredToken[] } | undefined;

  constructor(
    private readonly paths: StatePaths,
    private readonly cliTokenHash: string,
  ) {}

  /** The token's name ("cli" for tusk's own), or undefined when it is not valid. */
  verify(token: string): string | undefined {
    if (!token) return undefined;
    const given = Buffer.from(hashToken(token), "hex");
    const same = (hex: string) => timingSafeEqual(given, Buffer.from(hex, "hex"));
    if (same(this.cliTokenHash)) return "cli";
    return this.tokens().find((t) => same(t.sha256))?.name;
  }

  private tokens(): StoredToken[] {
    const f = file(this.paths);
    if (!existsSync(f)) return [];
    const mtimeMs = statSync(f).mtimeMs;
    if (this.cache?.mtimeMs !== mtimeMs) this.cache = { mtimeMs, tokens: listTokens(this.paths) };
    return this.cache.tokens;
  }
}

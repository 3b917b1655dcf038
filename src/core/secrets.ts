import { randomBytes, createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { ensureDir, writeAtomic, type StatePaths } from "./state-dir.js";
import type { RoleKey } from "./endpoints.js";

/**
 * Generated credentials, one file each in secrets/ (0700 directory, 0600 files, owned by root).
 * Passwords are 32 random bytes in base64url: URL-safe, so they go into connection strings unescaped.
 */
export type SecretName = RoleKey | "api_token" | "patroni_rest";

export function readSecret(paths: StatePaths, name: SecretName): string {
  return readFileSync(paths.secret(name), "utf8").trim();
}

/** Returns the secret, generating and storing it on first use. */
export function ensureSecret(paths: StatePaths, name: SecretName): string {
  ensureDir(paths.secretsDir, 0o700);
  const file = paths.secret(name);
  if (existsSync(file)) return readSecret(paths, name);
  const value = randomBytes(32).toString("base64url");
  writeAtomic(file, `${value}\n`, 0o600);
  return value;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

import { existsSync } from "node:fs";
import { join } from "node:path";
import { run, tail } from "../exec.js";
import { TuskError } from "../errors.js";
import type { OsUser } from "../os-user.js";
import { ensureDir, type StatePaths } from "../state-dir.js";
import { isLoopback } from "./pg-hba.js";

export interface TlsFiles {
  cert: string;
  key: string;
}

export function tlsFiles(paths: StatePaths): TlsFiles {
  return { cert: join(paths.tlsDir, "server.crt"), key: join(paths.tlsDir, "server.key") };
}

/**
 * A self-signed server certificate (ECDSA P-256, ten years) for PostgreSQL and PgBouncer, valid for
 * 127.0.0.1, localhost and the configured listen address. Kept across restarts so clients that pin
 * it keep working; owned by postgres, key 0600 as PostgreSQL requires.
 */
export async function ensureServerCertificate(paths: StatePaths, listenAddress: string, owner: OsUser): Promise<TlsFiles> {
  const files = tlsFiles(paths);
  if (existsSync(files.cert) && existsSync(files.key)) return files;
  ensureDir(paths.tlsDir, 0o700, { uid: owner.uid, gid: owner.gid });
  const names = ["DNS:localhost", "IP:127.0.0.1", "IP:::1"];
  if (!isLoopback(listenAddress) && /^[0-9.:a-fA-F]+$/.test(listenAddress) && listenAddress !== "0.0.0.0") names.push(`IP:${listenAddress}`);
  const r = await run(
    "openssl",
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
      "/CN=tusk",
      "-addext",
      `subjectAltName=${names.join(",")}`,
      "-keyout",
      files.key,
      "-out",
      files.cert,
    ],
    { uid: owner.uid, gid: owner.gid, cwd: paths.tlsDir },
  );
  if (r.code !== 0) {
    throw new TuskError("ProcessFailed", "Could not create the TLS certificate with openssl.", {
      detail: tail(r.stderr),
      hint: "Check that openssl is installed (tusk install), then run tusk up again.",
    });
  }
  return files;
}

import { connect } from "node:net";
import type { TuskConfig } from "../config/config-file.js";
import { TuskError } from "../errors.js";

/** pgBackRest's words for an object store it could not reach. */
export function s3Unreachable(e: unknown): boolean {
  return e instanceof TuskError && /unable to connect|HostConnectError|connection refused|timeout|getaddrinfo|unable to resolve|unable to find hostname/i.test(`${e.detail ?? ""} ${e.message}`);
}

function unreachableError(config: TuskConfig, why: string, detail?: string): TuskError {
  const s3 = config.s3!;
  return new TuskError("Unreachable", `The S3 repository is unreachable (https://${s3.endpoint}, bucket ${s3.bucket}): ${why}`, {
    detail,
    hint: `Check backups.s3.endpoint in tusk.yaml and that the object store is up and reachable from this machine. ${
      s3.only
        ? "It is the cluster's only repository: until it is back, WAL waits in pg_wal and no backup can be taken."
        : "WAL keeps reaching the local repository, more slowly while the object store is down."
    }`,
  });
}

/** A failure talking to the S3 repository, said as such: endpoint, bucket, and what to check. */
export function s3Failure(config: TuskConfig, e: TuskError): TuskError {
  if (s3Unreachable(e)) return unreachableError(config, e.message, e.detail);
  const s3 = config.s3!;
  return new TuskError("ProcessFailed", `The S3 repository failed (https://${s3.endpoint}, bucket ${s3.bucket}): ${e.message}`, {
    detail: e.detail,
    hint: "Check the bucket, region and keys in backups.s3 of tusk.yaml.",
  });
}

/**
 * Opens a TCP connection to the object store's endpoint (3 s at most). pgBackRest would retry an
 * unreachable store for tens of seconds per request; this answers at once.
 */
export async function ensureS3Reachable(config: TuskConfig): Promise<void> {
  const s3 = config.s3;
  if (!s3) return;
  const [host, port] = s3.endpoint.split(":");
  const error = await new Promise<string | null>((resolve) => {
    const socket = connect({ host: host!, port: Number(port ?? 443), timeout: 3000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve(null);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve("no answer within 3 s");
    });
    socket.once("error", (e) => resolve(e.message));
  });
  if (error) throw unreachableError(config, error);
}

import { existsSync, statSync } from "node:fs";
import { suggestName } from "./postgres-settings.js";

/**
 * The off-machine backup repository on S3-compatible object storage (`backups.s3` in tusk.yaml).
 * pgBackRest writes every backup and WAL segment to it as well as to the local repository, or, with
 * `only`, to it alone: then no host holds the repository, and the loss of any host leaves WAL
 * archiving going. The secret key stays in a file of its own, readable by its owner only.
 */
export interface S3Repository {
  /** host or host:port, reached over HTTPS. */
  endpoint: string;
  bucket: string;
  region: string;
  /** Where in the bucket; default /tusk/CLUSTER_NAME. */
  path: string | null;
  /** "host" (virtual-hosted buckets, as AWS) or "path" (most other S3-compatible servers). */
  uri_style: "host" | "path";
  access_key_id: string;
  secret_access_key_file: string;
  /** A CA certificate for a server whose certificate is not signed by a public CA. */
  ca_file: string | null;
  /** The cluster's only repository: no local one (every host archives straight to the object store). */
  only: boolean;
}

const REQUIRED = ["endpoint", "bucket", "access_key_id", "secret_access_key_file"] as const;
const KEYS = [...REQUIRED, "region", "path", "uri_style", "ca_file", "only"];
const HOST_PORT = /^[A-Za-z0-9.-]+(:\d{1,5})?$/;

export function readS3Repository(value: unknown, problems: string[]): S3Repository | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push("backups.s3: must be a mapping with endpoint, bucket, access_key_id and secret_access_key_file.");
    return null;
  }
  const v = value as Record<string, unknown>;
  const before = problems.length;
  for (const k of Object.keys(v)) if (!KEYS.includes(k)) problems.push(`backups.s3.${k}: not an S3 setting.${suggestName(k, KEYS)} Known: ${KEYS.join(", ")}.`);
  for (const k of REQUIRED) if (typeof v[k] !== "string" || v[k] === "") problems.push(`backups.s3.${k}: is required (a string).`);
  const text = (k: string) => (typeof v[k] === "string" ? (v[k] as string) : null);
  const endpoint = text("endpoint");
  if (endpoint && !HOST_PORT.test(endpoint))
    problems.push(`backups.s3.endpoint: must be a host name with an optional :port (HTTPS), such as s3.eu-central-1.amazonaws.com, not ${JSON.stringify(endpoint)}.`);
  const style = v.uri_style ?? "host";
  if (style !== "host" && style !== "path") problems.push(`backups.s3.uri_style: must be "host" or "path", not ${JSON.stringify(style)}.`);
  const path = text("path");
  if (path !== null && !path.startsWith("/")) problems.push(`backups.s3.path: must start with /, not ${JSON.stringify(path)}.`);
  const secretFile = text("secret_access_key_file");
  if (secretFile) {
    if (!existsSync(secretFile)) problems.push(`backups.s3.secret_access_key_file: ${secretFile} does not exist; write the secret access key into it (chmod 600).`);
    else if ((statSync(secretFile).mode & 0o077) !== 0) problems.push(`backups.s3.secret_access_key_file: ${secretFile} is readable by others; run chmod 600 ${secretFile}.`);
  }
  const ca = text("ca_file");
  if (ca && !existsSync(ca)) problems.push(`backups.s3.ca_file: ${ca} does not exist.`);
  if (v.only !== undefined && typeof v.only !== "boolean") problems.push(`backups.s3.only: must be true or false, not ${JSON.stringify(v.only)}.`);
  if (problems.length > before) return null;
  return {
    endpoint: endpoint!,
    bucket: text("bucket")!,
    region: text("region") ?? "us-east-1",
    path,
    uri_style: style as "host" | "path",
    access_key_id: text("access_key_id")!,
    secret_access_key_file: secretFile!,
    ca_file: ca,
    only: v.only === true,
  };
}

import pg from "pg";
import { ROLES } from "../endpoints.js";
import { readSecret } from "../secrets.js";
import type { StatePaths } from "../state-dir.js";
import { loopbackTls } from "../tls/cluster-ca.js";

/**
 * Runs `work` on a node of another host, as the rewind role: besides replication it is the one role
 * pg_hba admits between the cluster's hosts (the superuser never is), so `work` may only read what
 * any role can (pg_is_in_recovery(), pg_stat_archiver). Over TLS, the node's certificate checked
 * against the cluster's CA. Undefined when the node did not answer within `timeoutMs`.
 */
export async function withRemoteNode<T>(paths: StatePaths, host: string, port: number, work: (c: pg.Client) => Promise<T>, timeoutMs = 2000): Promise<T | undefined> {
  const client = new pg.Client({
    host,
    port,
    user: ROLES.rewind,
    password: readSecret(paths, "rewind"),
    database: "postgres",
    application_name: "tusk",
    ssl: { ca: loopbackTls(paths).ca },
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return await work(client);
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether a node of another host is in recovery (undefined: it did not answer within `timeoutMs`). */
export const remoteNodeInRecovery = (paths: StatePaths, host: string, port: number, timeoutMs = 2000): Promise<boolean | undefined> =>
  withRemoteNode(paths, host, port, async (c) => (await c.query<{ r: boolean }>("SELECT pg_is_in_recovery() AS r")).rows[0]?.r, timeoutMs);

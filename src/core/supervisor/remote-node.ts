import pg from "pg";
import { ROLES } from "../endpoints.js";
import { readSecret } from "../secrets.js";
import { loopbackTls } from "../tls/cluster-ca.js";
import type { SupervisorContext } from "./context.js";

/**
 * Whether a node of another host is in recovery (undefined: it did not answer within `timeoutMs`). Asked as the rewind role: besides replication
 * it is the one role pg_hba admits between the cluster's hosts (the superuser never is), and any role
 * may call pg_is_in_recovery(). Over TLS, the node's certificate checked against the cluster's CA
 * and its address.
 */
export async function remoteNodeInRecovery(ctx: SupervisorContext, host: string, port: number, timeoutMs = 2000): Promise<boolean | undefined> {
  const client = new pg.Client({
    host,
    port,
    user: ROLES.rewind,
    password: readSecret(ctx.paths, "rewind"),
    database: "postgres",
    application_name: "tusk",
    ssl: { ca: loopbackTls(ctx.paths).ca },
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.query<{ r: boolean }>("SELECT pg_is_in_recovery() AS r")).rows[0]?.r;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

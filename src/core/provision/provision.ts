import pg from "pg";
import { METRICS_DATABASE } from "../metrics/database-name.js";
import { ROLES } from "../endpoints.js";
import type { TuskConfig } from "../config/config-file.js";
import { ensureSecret, readSecret } from "../secrets.js";
import type { StatePaths } from "../state-dir.js";
import { sqlFile } from "./sql-template.js";
import { readPrimary } from "../cluster/nodes.js";

/** A superuser connection to the current primary (or the node on `port`) over loopback TCP with the generated password. */
export async function superuserClient(config: TuskConfig, paths: StatePaths, database = "postgres", timeoutMs = 10_000, port?: number): Promise<pg.Client> {
  const client = new pg.Client({
    host: "127.0.0.1",
    port: port ?? readPrimary(config, paths).port,
    user: ROLES.superuser,
    password: readSecret(paths, "superuser"),
    database,
    application_name: "tusk",
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs === 10_000 ? undefined : timeoutMs,
  });
  // A server that goes away (a restart, a failover) must fail the query in progress, not crash the
  // process with an unhandled 'error' event on an idle client.
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/**
 * The one way to run work as the superuser on the current primary: connect, run, close whatever
 * happens (a close that fails after the work is ignored: the connection is gone either way).
 */
export async function withSuperuser<T>(
  config: TuskConfig,
  paths: StatePaths,
  work: (c: pg.Client) => Promise<T>,
  options: { database?: string; timeoutMs?: number /** a node of this host other than the primary */; port?: number } = {},
): Promise<T> {
  const client = await superuserClient(config, paths, options.database, options.timeoutMs, options.port);
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const inDatabase = <T>(config: TuskConfig, paths: StatePaths, database: string, work: (c: pg.Client) => Promise<T>): Promise<T> => withSuperuser(config, paths, work, { database });

/**
 * Brings roles, the application database, extensions and privileges to the state tusk promises.
 * Idempotent: run on every start, it converges rather than assumes.
 */
export async function provision(config: TuskConfig, paths: StatePaths): Promise<void> {
  const vars = {
    database: config.database,
    owner: ROLES.owner,
    app: ROLES.app,
    monitor: ROLES.monitor,
    owner_password: ensureSecret(paths, "owner"),
    app_password: ensureSecret(paths, "app"),
    monitor_password: ensureSecret(paths, "monitor"),
    rewind: ROLES.rewind,
    rewind_password: ensureSecret(paths, "rewind"),
  };
  await inDatabase(config, paths, "postgres", async (c) => {
    const existing = new Set(
      (await c.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname = ANY($1)", [[ROLES.owner, ROLES.app, ROLES.monitor, ROLES.rewind]])).rows.map((r) => r.rolname),
    );
    for (const role of [ROLES.owner, ROLES.app, ROLES.monitor, ROLES.rewind]) {
      if (!existing.has(role)) await c.query(`CREATE ROLE ${c.escapeIdentifier(role)}`);
    }
    await c.query(sqlFile("roles.sql", vars));
    await c.query(sqlFile("rewind-role.sql", vars));
  });
  await inDatabase(config, paths, "template1", (c) => c.query(sqlFile("extensions.sql")));
  await inDatabase(config, paths, "postgres", async (c) => {
    const exists = (await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [config.database])).rowCount;
    if (!exists) await c.query(`CREATE DATABASE ${c.escapeIdentifier(config.database)} OWNER ${c.escapeIdentifier(ROLES.owner)} TEMPLATE template1`);
  });
  await inDatabase(config, paths, config.database, async (c) => {
    await c.query(sqlFile("extensions.sql"));
    await c.query(sqlFile("cron.sql", vars));
    await c.query(sqlFile("app-database.sql", vars));
  });
  await inDatabase(config, paths, "postgres", async (c) => {
    const exists = (await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [METRICS_DATABASE])).rowCount;
    // template0: the metrics database needs none of the application's extensions.
    if (!exists) await c.query(`CREATE DATABASE ${c.escapeIdentifier(METRICS_DATABASE)} OWNER ${c.escapeIdentifier(ROLES.monitor)} TEMPLATE template0`);
    await c.query(sqlFile("metrics-database.sql", { ...vars, metrics_database: METRICS_DATABASE }));
  });
}

/** The SCRAM verifiers PgBouncer needs, read from pg_authid. */
export async function scramVerifiers(config: TuskConfig, paths: StatePaths): Promise<Record<string, string>> {
  return inDatabase(config, paths, "postgres", async (c) => {
    const r = await c.query<{ role_name: string; scram_verifier: string }>(sqlFile("scram-verifiers.sql"), [[ROLES.superuser, ROLES.owner, ROLES.app, ROLES.monitor]]);
    return Object.fromEntries(r.rows.map((row) => [row.role_name, row.scram_verifier]));
  });
}

import { portAccepts } from "../processes/pgbouncer.js";
import type { Children } from "./children.js";
import type { SupervisorContext } from "./context.js";
import { backupLinks, runsBackupServer, writePgbackrestConfig } from "./node-setup.js";

/** Whether pgBackRest's TLS server accepts connections on the host's address. */
export function backupServerReady(ctx: SupervisorContext): Promise<boolean> {
  const server = backupLinks(ctx)?.server;
  return server ? portAccepts(server.port, server.address) : Promise.resolve(false);
}

/**
 * pgBackRest's TLS server on a data host of a converted cluster: the first host serves the backup
 * repository to the data hosts, a data host serves its node to the first host's backups.
 * pgbackrest.conf is rewritten first; `restart` after a data host joined, so the first host's server
 * authorizes the new host's certificate (it reads its file when it starts).
 */
export async function serveBackupServer(ctx: SupervisorContext, children: Children, restart = false): Promise<void> {
  if (!runsBackupServer(ctx)) return;
  writePgbackrestConfig(ctx);
  if (restart && children.supervised("pgbackrest-server")) await children.retire("pgbackrest-server");
  if (!children.running("pgbackrest-server")) await children.start("pgbackrest-server", () => backupServerReady(ctx), 20_000);
}

import { portAccepts } from "../processes/pgbouncer.js";
import type { Children } from "./children.js";
import type { SupervisorContext } from "./context.js";
import { repositoryLink, servesRepository, writePgbackrestConfig } from "./node-setup.js";

/** Whether pgBackRest's TLS server accepts connections on the host's address. */
export function repositoryServerReady(ctx: SupervisorContext): Promise<boolean> {
  const link = repositoryLink(ctx);
  return link?.kind === "server" ? portAccepts(link.port, link.address) : Promise.resolve(false);
}

/**
 * The first host of a converted cluster serves the backup repository to the data hosts (pgBackRest's
 * TLS server). pgbackrest.conf is rewritten first: `restart` after a data host joined, so the server
 * authorizes the new host's certificate (it reads its file when it starts).
 */
export async function serveRepository(ctx: SupervisorContext, children: Children, restart = false): Promise<void> {
  if (!servesRepository(ctx)) return;
  writePgbackrestConfig(ctx);
  if (restart && children.supervised("pgbackrest-server")) await children.retire("pgbackrest-server");
  if (!children.running("pgbackrest-server")) await children.start("pgbackrest-server", () => repositoryServerReady(ctx), 20_000);
}

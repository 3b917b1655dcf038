import { chmodSync, chownSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import type { OsUser } from "../os-user.js";
import type { StatePaths } from "../state-dir.js";

/** The script Patroni runs on a role change; it tells the supervisor through the socket below. */
export const CALLBACK_SCRIPT = fileURLToPath(new URL("./patroni-callback.js", import.meta.url));

/** A Unix socket only root and the postgres group can reach: Patroni's callbacks need no token. */
export function callbackSocket(paths: StatePaths): string {
  return join(paths.runDir, "patroni-callback.sock");
}

export interface CallbackServer {
  close(): void;
}

/**
 * Listens for Patroni's callbacks (on_role_change, on_start). Each one makes the supervisor look at
 * the leader at once, so PgBouncer follows a new primary without waiting for the next poll.
 */
export async function startCallbackServer(paths: StatePaths, pgUser: OsUser, onEvent: (event: string) => void): Promise<CallbackServer> {
  const path = callbackSocket(paths);
  rmSync(path, { force: true });
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      res.end("ok\n");
      onEvent(body.trim().slice(0, 200));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, resolve);
  });
  chownSync(path, 0, pgUser.gid);
  chmodSync(path, 0o660);
  return { close: () => server.close() };
}

import { connect } from "node:net";
import { PGBOUNCER_BIN } from "../install/components.js";
import type { OsUser } from "../os-user.js";
import type { StatePaths } from "../state-dir.js";
import type { ProcessSpec } from "./managed-process.js";

/**
 * PgBouncer ≥ 1.21 (built by tusk). Ready when its port accepts TCP. Stop: SIGINT is a safe shutdown
 * (waits until servers are released, up to 10 s); a second SIGTERM is immediate; then SIGKILL.
 * Its open-files limit is raised to max_client_conn plus room for server connections.
 */
export function pgbouncerSpec(paths: StatePaths, user: OsUser, maxClientConn: number): ProcessSpec {
  return {
    name: "pgbouncer",
    command: PGBOUNCER_BIN,
    args: [paths.pgbouncerIni],
    uid: user.uid,
    gid: user.gid,
    env: { PATH: "/usr/bin:/bin", HOME: user.home },
    cwd: paths.pgbouncerDir,
    logFile: paths.log("pgbouncer"),
    pidFile: paths.pidFile("pgbouncer"),
    stopSteps: [
      { signal: "SIGINT", waitMs: 10_000 },
      { signal: "SIGTERM", waitMs: 200 },
      { signal: "SIGTERM", waitMs: 5_000 },
    ],
    maxOpenFiles: maxClientConn + 1024,
  };
}

/** Whether something accepts TCP connections on host:port. */
export function portAccepts(port: number, host = "127.0.0.1", timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

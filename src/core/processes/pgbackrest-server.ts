import { PGBACKREST_BIN } from "../install/components.js";
import type { OsUser } from "../os-user.js";
import type { StatePaths } from "../state-dir.js";
import type { ProcessSpec } from "./managed-process.js";

/**
 * pgBackRest's TLS server (`pgbackrest server`, pgBackRest 2.37 and later) on the host that holds
 * the repository: the other data hosts' archive-push and archive-get reach the repository through
 * it, with a certificate of the cluster's CA whose CN `tls-server-auth` names (pgbackrest.conf's
 * `[global:server]` section). It runs as the postgres OS user, the repository's owner.
 */
export function pgbackrestServerSpec(paths: StatePaths, user: OsUser): ProcessSpec {
  return {
    name: "pgbackrest-server",
    command: PGBACKREST_BIN,
    args: [`--config=${paths.pgbackrestConfig}`, "server"],
    uid: user.uid,
    gid: user.gid,
    env: { PATH: "/usr/bin:/bin", HOME: user.home },
    cwd: paths.pgbackrestDir,
    logFile: paths.log("pgbackrest-server"),
    pidFile: paths.pidFile("pgbackrest-server"),
    stopSteps: [{ signal: "SIGTERM", waitMs: 10_000 }],
  };
}

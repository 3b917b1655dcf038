import { appendFileSync } from "node:fs";
import { loadConfig } from "../config/config-file.js";
import { readHostFacts } from "../config/host-facts.js";
import { writePidFile, removePidFile } from "../processes/pid-file.js";
import { ensureSecret, hashToken } from "../secrets.js";
import { StatePaths } from "../state-dir.js";
import { buildApi } from "./api-server.js";
import { TokenVerifier } from "../api-tokens.js";
import { Supervisor } from "./supervisor.js";

/**
 * The supervisor process: started detached by `tusk up`, one per state directory. It records its
 * PID, serves the API, runs the start-up sequence and supervises until asked to stop
 * (POST /v1/shutdown, SIGTERM or SIGINT).
 */
async function main(): Promise<void> {
  const stateDir = process.argv[2];
  if (!stateDir) throw new Error("usage: supervisor <state-dir>");
  const paths = new StatePaths(stateDir);
  const logFile = paths.log("supervisor");
  const log = (line: string) => appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
  const config = loadConfig(paths.configFile);
  const supervisor = new Supervisor(paths, config, readHostFacts(paths.root), log);
  writePidFile(paths.supervisorPid, process.pid);
  log(`supervisor ${process.pid} starting for ${paths.root}`);

  let stopping = false;
  const api = await buildApi(supervisor, new TokenVerifier(paths, hashToken(ensureSecret(paths, "api_token"))), () => void stop("API request"));
  async function stop(why: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    log(`shutdown requested (${why})`);
    await supervisor.shutdown();
    await api.close();
    removePidFile(paths.supervisorPid);
    log("supervisor stopped");
    process.exit(0);
  }
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGHUP", () => log("SIGHUP ignored"));
  // An unexpected rejection must not kill the supervisor and orphan its children: log it, keep going.
  process.on("unhandledRejection", (e) => log(`unhandled rejection: ${(e as Error)?.stack ?? String(e)}`));
  // Likewise an exception thrown from an event handler (a client's 'error' with no listener): the
  // supervisor exiting would leave etcd, Patroni, PostgreSQL and PgBouncer unsupervised.
  process.on("uncaughtException", (e) => log(`uncaught exception: ${e.stack ?? String(e)}`));

  await api.listen({ host: "127.0.0.1", port: config.ports.api });
  await supervisor.start();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

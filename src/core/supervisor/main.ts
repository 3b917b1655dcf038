import { appendFileSync } from "node:fs";
import { readHostFacts } from "../config/host-facts.js";
import { writePidFile, removePidFile } from "../processes/pid-file.js";
import { loadEffectiveConfig } from "../network/host-network.js";
import { ensureSecret, hashToken } from "../secrets.js";
import { StatePaths } from "../state-dir.js";
import { buildApi } from "./api-server.js";
import { TokenVerifier } from "../api-tokens.js";
import { Supervisor } from "./supervisor.js";
import { EXIT_REPLACE } from "./keeper.js";

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
  const config = loadEffectiveConfig(paths);
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
  // SIGUSR2: this supervisor exits and leaves every child serving; the keeper (or systemd) starts the
  // recorded release's supervisor, which adopts them. A control-plane restart or update never takes
  // PostgreSQL down.
  process.on(
    "SIGUSR2",
    () =>
      void (async () => {
        if (stopping) return;
        stopping = true;
        log("SIGUSR2: handing the running cluster over to a new supervisor (the children keep running)");
        await supervisor.detach();
        await api.close();
        removePidFile(paths.supervisorPid);
        log(`supervisor exits with ${EXIT_REPLACE} to be replaced`);
        process.exit(EXIT_REPLACE);
      })(),
  );
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

import { appendFileSync, closeSync, openSync } from "node:fs";
import { spawn, type ChildProcess } from "node:child_process";
import { keeperMain, readReleaseRecord, supervisorMain, type Release } from "../install/release.js";
import { livePidFromFile, removePidFile, sleep, writePidFile } from "../processes/pid-file.js";
import { StatePaths } from "../state-dir.js";
import { afterExit } from "./keeper.js";

/** util-linux, essential on Debian. */
const SETSID_BIN = "/usr/bin/setsid";

/**
 * The keeper: started by `tusk up` where systemd is not the init system, one per state directory.
 * It runs the supervisor of the release the state directory records and restarts it when it dies
 * (keeper.ts decides how soon); SIGTERM stops it after asking the supervisor to stop gracefully.
 */
async function main(): Promise<void> {
  const stateDir = process.argv[2];
  if (!stateDir) throw new Error("usage: keeper <state-dir>");
  const paths = new StatePaths(stateDir);
  const log = (line: string) => appendFileSync(paths.log("keeper"), `${new Date().toISOString()} ${line}\n`);
  const own: Release = { id: "(this keeper's)", dir: new URL("../../../../", import.meta.url).pathname };
  writePidFile(paths.keeperPid, process.pid);
  log(`keeper ${process.pid} starting for ${paths.root}`);
  let child: ChildProcess | undefined;
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`${why}: asking the supervisor to stop gracefully, and not restarting it`);
    child?.kill("SIGTERM");
    if (!child) finish(0);
  };
  const finish = (code: number) => {
    // Only our own: after a hand-over the next keeper may have written its PID already.
    if (livePidFromFile(paths.keeperPid) === process.pid) removePidFile(paths.keeperPid);
    log("keeper stopped");
    process.exit(code);
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGHUP", () => log("SIGHUP ignored"));

  let failures = 0;
  for (;;) {
    const release = readReleaseRecord(paths) ?? own;
    const out = openSync(paths.log("supervisor"), "a");
    const started = Date.now();
    child = spawn(process.execPath, [supervisorMain(release), paths.root], { stdio: ["ignore", out, out], cwd: "/" });
    closeSync(out);
    log(`started the supervisor (pid ${child.pid}) from release ${release.id}`);
    const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) => child!.on("exit", (code, signal) => resolve({ code, signal })));
    child = undefined;
    if (stopping) finish(0);
    const next = afterExit({ ...exit, uptimeMs: Date.now() - started }, failures);
    log(next.sentence);
    if (next.action === "stop") finish(0);
    if (next.action === "hand-over") {
      const target = readReleaseRecord(paths) ?? own;
      const handover = spawn(SETSID_BIN, ["--fork", process.execPath, keeperMain(target), paths.root], { stdio: "ignore", cwd: "/" });
      handover.unref();
      await new Promise((r) => handover.on("exit", r));
      log(`handed over to the keeper of release ${target.id}`);
      finish(0);
    }
    if (next.action === "restart") {
      failures = next.failures;
      await sleep(next.delayMs);
      if (stopping) finish(0);
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

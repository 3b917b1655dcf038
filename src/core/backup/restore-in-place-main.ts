/**
 * A restore in place asked for through the API, as its own process: it stops the supervisor that
 * received the request, so it cannot run inside it. The supervisor checks the target first, then
 * starts this detached with the state directory, the target (JSON) and the repository, its output
 * going to log/restore.log. It calls the core directly, as `tusk restore --yes` does.
 *
 *   node restore-in-place-main.js STATE_DIR TARGET_JSON REPO|"" [OPERATION_ID]
 */
import { Cluster } from "../cluster/cluster.js";
import { ExitCode, isTuskError } from "../errors.js";
import { lineProgress } from "../progress.js";
import { restoreInPlace } from "./restore-in-place.js";
import type { RestoreTarget } from "./restore-spec.js";

const [stateDir, targetJson, repoText, operationText] = process.argv.slice(2);
if (!stateDir || !targetJson) {
  console.error('usage: restore-in-place-main.js STATE_DIR TARGET_JSON REPO|"" [OPERATION_ID]');
  process.exit(ExitCode.Usage);
}
const progress = lineProgress((line) => process.stdout.write(line));
try {
  const status = await restoreInPlace(
    new Cluster(stateDir),
    JSON.parse(targetJson) as RestoreTarget,
    progress,
    repoText ? Number(repoText) : undefined,
    operationText ? Number(operationText) : undefined,
  );
  progress.info(`Restored in place; the connection strings are unchanged (PostgreSQL timeline ${status.processes.find((p) => p.name === "postgres")?.timeline ?? "unknown"}).`);
} catch (e) {
  if (isTuskError(e)) {
    progress.info(e.format());
    process.exit(e.exitCode);
  }
  progress.info(`restore in place failed unexpectedly (this is a bug): ${(e as Error).stack ?? e}`);
  process.exit(ExitCode.Internal);
}

import type { Command } from "commander";
import { Cluster } from "../core/cluster/cluster.js";
import { resolveStateDir } from "../core/state-dir.js";
import { STATE_DIR_ENV, DEFAULT_STATE_DIR } from "../core/endpoints.js";

export const STATE_DIR_HELP = `state directory of the cluster (default: $${STATE_DIR_ENV} or ${DEFAULT_STATE_DIR})`;

/** The cluster a command acts on, from the global --state-dir option. */
export function clusterFor(command: Command): Cluster {
  const opts = command.optsWithGlobals<{ stateDir?: string }>();
  return new Cluster(resolveStateDir(opts.stateDir));
}

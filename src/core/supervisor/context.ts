import type { TuskConfig } from "../config/config-file.js";
import type { EffectiveSettings } from "../config/effective-settings.js";
import type { HostNetwork } from "../network/host-network.js";
import type { OsUser } from "../os-user.js";
import type { StatePaths } from "../state-dir.js";
import type { NodeSet } from "./node-set.js";

/**
 * What every part of the supervisor works with. `config` and `settings` are the configuration in
 * force: applying tusk.yaml live (settings-change.ts) replaces them, so parts read them when they
 * act instead of keeping a copy.
 */
export interface SupervisorContext {
  readonly paths: StatePaths;
  config: TuskConfig;
  settings: EffectiveSettings;
  /** The host network once the cluster is converted (network/host-network.ts); null on one machine. */
  network: HostNetwork | null;
  readonly pgUser: OsUser;
  readonly etcdOsUser: OsUser;
  readonly nodes: NodeSet;
  readonly log: (line: string) => void;
}

/** The postgres OS user as file ownership. */
export function pgOwner(ctx: SupervisorContext): { uid: number; gid: number } {
  return { uid: ctx.pgUser.uid, gid: ctx.pgUser.gid };
}

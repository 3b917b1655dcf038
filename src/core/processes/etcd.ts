import { ETCD_BIN } from "../install/components.js";
import type { TuskConfig } from "../config/config-file.js";
import type { OsUser } from "../os-user.js";
import type { StatePaths } from "../state-dir.js";
import { getJson } from "./http-probe.js";
import type { ProcessSpec } from "./managed-process.js";

/**
 * etcd 3.4, single member on loopback: Patroni's distributed configuration store from the first node,
 * so adding replicas later changes no data or configuration. Ready when /health reports true.
 * Stops on SIGTERM within seconds.
 */
export function etcdSpec(config: TuskConfig, paths: StatePaths, user: OsUser): ProcessSpec {
  const client = `http://127.0.0.1:${config.ports.etcd_client}`;
  const peer = `http://127.0.0.1:${config.ports.etcd_peer}`;
  const name = `${config.cluster_name}-etcd1`;
  return {
    name: "etcd",
    command: ETCD_BIN,
    args: [
      "--name", name,
      "--data-dir", paths.etcdDataDir,
      "--listen-client-urls", client,
      "--advertise-client-urls", client,
      "--listen-peer-urls", peer,
      "--initial-advertise-peer-urls", peer,
      "--initial-cluster", `${name}=${peer}`,
      "--initial-cluster-token", config.cluster_name,
      "--initial-cluster-state", "new",
      "--enable-v2=false",
      "--log-level", "warn",
      "--logger", "zap",
    ],
    uid: user.uid,
    gid: user.gid,
    env: { PATH: "/usr/bin:/bin", HOME: paths.etcdDataDir },
    cwd: paths.etcdDataDir,
    logFile: paths.log("etcd"),
    pidFile: paths.pidFile("etcd"),
    stopSteps: [{ signal: "SIGTERM", waitMs: 10_000 }],
  };
}

export async function etcdReady(config: TuskConfig): Promise<boolean> {
  const r = await getJson<{ health?: string }>(`http://127.0.0.1:${config.ports.etcd_client}/health`);
  return r?.json.health === "true";
}

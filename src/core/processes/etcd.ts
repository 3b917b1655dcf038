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
 *
 * Patroni talks to it over the v2 protocol. Patroni 3.0.2's etcd3 client (Debian bookworm) renews the
 * leader key after its lease expired with an unconditional put (fixed in 3.0.3, patroni#2689): a
 * primary that froze past the ttl and woke up took the lock back from the replica promoted
 * meanwhile, and that replica's acknowledged commits were rewound away (seen here). The v2 client
 * renews with prevValue=<its name>, which fails once another node holds the key, so the old primary
 * demotes instead.
 */
export function etcdSpec(config: TuskConfig, paths: StatePaths, user: OsUser): ProcessSpec {
  const client = `http://127.0.0.1:${config.ports.etcd_client}`;
  const peer = `http://127.0.0.1:${config.ports.etcd_peer}`;
  const name = `${config.cluster_name}-etcd1`;
  return {
    name: "etcd",
    command: ETCD_BIN,
    args: [
      "--name",
      name,
      "--data-dir",
      paths.etcdDataDir,
      "--listen-client-urls",
      client,
      "--advertise-client-urls",
      client,
      "--listen-peer-urls",
      peer,
      "--initial-advertise-peer-urls",
      peer,
      "--initial-cluster",
      `${name}=${peer}`,
      "--initial-cluster-token",
      config.cluster_name,
      "--initial-cluster-state",
      "new",
      "--enable-v2=true",
      "--log-level",
      "warn",
      "--logger",
      "zap",
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

/**
 * Deletes every key of one Patroni cluster (its leader, members, history and configuration) through
 * etcd's v2 keys API, so Patroni treats the data directory it finds next as a new cluster's: an
 * in-place restore starts on a new timeline that the old keys would contradict.
 */
export async function deleteClusterKeys(config: TuskConfig, namespace: string): Promise<void> {
  const path = `${namespace}${config.cluster_name}`.replace(/^\/+/, "");
  const r = await fetch(`http://127.0.0.1:${config.ports.etcd_client}/v2/keys/${path}?recursive=true&dir=true`, {
    method: "DELETE",
    signal: AbortSignal.timeout(5000),
  });
  if (!r.ok && r.status !== 404) throw new Error(`etcd refused to delete /${path}: HTTP ${r.status} ${await r.text()}`);
}

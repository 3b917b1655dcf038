import { ETCD_BIN } from "../install/components.js";
import type { TuskConfig } from "../config/config-file.js";
import type { OsUser } from "../os-user.js";
import type { StatePaths } from "../state-dir.js";
import { etcdMemberName, FIRST_HOST, urlHost, type HostNetwork } from "../network/host-network.js";
import { etcdTlsFiles } from "../tls/etcd-certificate.js";
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
export function etcdSpec(config: TuskConfig, paths: StatePaths, user: OsUser, network: HostNetwork | null = null): ProcessSpec {
  return {
    name: "etcd",
    command: ETCD_BIN,
    args: etcdArgs(config, paths, network),
    uid: user.uid,
    gid: user.gid,
    env: { PATH: "/usr/bin:/bin", HOME: paths.etcdDataDir },
    cwd: paths.etcdDataDir,
    logFile: paths.log("etcd"),
    pidFile: paths.pidFile("etcd"),
    stopSteps: [{ signal: "SIGTERM", waitMs: 10_000 }],
  };
}

/**
 * etcd's command line. One machine: client and peer on loopback, plain HTTP. Converted for the
 * network (network/host-network.ts): peers on the host's address with mutual TLS (the cluster CA's
 * certificates, a peer without one is refused); clients on the host's address with mutual TLS too
 * (other hosts' Patroni), and still on loopback without TLS for this host's supervisor and tools —
 * etcd serves both from one port pair. With a data directory, etcd takes its member's peer URL from
 * its own data (conversion updates it first with `member update`); `--initial-*` only matter for a
 * new member.
 */
export function etcdArgs(config: TuskConfig, paths: StatePaths, network: HostNetwork | null): string[] {
  const name = etcdMemberName(config.cluster_name, network?.name ?? FIRST_HOST);
  const loopbackClient = `http://127.0.0.1:${config.ports.etcd_client}`;
  const [scheme, host] = network ? ["https", urlHost(network.address)] : ["http", "127.0.0.1"];
  const client = `${scheme}://${host}:${config.ports.etcd_client}`;
  const peer = `${scheme}://${host}:${config.ports.etcd_peer}`;
  const args = [
    ...["--name", name, "--data-dir", paths.etcdDataDir, "--enable-v2=true", "--log-level", "warn", "--logger", "zap"],
    ...["--listen-client-urls", network ? `${loopbackClient},${client}` : client, "--advertise-client-urls", client],
    ...["--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer],
    ...["--initial-cluster", initialCluster(config, name, peer, network), "--initial-cluster-token", config.cluster_name],
    // A joined host's member was added to a running cluster (as a learner); the first host's began it.
    ...["--initial-cluster-state", network && network.name !== FIRST_HOST ? "existing" : "new"],
  ];
  if (!network) return args;
  const tls = etcdTlsFiles(paths);
  return [
    ...args,
    ...["--cert-file", tls.cert, "--key-file", tls.key, "--trusted-ca-file", tls.ca, "--client-cert-auth"],
    ...["--peer-cert-file", tls.cert, "--peer-key-file", tls.key, "--peer-trusted-ca-file", tls.ca, "--peer-client-cert-auth"],
  ];
}

/** Every member as name=peer URL: what a member added to a running cluster must start with. */
function initialCluster(config: TuskConfig, name: string, peer: string, network: HostNetwork | null): string {
  if (!network || network.hosts.length === 0) return `${name}=${peer}`;
  return network.hosts.map((h) => `${h.etcdName}=https://${urlHost(h.address)}:${config.ports.etcd_peer}`).join(",");
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

import type { TuskConfig } from "../config/config-file.js";
import type { NodeInfo } from "../cluster/nodes.js";

/** How often HAProxy asks each node's Patroni whether it may serve reads, and how many answers count. */
export const READ_ONLY_CHECK = { intervalMs: 1000, fall: 2, rise: 2 } as const;

/**
 * A node HAProxy serves: one of this host's (on loopback), or one of another host's (`host`, its
 * address: a data host that joined), reached from this host's address over the cluster's network.
 */
export type HaproxyServer = NodeInfo & { host?: string };

/**
 * A server line's address and options: with `checked`, Patroni's API decides whether the node
 * serves, and a node that fails has its sessions cut. Dynamic servers (added at run time) do not
 * take `default-server`, so every line carries its options. A node of another host is reached from
 * this host's address (`source`: the defaults' 127.0.0.2 cannot leave the machine), and its Patroni
 * on its own address; the client's TLS passes through HAProxy to that node.
 */
export function serverOptions(node: HaproxyServer, checked: boolean, rest?: PatroniCheckTls): string {
  const { intervalMs, fall, rise } = READ_ONLY_CHECK;
  const remote = node.host !== undefined && rest !== undefined;
  const address = remote ? `${bracketed(node.host!)}:${node.ports.postgres} source ${rest.address}` : `127.0.0.1:${node.ports.postgres}`;
  const check = rest
    ? `check addr ${remote ? node.host : rest.address} port ${node.ports.patroni} check-ssl verify required ca-file ${rest.caFile} crt ${rest.clientPem}`
    : `check port ${node.ports.patroni}`;
  return checked ? `${address} ${check} inter ${intervalMs} fastinter ${intervalMs / 2} downinter ${intervalMs} fall ${fall} rise ${rise} on-marked-down shutdown-sessions` : address;
}

const bracketed = (address: string) => (address.includes(":") ? `[${address}]` : address);

/**
 * Once the cluster is converted for the network, Patroni's API listens on the host's address over
 * TLS and wants a client certificate (patroni-config.ts): the checks go there, verify Patroni
 * against the cluster's CA, and present this host's certificate (cert and key in one file).
 */
export interface PatroniCheckTls {
  address: string;
  caFile: string;
  clientPem: string;
}

/** The backends; each lists every node. */
export const HAPROXY_BACKENDS = {
  /** Replicas within the lag limit (read-only endpoint). */
  replicas: "replicas",
  /** The primary, when no replica qualifies (read-only endpoint). */
  primary: "primary",
  /** The primary, chosen by the supervisor from Patroni's role-change callback (direct endpoint). */
  direct: "direct",
} as const;

/**
 * haproxy.cfg for the read-only and direct endpoints (HAProxy 2.6, TCP mode: TLS and SCRAM stay
 * between the client and PostgreSQL). Every node is listed in every backend, other hosts' too once
 * data hosts joined (a client's TLS then ends on that node, whose certificate names its own host:
 * verify-ca, not verify-full, through these endpoints); nodes added or removed
 * later are added or deleted at run time through the admin socket, and the file is rewritten for
 * the next start.
 * - backend `replicas`: a node is in while its Patroni answers 200 to `OPTIONS /replica?lag=<bytes>`
 *   (running, a replica, within the lag limit of the leader's last known WAL position); connections
 *   go round-robin; a replica that fails the check has its sessions cut, so clients reconnect to one
 *   that is in;
 * - backend `primary`: the node whose Patroni answers 200 to `OPTIONS /primary`, used when no replica
 *   qualifies;
 * - backend `direct`: only the primary is enabled; every other node is in maintenance. The supervisor
 *   moves that at once when Patroni's callback names a new leader (a health check would take two
 *   failed checks, 1–2 s), and cuts the sessions still on the old primary. No health check: the
 *   supervisor routes it as it routes PgBouncer. With a `/primary` check, a Patroni API slowed past
 *   the 1 s check timeout by load (seen in CI) marked the primary down, cutting its sessions and
 *   refusing new ones while nothing had failed over.
 */
export function haproxyConfig(config: TuskConfig, nodes: readonly HaproxyServer[], primary: string, statsSocket: string, rest?: PatroniCheckTls): string {
  const binds = (port: number) =>
    (config.listen_address === "127.0.0.1" ? ["127.0.0.1"] : ["127.0.0.1", config.listen_address === "*" ? "0.0.0.0" : config.listen_address]).map((host) => `  bind ${host}:${port}`);
  const backend = (name: string, check: string | null, balance: string, enabled: (n: NodeInfo) => boolean) => [
    `backend ${name}`,
    "  mode tcp",
    `  balance ${balance}`,
    // OPTIONS: Patroni answers with the status line alone. A GET's body, cut off when HAProxy closes
    // the check, made Patroni log a ConnectionResetError traceback on every check.
    ...(check ? [`  option httpchk OPTIONS ${check}`, "  http-check expect status 200"] : []),
    ...nodes.map((n) => `  server ${n.name} ${serverOptions(n, check !== null, rest)}${enabled(n) ? "" : " disabled"}`),
    "",
  ];
  return [
    "# Generated by tusk; rewritten when nodes are added or removed and when the primary moves.",
    "global",
    "  maxconn 2000",
    "  log stderr format raw daemon notice",
    // The supervisor (root) reads which nodes serve reads for `tusk status`, routes the direct
    // endpoint on failover and adds or removes nodes. Owner-only.
    `  stats socket ${statsSocket} mode 600 level admin`,
    "",
    "defaults",
    "  mode tcp",
    // Listening beyond loopback, HAProxy connects from 127.0.0.2: PostgreSQL's pg_hba admits only
    // 127.0.0.1 as local, so what HAProxy forwards from the network meets the network's rules (TLS
    // only, never the superuser, replication or rewind roles) instead of passing as a local client.
    ...(config.listen_address === "127.0.0.1" ? [] : ["  source 127.0.0.2"]),
    "  log global",
    "  timeout connect 2s",
    "  timeout check 1s",
    // Database sessions are long-lived and may sit idle between queries.
    "  timeout client 24h",
    "  timeout server 24h",
    "",
    "frontend readonly",
    ...binds(config.ports.readonly),
    `  use_backend ${HAPROXY_BACKENDS.replicas} if { nbsrv(${HAPROXY_BACKENDS.replicas}) gt 0 }`,
    `  default_backend ${HAPROXY_BACKENDS.primary}`,
    "",
    "frontend direct",
    ...binds(config.ports.direct),
    `  default_backend ${HAPROXY_BACKENDS.direct}`,
    "",
    ...backend(HAPROXY_BACKENDS.replicas, `/replica?lag=${config.read_only_max_lag}`, "roundrobin", () => true),
    ...backend(HAPROXY_BACKENDS.primary, "/primary", "roundrobin", () => true),
    // `first`: one server takes every session, even if two were ever enabled for a moment.
    ...backend(HAPROXY_BACKENDS.direct, null, "first", (n) => n.name === primary),
  ].join("\n");
}

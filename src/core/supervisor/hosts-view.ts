import type { PatroniMember } from "../processes/patroni.js";
import { memberRole, type NodeStatus } from "./replication.js";
import { X509Certificate } from "node:crypto";
import { httpsRequest } from "../processes/http-probe.js";
import { EtcdMembers, type EtcdCredentials, type EtcdMember } from "../network/etcd-members.js";
import { urlHost } from "../network/host-network.js";
import { etcdCredentials } from "./cluster-etcd.js";
import type { SupervisorContext } from "./context.js";
import { readVersions, type HostVersions } from "./host-versions.js";

/** One host as `tusk hosts` shows it. */
export interface HostView {
  name: string;
  address: string;
  role: string;
  /** Its etcd member: a voter, a learner, or not (yet, or any more) a member. */
  etcd: "voter" | "learner" | "not a member";
  /** Whether its etcd answered /health over mutual TLS from here just now. */
  reachable: boolean;
  /** When its certificate ends (ISO 8601), as issued. */
  certificateExpires: string | null;
  /** Its PostgreSQL nodes as Patroni's members describe them (none on a witness, or while they are down). */
  nodes: HostNode[];
  /** What it runs, as its supervisor last published it (host-versions.ts); null before it has. */
  versions: HostVersions | null;
}

export interface HostNode {
  name: string;
  role: NodeStatus["role"];
  /** Patroni's state: running, streaming, starting, stopped, … */
  state: string;
  /** Bytes behind the leader (0 for the primary; null when Patroni cannot tell). */
  lagBytes: number | null;
}

/** The members whose PostgreSQL listens on `address` (every member when the cluster is one machine). */
export function nodesOn(address: string | undefined, members: PatroniMember[]): HostNode[] {
  return members
    .filter((m) => address === undefined || m.host === address)
    .map((m) => {
      const role = memberRole(m);
      return { name: m.name, role, state: m.state, lagBytes: role === "primary" ? 0 : typeof m.lag === "number" ? m.lag : null };
    });
}

/**
 * The cluster's hosts as this host sees them: the recorded hosts (network.json), etcd's membership,
 * and each host's etcd asked over mutual TLS with this host's certificate. A cluster not converted
 * for the network is one host.
 */
export async function hostsView(ctx: SupervisorContext, patroniMembers: PatroniMember[]): Promise<HostView[]> {
  const network = ctx.network;
  const creds = etcdCredentials(ctx);
  const [members, versions] = await Promise.all([membership(ctx, creds), readVersions(ctx)]);
  if (!network) {
    return [
      {
        name: "host1",
        address: "127.0.0.1",
        role: "data (not converted for the network)",
        etcd: members.length > 0 ? "voter" : "not a member",
        reachable: members.length > 0,
        certificateExpires: null,
        nodes: nodesOn(undefined, patroniMembers),
        versions: null,
      },
    ];
  }
  return Promise.all(
    network.hosts.map(async (h) => {
      const peer = `https://${urlHost(h.address)}:${ctx.config.ports.etcd_peer}`;
      const m = members.find((x) => x.name === h.etcdName || x.peerURLs.includes(peer));
      const own = h.name === network.name && creds ? new X509Certificate(creds.cert).validTo : undefined;
      return {
        name: h.name,
        address: h.address,
        role: h.role,
        etcd: m ? (m.isLearner ? "learner" : "voter") : "not a member",
        reachable: creds ? await etcdHealthy(h.address, ctx.config.ports.etcd_client, creds) : false,
        certificateExpires: own ? new Date(own).toISOString() : (h.certificateExpires ?? null),
        nodes: nodesOn(h.address, patroniMembers),
        versions: versions.get(h.name) ?? null,
      } satisfies HostView;
    }),
  );
}

/** etcd's members: from this host's etcd, or, where it is a learner (which does not answer that), from another host's. */
async function membership(ctx: SupervisorContext, creds: EtcdCredentials | undefined): Promise<EtcdMember[]> {
  const local = await EtcdMembers.local(ctx.config.ports.etcd_client)
    .list()
    .catch(() => undefined);
  if (local) return local;
  for (const h of ctx.network?.hosts ?? []) {
    if (h.name === ctx.network?.name || !creds) continue;
    const list = await EtcdMembers.remote(h.address, ctx.config.ports.etcd_client, creds)
      .list()
      .catch(() => undefined);
    if (list) return list;
  }
  return [];
}

function etcdHealthy(address: string, port: number, creds: EtcdCredentials): Promise<boolean> {
  return httpsRequest({ host: address, port, path: "/health", tls: creds, timeoutMs: 2000 })
    .then((r) => /"health":"true"/.test(r.body))
    .catch(() => false);
}

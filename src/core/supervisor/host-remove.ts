import { TuskError } from "../errors.js";
import { EtcdMembers } from "../network/etcd-members.js";
import { urlHost, writeHostNetwork } from "../network/host-network.js";
import { reloadPatroni } from "../processes/patroni.js";
import type { SupervisorContext } from "./context.js";
import { patroniAuth, writePatroniConfig } from "./node-setup.js";

export interface HostRemoval {
  name: string;
  address: string;
  /** Whether etcd had a member for it (a host that never started may have had none). */
  etcdMemberRemoved: boolean;
}

/**
 * `tusk host remove NAME`, on the first host: the host's etcd member leaves the membership (also
 * when the host is dead: membership is decided by the others), the host leaves network.json, and
 * pg_hba and Patroni's etcd list follow. The removed machine's own state is left to it (`tusk
 * destroy` there); its etcd, no longer a member, cannot rejoin by itself.
 */
export async function removeHost(ctx: SupervisorContext, name: string, log: (line: string) => void): Promise<HostRemoval> {
  const network = ctx.network;
  if (!network) throw new TuskError("NotRunning", "This cluster is not converted for the network: it has no other hosts.", { hint: "tusk hosts lists them." });
  const host = network.hosts.find((h) => h.name === name);
  if (!host) throw new TuskError("Usage", `There is no host named ${name}.`, { hint: `Hosts: ${network.hosts.map((h) => h.name).join(", ")} (tusk hosts).` });
  if (host.name === network.name) throw new TuskError("Usage", `${name} is this host: a host cannot remove itself.`, { hint: "Remove it from another host of the cluster." });
  const etcd = EtcdMembers.local(ctx.config.ports.etcd_client);
  const peer = `https://${urlHost(host.address)}:${ctx.config.ports.etcd_peer}`;
  const member = (await etcd.list()).find((m) => m.name === host.etcdName || m.peerURLs.includes(peer));
  if (member) await etcd.remove(member.ID);
  const next = { ...network, hosts: network.hosts.filter((h) => h.name !== name) };
  writeHostNetwork(ctx.paths, next);
  ctx.network = next;
  for (const node of ctx.nodes.all) {
    writePatroniConfig(ctx, node);
    await reloadPatroni(node.ports.patroni, patroniAuth(ctx));
  }
  log(`host ${name} (${host.address}) removed${member ? `; its etcd member ${member.ID} left the membership` : "; it had no etcd member"}`);
  return { name, address: host.address, etcdMemberRemoved: member !== undefined };
}

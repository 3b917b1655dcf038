import { TuskError } from "../errors.js";
import { sleep } from "../processes/pid-file.js";
import { EtcdMembers } from "../network/etcd-members.js";
import { urlHost, writeHostNetwork } from "../network/host-network.js";
import { reloadPatroni, type PatroniMember } from "../processes/patroni.js";
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
 * destroy` there); its etcd, no longer a member, cannot rejoin by itself. A data host whose node
 * leads is refused (switch over first, or let Patroni fail over from a dead one); its node's
 * member key expires with Patroni's ttl, and Patroni then drops its replication slot and, in
 * synchronous mode, stops waiting for it.
 */
/**
 * etcd requests for up to 40 s: a host lost a moment ago may have held etcd's leadership, and
 * requests time out until the others elect a new leader (seen when the removal followed the link
 * going down at once).
 */
async function retryingEtcd<T>(request: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 40_000;
  for (;;) {
    try {
      return await request();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(1000);
    }
  }
}

export async function removeHost(ctx: SupervisorContext, name: string, members: PatroniMember[], log: (line: string) => void): Promise<HostRemoval> {
  const network = ctx.network;
  if (!network) throw new TuskError("NotRunning", "This cluster is not converted for the network: it has no other hosts.", { hint: "tusk hosts lists them." });
  const host = network.hosts.find((h) => h.name === name);
  if (!host) throw new TuskError("Usage", `There is no host named ${name}.`, { hint: `Hosts: ${network.hosts.map((h) => h.name).join(", ")} (tusk hosts).` });
  if (host.name === network.name) throw new TuskError("Usage", `${name} is this host: a host cannot remove itself.`, { hint: "Remove it from another host of the cluster." });
  const leader = members.find((m) => m.role === "leader" && m.host === host.address);
  if (leader) {
    throw new TuskError("IncompatibleState", `${name} holds the primary (${leader.name}): removing it would leave the cluster without one.`, {
      hint: "Switch over to another host's node first (tusk switchover); a dead host's primary is failed over by Patroni within seconds.",
    });
  }
  const etcd = EtcdMembers.local(ctx.config.ports.etcd_client);
  const peer = `https://${urlHost(host.address)}:${ctx.config.ports.etcd_peer}`;
  const member = (await retryingEtcd(() => etcd.list())).find((m) => m.name === host.etcdName || m.peerURLs.includes(peer));
  if (member) {
    await retryingEtcd(() =>
      etcd.remove(member.ID).catch((e: Error) => {
        if (!/member not found/i.test(e.message)) throw e; // an earlier attempt went through after all
      }),
    );
  }
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

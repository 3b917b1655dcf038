import { httpRequest, httpsRequest } from "../processes/http-probe.js";

/** One etcd member as its v3 API lists it (IDs are uint64, kept as the decimal strings JSON carries). */
export interface EtcdMember {
  ID: string;
  name?: string;
  peerURLs: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

/** A client certificate of the cluster's CA, for another host's etcd (mutual TLS). */
export interface EtcdCredentials {
  ca: string | Buffer;
  cert: string | Buffer;
  key: string | Buffer;
}

/** One POST to an etcd member's v3 JSON gateway. */
export type EtcdPost = (path: string, body: unknown) => Promise<{ status: number; body: string }>;

/** This host's etcd on its loopback client URL (plain HTTP there). */
export const localEtcd =
  (clientPort: number, timeoutMs = 10_000): EtcdPost =>
  (path, body) =>
    httpRequest(`http://127.0.0.1:${clientPort}${path}`, { method: "POST", body, timeoutMs });

/** Another host's etcd on its address, with mutual TLS. */
export const remoteEtcd =
  (address: string, clientPort: number, creds: EtcdCredentials, timeoutMs = 10_000): EtcdPost =>
  (path, body) =>
    httpsRequest({ host: address, port: clientPort, path, method: "POST", body, tls: creds, timeoutMs });

/**
 * etcd's cluster membership through the v3 API's JSON gateway: on this host's loopback client URL
 * (plain HTTP there), or on another host's address with mutual TLS (a learner answers neither
 * membership nor promotion requests, so a witness asks a voter).
 */
export class EtcdMembers {
  private constructor(private readonly post: EtcdPost) {}

  static local(clientPort: number): EtcdMembers {
    return new EtcdMembers(localEtcd(clientPort));
  }

  static remote(address: string, clientPort: number, creds: EtcdCredentials): EtcdMembers {
    return new EtcdMembers(remoteEtcd(address, clientPort, creds));
  }

  private async call<T>(path: string, body: unknown): Promise<T> {
    const r = await this.post(`/v3/${path}`, body);
    if (r.status >= 300) throw new Error(`etcd ${path}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    return JSON.parse(r.body) as T;
  }

  async list(): Promise<EtcdMember[]> {
    return (await this.call<{ members?: EtcdMember[] }>("cluster/member/list", {})).members ?? [];
  }

  /** Adds a member as a learner (it receives the log but does not vote): a member that never starts costs no quorum. */
  async addLearner(peerUrl: string): Promise<{ member: EtcdMember; members: EtcdMember[] }> {
    const r = await this.call<{ member: EtcdMember; members: EtcdMember[] }>("cluster/member/add", { peerURLs: [peerUrl], isLearner: true });
    return { member: r.member, members: r.members };
  }

  async remove(id: string): Promise<void> {
    await this.call("cluster/member/remove", { ID: id });
  }

  /** Makes a learner a voting member; etcd refuses while the learner's log is behind the leader's. */
  async promote(id: string): Promise<void> {
    await this.call("cluster/member/promote", { ID: id });
  }

  /** This member's raft position: a learner is in sync once its applied index reaches the leader's. */
  async status(): Promise<{ leader: string; raftIndex: number; raftAppliedIndex: number; isLearner: boolean }> {
    const r = await this.call<{ leader: string; raftIndex: string; raftAppliedIndex: string; isLearner?: boolean }>("maintenance/status", {});
    return { leader: r.leader, raftIndex: Number(r.raftIndex), raftAppliedIndex: Number(r.raftAppliedIndex), isLearner: r.isLearner === true };
  }
}

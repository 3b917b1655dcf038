import type { EtcdPost } from "./etcd-members.js";

/** One key and its value as etcd's v3 API holds them (decoded from the gateway's base64). */
export interface EtcdEntry {
  key: string;
  value: string;
}

const b64 = (s: string | Buffer): string => (typeof s === "string" ? Buffer.from(s, "utf8") : s).toString("base64");
const unb64 = (s: string | undefined): string => Buffer.from(s ?? "", "base64").toString("utf8");

/** The end of the range of every key that starts with `prefix` (etcd's prefix convention: the last byte plus one). */
export function prefixEnd(prefix: string): Buffer {
  const bytes = Buffer.from(prefix, "utf8");
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i] = bytes[i]! + 1;
      return end;
    }
  }
  return Buffer.from([0]);
}

/**
 * Keys of tusk's own in etcd's v3 key space (Patroni keeps its keys in the v2 store, apart), through
 * the JSON gateway. The gateways are asked in order until one answers: a learner refuses key
 * requests, so a host whose member is a learner asks another host's voter.
 */
export class EtcdKv {
  private preferred = 0;

  constructor(private readonly gateways: EtcdPost[]) {}

  private async call<T>(path: string, body: unknown): Promise<T> {
    let last: Error = new Error("no etcd member to ask");
    for (let i = 0; i < this.gateways.length; i++) {
      const at = (this.preferred + i) % this.gateways.length;
      try {
        const r = await this.gateways[at]!(`/v3/${path}`, body);
        if (r.status >= 300) throw new Error(`etcd ${path}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
        this.preferred = at;
        return JSON.parse(r.body) as T;
      } catch (e) {
        last = e as Error;
      }
    }
    throw last;
  }

  /** A lease of `ttlSeconds`: keys put with it go when it is revoked or its holder stops renewing it. */
  async grantLease(ttlSeconds: number): Promise<string> {
    return (await this.call<{ ID: string }>("lease/grant", { TTL: ttlSeconds })).ID;
  }

  async revokeLease(id: string): Promise<void> {
    await this.call("lease/revoke", { ID: id });
  }

  async put(key: string, value: string, lease?: string): Promise<void> {
    await this.call("kv/put", { key: b64(key), value: b64(value), ...(lease ? { lease } : {}) });
  }

  async delete(key: string): Promise<void> {
    await this.call("kv/deleterange", { key: b64(key) });
  }

  /** Every key under `prefix`, in key order. */
  async list(prefix: string): Promise<EtcdEntry[]> {
    const r = await this.call<{ kvs?: { key: string; value?: string }[] }>("kv/range", { key: b64(prefix), range_end: b64(prefixEnd(prefix)) });
    return (r.kvs ?? []).map((kv) => ({ key: unb64(kv.key), value: unb64(kv.value) }));
  }
}

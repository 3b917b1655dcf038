import { existsSync, readFileSync } from "node:fs";
import { EtcdKv } from "../network/etcd-kv.js";
import { localEtcd, remoteEtcd, type EtcdCredentials } from "../network/etcd-members.js";
import { etcdTlsFiles } from "../tls/etcd-certificate.js";
import type { SupervisorContext } from "./context.js";

/** This host's client certificate for the other hosts' etcd (mutual TLS); undefined before the cluster is converted. */
export function etcdCredentials(ctx: SupervisorContext): EtcdCredentials | undefined {
  const tls = etcdTlsFiles(ctx.paths);
  return ctx.network && existsSync(tls.cert) ? { ca: readFileSync(tls.ca), cert: readFileSync(tls.cert), key: readFileSync(tls.key) } : undefined;
}

/**
 * The cluster's etcd for tusk's own keys: this host's member first, then the other hosts' over
 * mutual TLS (this host's member may be a learner, or lost with quorum). Each request gives up
 * after `timeoutMs` per member.
 */
export function clusterKv(ctx: SupervisorContext, timeoutMs: number): EtcdKv {
  const port = ctx.config.ports.etcd_client;
  const creds = etcdCredentials(ctx);
  const others = creds ? (ctx.network?.hosts ?? []).filter((h) => h.name !== ctx.network?.name).map((h) => remoteEtcd(h.address, port, creds, timeoutMs)) : [];
  return new EtcdKv([localEtcd(port, timeoutMs), ...others]);
}

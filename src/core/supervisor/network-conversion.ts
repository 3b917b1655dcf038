import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { TuskError } from "../errors.js";
import { httpRequest } from "../processes/http-probe.js";
import { etcdReady } from "../processes/etcd.js";
import { patroniNode, reloadPatroni, setPaused } from "../processes/patroni.js";
import { sleep } from "../processes/pid-file.js";
import { etcdMemberName, FIRST_HOST, urlHost, writeHostNetwork, type HostNetwork } from "../network/host-network.js";
import { ensureEtcdCertificate } from "../tls/etcd-certificate.js";
import { ensureServerCertificate } from "../tls/server-certificate.js";
import { patroniChild, type Children } from "./children.js";
import type { SupervisorContext } from "./context.js";
import { patroniAuth, writePatroniConfig } from "./node-setup.js";
import type { ReplicationStatus } from "./replication.js";
import type { Routing } from "./routing.js";
import { restartPending } from "./settings-change.js";

/** One step of a conversion: what it did, how long it took, and what clients saw meanwhile. */
export interface ConversionStep {
  step: string;
  ms: number;
  clients: string;
}

export interface ConversionResult {
  address: string;
  steps: ConversionStep[];
  /** Nodes whose PostgreSQL restarted (to listen on the address), and a switchover it took. */
  restarted: string[];
  switchedOver: { from: string; to: string } | null;
  totalMs: number;
}

export interface ConversionParts {
  ctx: SupervisorContext;
  children: Children;
  routing: Routing;
  replication: () => Promise<ReplicationStatus>;
}

/**
 * Converts a running one-machine cluster for the network, in two phases, so that no process ever
 * points at an address that does not serve yet:
 *
 * 1. Listening on the host's address: the server certificate names it; PostgreSQL (a restart,
 *    node by node, the primary after a switchover or with the pool paused) and PgBouncer (a
 *    restart: its listen addresses cannot change on a reload) listen there beside loopback, where
 *    TLS is required and the superuser, replication and rewind roles are rejected.
 * 2. etcd and Patroni on the network, with Patroni paused (it neither fails over nor demotes, and a
 *    Patroni that stops leaves PostgreSQL running): etcd's member takes an https peer URL and
 *    restarts with mutual TLS on the address (loopback stays plain HTTP for this host's tools);
 *    every Patroni restarts to reach etcd there with its client certificate, to advertise its
 *    node on the address and to serve its API there over mutual TLS (the other hosts' Patroni
 *    call it); pg_hba admits replication and pg_rewind from the cluster's hosts only. HAProxy
 *    restarts once, listening on the address and checking Patroni's API over TLS. Then Patroni
 *    resumes.
 *
 * Each step is timed with what clients saw meanwhile, so the outage is reported, not guessed.
 */
export async function convertForNetwork(parts: ConversionParts, address: string, report: (progress: string) => void): Promise<ConversionResult> {
  const { ctx, children, routing } = parts;
  const began = Date.now();
  const steps: ConversionStep[] = [];
  const timed = async <T>(step: string, clients: string, work: () => Promise<T>): Promise<T> => {
    report(step);
    const t = Date.now();
    const out = await work();
    steps.push({ step, ms: Date.now() - t, clients });
    ctx.log(`conversion: ${step} (${Date.now() - t} ms)`);
    return out;
  };

  const etcdTls = await timed(`Issuing certificates from the cluster's CA for ${address}`, "no effect", async () => {
    await ensureServerCertificate(ctx.paths, address, ctx.config.cluster_name, ctx.pgUser);
    return ensureEtcdCertificate(ctx.paths, ctx.config.cluster_name, address, ctx.etcdOsUser);
  });

  // Phase 1: listen on the address (already done when tusk.yaml's listen_address is that address).
  const auth = patroniAuth(ctx);
  let restarts: Awaited<ReturnType<typeof restartPending>> = { restarted: [], switchedOver: null };
  if (ctx.config.listen_address !== address) {
    ctx.config = { ...ctx.config, listen_address: address };
    await timed("Patroni: PostgreSQL to listen on the address (a reload)", "no effect", async () => {
      for (const node of ctx.nodes.all) {
        writePatroniConfig(ctx, node);
        await reloadPatroni(node.ports.patroni, auth);
      }
    });
    restarts = await timed(
      "PostgreSQL restarting to listen on the address",
      ctx.nodes.replicas.length > 0 ? "a switchover: pooled clients wait, direct sessions on the old primary are cut" : "pooled clients wait (pool paused); direct sessions are cut",
      () => restartPending(parts, ctx.nodes.all.length, report),
    );
    await timed("PgBouncer restarting to listen on the address", "pooled sessions are cut; new ones are refused until it listens", () => routing.restartPgbouncer());
  }

  // Phase 2: etcd and Patroni on the network, Patroni paused.
  await timed("Patroni paused (maintenance mode)", "no effect", () => setPaused(ctx.nodes.primaryNode.ports.patroni, auth, true));
  const etcdName = etcdMemberName(ctx.config.cluster_name, FIRST_HOST);
  const network: HostNetwork = {
    address,
    name: FIRST_HOST,
    role: "data",
    hosts: [
      {
        name: FIRST_HOST,
        address,
        role: "data",
        etcdName,
        stateDir: ctx.paths.root,
        certificateExpires: new Date(new X509Certificate(readFileSync(etcdTls.cert)).validTo).toISOString(),
      },
    ],
    since: new Date().toISOString(),
  };
  try {
    await timed("etcd: peer URL on the address, restarting with mutual TLS", "no effect (Patroni paused)", async () => {
      await updatePeerUrl(ctx, `https://${urlHost(address)}:${ctx.config.ports.etcd_peer}`);
      writeHostNetwork(ctx.paths, network);
      ctx.network = network;
      await children.retire("etcd");
      await children.start("etcd", () => etcdReady(ctx.config), 30_000);
    });
    await timed("Patroni restarting: etcd over TLS, nodes advertised on the address, pg_hba for the cluster's hosts", "no effect (Patroni paused, PostgreSQL keeps running)", async () => {
      for (const node of ctx.nodes.all) {
        writePatroniConfig(ctx, node);
        const child = patroniChild(node.name);
        await children.retire(child);
        await children.start(child, async () => (await patroniNode(node.ports.patroni))?.state === "running", 60_000);
      }
    });
    // Once, after Patroni: HAProxy listens on the address (when phase 1 moved PostgreSQL there) and
    // checks Patroni's API where it now is, on the address over TLS.
    await timed("HAProxy restarting: endpoints on the address, health checks to Patroni's API over TLS", "direct and read-only sessions are cut; new ones are refused until it listens", () =>
      routing.haproxy.restart(),
    );
  } finally {
    await timed("Patroni resumed", "no effect", () => resume(ctx));
  }
  ctx.log(`converted for the network on ${address} in ${Date.now() - began} ms`);
  return { address, steps, restarted: restarts.restarted, switchedOver: restarts.switchedOver, totalMs: Date.now() - began };
}

/**
 * Resumes Patroni through whichever node's Patroni answers (the flag is cluster-wide, in etcd): a
 * step that failed may have left one of them down. A cluster still paused after a minute is
 * resumed by the next start-up (startup.ts).
 */
async function resume(ctx: SupervisorContext): Promise<void> {
  let last: unknown;
  for (let i = 0; i < 30; i++) {
    for (const node of [ctx.nodes.primaryNode, ...ctx.nodes.replicas]) {
      try {
        return await setPaused(node.ports.patroni, patroniAuth(ctx), false, 5000);
      } catch (e) {
        last = e;
      }
    }
    await sleep(1000);
  }
  throw new TuskError("ProcessFailed", `Patroni stays paused: ${(last as Error).message}.`, { hint: "tusk down and tusk up resume it." });
}

/**
 * The member's peer URL in etcd's membership (v2 members API on loopback): etcd restarted with peers
 * on https only takes its own URL from its data, so the membership must say it first.
 */
async function updatePeerUrl(ctx: SupervisorContext, peerUrl: string): Promise<void> {
  const base = `http://127.0.0.1:${ctx.config.ports.etcd_client}/v2/members`;
  const list = await httpRequest(base, { timeoutMs: 5000 });
  const members = (JSON.parse(list.body) as { members?: { id: string; name: string; peerURLs: string[] }[] }).members ?? [];
  if (members.length !== 1) throw new TuskError("IncompatibleState", `etcd has ${members.length} members; converting needs the one-machine cluster's single member.`);
  const me = members[0]!;
  if (me.peerURLs.length === 1 && me.peerURLs[0] === peerUrl) return;
  const r = await httpRequest(`${base}/${me.id}`, { method: "PUT", body: { peerURLs: [peerUrl] }, timeoutMs: 10_000 });
  if (r.status >= 300) throw new TuskError("ProcessFailed", `etcd refused the new peer URL ${peerUrl} (${r.status}): ${r.body.slice(0, 200)}`);
}

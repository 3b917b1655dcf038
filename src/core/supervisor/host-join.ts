import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { TuskError } from "../errors.js";
import { extensionBuilds, PG_MAJOR } from "../install/components.js";
import { EtcdMembers } from "../network/etcd-members.js";
import { etcdMemberName, urlHost, writeHostNetwork, type HostRecord } from "../network/host-network.js";
import { joinProblems, type JoinAnswer, type JoinRequest, type JoinS3 } from "../network/join-protocol.js";
import { s3Path } from "../generate/pgbackrest-config.js";
import { readTokenStore, spendToken, writeTokenStore } from "../network/join-tokens.js";
import { reloadPatroni } from "../processes/patroni.js";
import { sleep } from "../processes/pid-file.js";
import { readSecret } from "../secrets.js";
import { caCertificate, clusterCa } from "../tls/cluster-ca.js";
import { signHostCertificate } from "./host-certificates.js";
import type { SupervisorContext } from "./context.js";
import { patroniAuth, writePatroniConfig } from "./node-setup.js";

const REFUSED = {
  unknown: "This join token is not one of this cluster's (mistyped, or made by another cluster).",
  used: "This join token was already used; a token admits one host.",
  expired: "This join token has expired.",
} as const;

/**
 * Admits a host that presents a join token (through the join endpoint, join-server.ts): the token
 * is checked, then the join (joinProblems: name and address free, PostgreSQL's major version and
 * extension builds, clock skew); only a join that passes spends the token. etcd 3.4 holds one
 * learner at a time: a host that joined before and still is one is promoted to voter first (refused,
 * with the token still valid, while it has not received the leader's log). Then the CA signs the host's request, its etcd member is added
 * as a learner (it receives the log but does not vote, so a host that never starts costs no
 * quorum; it is removed again if anything after fails), and the host is recorded in network.json,
 * which pg_hba (replication and pg_rewind from its address) and Patroni's etcd list follow.
 */
export async function admitHost(ctx: SupervisorContext, req: JoinRequest, log: (line: string) => void): Promise<JoinAnswer> {
  const network = ctx.network;
  if (!network) throw new TuskError("NotRunning", "This cluster is not converted for the network.", { hint: "Run tusk host token on its first host." });
  const spent = spendToken(readTokenStore(ctx.paths), req.secret, req.name, new Date());
  if (!spent.ok) {
    log(`join of ${req.name} (${req.address}) refused: token ${spent.reason}`);
    const hint = spent.reason === "expired" ? `It ended at ${spent.token?.expiresAt}. Make a new one on the first host: tusk host token.` : "Make a new one on the first host: tusk host token.";
    throw new TuskError("Usage", REFUSED[spent.reason], { hint });
  }
  const etcd = EtcdMembers.local(ctx.config.ports.etcd_client);
  const members = await etcd.list();
  const problems = joinProblems(
    { ...req, role: spent.token.role },
    {
      postgresMajor: PG_MAJOR,
      extensions: extensionBuilds(),
      hosts: network.hosts,
      nodeNames: ctx.nodes.all.map((n) => n.name),
      now: Date.now(),
    },
  );
  if (problems.length > 0) {
    log(`join of ${req.name} (${req.address}) refused: ${problems.map((p) => p.problem).join(" ")}`);
    throw new TuskError("IncompatibleState", problems.map((p) => p.problem).join(" "), { hint: `${problems.map((p) => p.hint).join(" ")} The token is still valid.` });
  }
  const learner = members.find((m) => m.isLearner);
  if (learner) {
    // A learner that never started has no name in etcd yet: its peer URL names its host.
    const host = network.hosts.find((h) => h.etcdName === learner.name || learner.peerURLs.includes(`https://${urlHost(h.address)}:${ctx.config.ports.etcd_peer}`));
    const name = host?.name ?? (learner.name || learner.peerURLs[0] || learner.ID);
    await etcd.promote(learner.ID).catch((e: Error) => {
      log(`join of ${req.name} (${req.address}) waits: the learner ${name} could not be promoted: ${e.message}`);
      throw new TuskError("IncompatibleState", `Host ${name} joined etcd as a learner and has not received the leader's log yet; etcd 3.4 holds one learner at a time.`, {
        hint: `Join again in a minute; the token is still valid. \`tusk hosts\` shows ${name} as a voter once it is promoted; if it never started, remove it first: tusk host remove ${host?.name ?? name}.`,
      });
    });
    log(`etcd: ${name} promoted from learner to voter to make room for ${req.name} (etcd 3.4 holds one learner at a time)`);
  }
  writeTokenStore(ctx.paths, spent.store);
  const cert = await signHostCertificate(ctx, req.name, req.address, req.csr);
  const record: HostRecord = {
    name: req.name,
    address: req.address,
    role: spent.token.role,
    etcdName: etcdMemberName(ctx.config.cluster_name, req.name),
    ...(req.stateDir ? { stateDir: req.stateDir } : {}),
    certificateExpires: new Date(new X509Certificate(cert).validTo).toISOString(),
  };
  const added = await addLearner(etcd, `https://${urlHost(req.address)}:${ctx.config.ports.etcd_peer}`);
  try {
    // A cluster converted before hosts recorded their state directory: this (the first) host's is named now.
    const hosts = network.hosts.map((h) => (h.name === network.name && !h.stateDir ? { ...h, stateDir: ctx.paths.root } : h));
    const next = { ...network, hosts: [...hosts, record] };
    writeHostNetwork(ctx.paths, next);
    ctx.network = next;
    for (const node of ctx.nodes.all) {
      writePatroniConfig(ctx, node);
      await reloadPatroni(node.ports.patroni, patroniAuth(ctx));
    }
    log(`host ${req.name} (${req.address}, ${record.role}) admitted: its etcd member ${added.member.ID} added as a learner`);
    const answer: JoinAnswer = { clusterName: ctx.config.cluster_name, ports: ctx.config.ports, ca: caCertificate(ctx.paths), cert, hosts: next.hosts };
    if (record.role !== "data") return answer;
    const secrets = {
      superuser: readSecret(ctx.paths, "superuser"),
      replication: readSecret(ctx.paths, "replication"),
      rewind: readSecret(ctx.paths, "rewind"),
      patroni_rest: readSecret(ctx.paths, "patroni_rest"),
      app: readSecret(ctx.paths, "app"),
      owner: readSecret(ctx.paths, "owner"),
      monitor: readSecret(ctx.paths, "monitor"),
    };
    const caKey = readFileSync(clusterCa(ctx.paths).key, "utf8");
    return { ...answer, secrets, caKey, replicationMode: ctx.config.replication_mode, ...(ctx.config.s3 ? { s3: joinS3(ctx) } : {}) };
  } catch (e) {
    await etcd.remove(added.member.ID).catch((err) => log(`could not remove the learner ${added.member.ID} of a failed join: ${(err as Error).message}`));
    ctx.network = network;
    writeHostNetwork(ctx.paths, network);
    throw e;
  }
}

/** The cluster's S3 repository as a data host receives it (the files' contents with the settings). */
function joinS3(ctx: SupervisorContext): JoinS3 {
  const s3 = ctx.config.s3!;
  return {
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    region: s3.region,
    path: s3Path(ctx.config, s3),
    uri_style: s3.uri_style,
    access_key_id: s3.access_key_id,
    secret_access_key: readFileSync(s3.secret_access_key_file, "utf8").trim(),
    ...(s3.ca_file ? { ca: readFileSync(s3.ca_file, "utf8") } : {}),
    only: s3.only,
  };
}

/**
 * etcd adds a member only once every voter has been connected for its health interval (5 s, strict
 * reconfiguration check): right after a learner's promotion it answers "unhealthy cluster" for a
 * few seconds, so that answer is waited out (up to 30 s).
 */
async function addLearner(etcd: EtcdMembers, peerUrl: string): Promise<Awaited<ReturnType<EtcdMembers["addLearner"]>>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await etcd.addLearner(peerUrl);
    } catch (e) {
      if (!/unhealthy cluster/.test((e as Error).message) || Date.now() > deadline) throw e;
      await sleep(1000);
    }
  }
}

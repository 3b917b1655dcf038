import { chownSync, copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { exitCodeName, TuskError } from "../errors.js";
import { extensionBuilds, INSTALL_LOG, PG_MAJOR } from "../install/components.js";
import { ensureInstalled } from "../install/installer.js";
import { hostCertificateName, localAddresses, readHostNetwork, urlHost, writeHostNetwork } from "../network/host-network.js";
import { fetchClusterCa, removeOwnMember, requestJoin } from "../network/join-client.js";
import type { JoinAnswer, JoinS3 } from "../network/join-protocol.js";
import { decodeToken } from "../network/join-tokens.js";
import { etcdUser, isRoot, postgresUser } from "../os-user.js";
import type { SecretName } from "../secrets.js";
import { tlsFiles } from "../tls/server-certificate.js";
import type { Progress } from "../progress.js";
import { claimStateDir, ensureDir, writeAtomic } from "../state-dir.js";
import type { SupervisorStatus } from "../supervisor/status.js";
import { caKeyCopy, clusterCa, createKeyAndRequest } from "../tls/cluster-ca.js";
import { etcdTlsFiles } from "../tls/etcd-certificate.js";
import type { Cluster } from "./cluster.js";

export interface JoinOptions {
  /** This host's name in the cluster. */
  name: string;
  /** This host's address, as the other hosts reach it. */
  address: string;
}

/**
 * Test hooks: network namespaces share one clock and only PostgreSQL 15 installs here, so a test
 * may pretend this host's clock is off by some milliseconds, or that it has another major version.
 */
const clockOffset = () => Number(process.env.TUSK_TEST_CLOCK_OFFSET_MS ?? 0);
const postgresMajor = () => Number(process.env.TUSK_TEST_POSTGRES_MAJOR ?? PG_MAJOR);

/**
 * `tusk join TOKEN`: this machine becomes a host of the cluster that made the token. It installs
 * what is missing, checks that the endpoint holds the cluster's CA (the token's fingerprint), makes
 * its key and sends a signing request with its name, address, versions and clock; the cluster
 * admits it (host-join.ts) or says why not, changing nothing. The state directory is then written
 * (the cluster's name and ports, the CA, its certificate, the hosts) and the supervisor starts,
 * joining etcd as the learner the cluster added. If that fails, this host removes its own member
 * again, so a half-joined host never stays in etcd's membership.
 */
export async function joinCluster(cluster: Cluster, tokenText: string, opts: JoinOptions, progress: Progress): Promise<SupervisorStatus> {
  const token = decodeToken(tokenText);
  if ("problem" in token)
    throw new TuskError("Usage", `That is not a usable join token: ${token.problem}.`, { hint: "Copy the whole token that tusk host token printed on the cluster's first host." });
  const { paths } = cluster;
  if (existsSync(paths.marker))
    throw new TuskError("AlreadyExists", `${paths.root} already holds a tusk cluster.`, { hint: "Join into another state directory (--state-dir), or tusk destroy this one first." });
  if (!localAddresses().includes(opts.address)) {
    throw new TuskError("Usage", `${opts.address} is not an address of this machine.`, { hint: "Give the address the cluster's other hosts reach this one on: --address." });
  }
  if (token.role === "repo") {
    throw new TuskError("IncompatibleState", "This token admits a repo host; this version of tusk joins data and witness hosts.", {
      hint: "On the first host, make a data or witness token: tusk host token --role data. The token you have is still valid.",
    });
  }
  if (!isRoot()) throw new TuskError("NotRoot", "tusk join must run as root: it runs etcd and PostgreSQL as their own OS users.", { hint: "Run it again as root." });
  await ensureInstalled(progress, INSTALL_LOG, true);

  const created = !existsSync(paths.root);
  const step = progress.step(`Joining the cluster at ${token.endpoint} as ${opts.name} (${token.role})`);
  const etcd = etcdUser();
  const tls = etcdTlsFiles(paths);
  try {
    const ca = await fetchClusterCa(token);
    ensureDir(paths.root, 0o755);
    ensureDir(tls.dir, 0o700, { uid: etcd.uid, gid: etcd.gid });
    const csr = join(tls.dir, "etcd.csr");
    await createKeyAndRequest(hostCertificateName(opts.name), tls.key, csr);
    const answer = await requestJoin(token, ca, {
      secret: token.secret,
      name: opts.name,
      address: opts.address,
      role: token.role,
      postgresMajor: postgresMajor(),
      extensions: extensionBuilds(),
      clock: Date.now() + clockOffset(),
      csr: readFileSync(csr, "utf8"),
      stateDir: paths.root,
    });
    rmSync(csr, { force: true });
    // The role is the cluster's word (the token's copy is not signed): it spent the token for it.
    const role = answer.hosts.find((h) => h.name === opts.name)?.role ?? token.role;
    writeFileSync(tls.cert, answer.cert, { mode: 0o644 });
    writeFileSync(tls.ca, answer.ca, { mode: 0o644 });
    for (const f of [tls.cert, tls.key, tls.ca]) chownSync(f, etcd.uid, etcd.gid);
    if (role === "data") writeDataHostFiles(cluster, answer, readFileSync(tls.key, "utf8"));
    else {
      ensureDir(paths.tlsDir, 0o755);
      copyFileSync(tls.ca, clusterCa(paths).cert);
    }
    claimStateDir(paths);
    const settings = {
      cluster_name: answer.clusterName,
      ports: answer.ports,
      ...(answer.replicationMode ? { replication_mode: answer.replicationMode } : {}),
      ...(answer.s3 ? { backups: { s3: writeS3Files(cluster, answer.s3) } } : {}),
    };
    writeAtomic(paths.configFile, `# Written by tusk join: this host's cluster, its ports and what must match the cluster's.\n${stringify(settings)}`, 0o644);
    writeHostNetwork(paths, { address: opts.address, name: opts.name, role, hosts: answer.hosts, since: new Date().toISOString() });
    step.done();
  } catch (e) {
    step.fail();
    rmSync(created ? paths.root : tls.dir, { recursive: true, force: true }); // nothing of a refused join stays
    throw e;
  }
  try {
    return await cluster.up(progress);
  } catch (e) {
    const first = readHostNetwork(paths)?.hosts[0];
    const peer = `https://${urlHost(opts.address)}:${cluster.config.ports.etcd_peer}`;
    const files = { ca: readFileSync(tls.ca, "utf8"), cert: readFileSync(tls.cert, "utf8"), key: readFileSync(tls.key, "utf8") };
    const removed = first ? await removeOwnMember(first.address, cluster.config.ports.etcd_client, peer, files).catch(() => false) : false;
    const err = e instanceof TuskError ? e : new TuskError("ProcessFailed", (e as Error).message);
    const after = removed
      ? `This host's etcd member was removed from the cluster again; on ${first?.name ?? "the first host"}, tusk host remove ${opts.name} forgets the host.`
      : `Its etcd member could not be removed from here: on ${first?.name ?? "the first host"}, tusk host remove ${opts.name} removes it.`;
    throw new TuskError(exitCodeName(err.exitCode), `${err.message} ${after}`, { hint: err.hint, detail: err.detail });
  }
}

/**
 * The cluster's S3 repository on a data host: the secret key in a file of its own (root only) and
 * the store's CA certificate beside the cluster's; the settings for tusk.yaml that name them.
 */
function writeS3Files(cluster: Cluster, s3: JoinS3): Record<string, unknown> {
  const { paths } = cluster;
  const { secret_access_key, ca, ...settings } = s3;
  const secretFile = join(paths.secretsDir, "s3-secret-access-key");
  writeAtomic(secretFile, `${secret_access_key}\n`, 0o600);
  let caFile: string | undefined;
  if (ca) {
    caFile = join(paths.tlsDir, "s3-ca.crt");
    const pg = postgresUser();
    writeAtomic(caFile, ca, 0o644, { uid: pg.uid, gid: pg.gid }); // pgBackRest reads it as postgres
  }
  return { ...settings, secret_access_key_file: secretFile, ...(caFile ? { ca_file: caFile } : {}) };
}

/**
 * A data host's own files from the answer: the cluster's credentials (the same on every host, for
 * Patroni between hosts), the copy of the CA's key (cluster-ca.ts, caKeyCopy) and, for PostgreSQL
 * and Patroni's API, the host's certificate and key as the server certificate (owned by postgres,
 * as PostgreSQL requires), beside the cluster's CA.
 */
function writeDataHostFiles(cluster: Cluster, answer: JoinAnswer, key: string): void {
  const { paths } = cluster;
  if (!answer.secrets)
    throw new TuskError("ProcessFailed", "The cluster admitted this data host but sent no credentials.", { hint: "The first host runs an older tusk: update it (tusk up) and join again." });
  ensureDir(paths.secretsDir, 0o700);
  for (const [name, value] of Object.entries(answer.secrets)) writeAtomic(paths.secret(name as SecretName), `${value}\n`, 0o600);
  if (answer.caKey) writeAtomic(caKeyCopy(paths), answer.caKey, 0o600);
  const pg = postgresUser();
  const owner = { uid: pg.uid, gid: pg.gid };
  ensureDir(paths.tlsDir, 0o700, owner);
  const server = tlsFiles(paths);
  writeAtomic(server.cert, answer.cert, 0o644, owner);
  writeAtomic(server.key, key, 0o600, owner);
  writeAtomic(clusterCa(paths).cert, answer.ca, 0o644, owner);
}

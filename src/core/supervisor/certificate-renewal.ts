import { createPrivateKey, X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TuskError } from "../errors.js";
import { hostCertificateName, isJoinedDataHost, urlHost, writeHostNetwork, type HostRecord } from "../network/host-network.js";
import { requestCertificate } from "../network/join-client.js";
import { servedCertificateSerial } from "../processes/http-probe.js";
import { reloadPatroni, usePatroniRest } from "../processes/patroni.js";
import { sleep } from "../processes/pid-file.js";
import { withSuperuser } from "../provision/provision.js";
import { writeAtomic } from "../state-dir.js";
import { ownCertificates, renewalDue, type CertificateFact } from "../tls/certificate-facts.js";
import { clusterCa, createKeyAndRequest } from "../tls/cluster-ca.js";
import { ensureEtcdCertificate, etcdTlsFiles } from "../tls/etcd-certificate.js";
import { ensureServerCertificate, tlsFiles } from "../tls/server-certificate.js";
import { serveBackupServer } from "./backup-server.js";
import { patroniChild, type Children } from "./children.js";
import { etcdCredentials } from "./cluster-etcd.js";
import { pgOwner, type SupervisorContext } from "./context.js";
import { signHostCertificate } from "./host-certificates.js";
import { patroniAuth, patroniRestTls } from "./node-setup.js";
import { poolerAdmin } from "./replication.js";
import type { Routing } from "./routing.js";

/** What a renewal did: the certificates as they are now, and what took them up. */
export interface CertificateRenewal {
  certificates: CertificateFact[];
  /** The processes that took the new certificate up, and how. */
  applied: string[];
}

/**
 * A host's certificates, renewed before they end (`tusk certs renew`, or by the supervisor itself
 * RENEW_BEFORE_DAYS ahead). The host that holds the CA's key (the first) issues its own anew; a
 * joined host makes a new key and asks the first host to sign it, over mutual TLS with its current
 * certificate. Then every process takes the new one up without a restart of the database:
 * PostgreSQL and PgBouncer reload, Patroni rereads its API certificate on a reload, HAProxy's
 * check certificate is replaced through its runtime API, the join endpoint swaps its TLS context,
 * etcd reads its files at every handshake, and only pgBackRest's TLS server restarts. Sessions
 * open before keep the certificate they were made with.
 */
export class Certificates {
  constructor(
    private readonly ctx: SupervisorContext,
    private readonly children: Children,
    private readonly routing: Routing,
    /** The join endpoint's TLS server, when open: its context follows the new server certificate. */
    private readonly joinEndpoint: () => { setSecureContext(options: { key: Buffer; cert: Buffer }): void } | undefined,
  ) {}

  /** This host's certificates and when they end. */
  list(): CertificateFact[] {
    return ownCertificates(this.ctx.paths, this.ctx.network?.name ?? "host1");
  }

  /** Every certificate this host knows of: its own, and those the cluster issued the other hosts (as recorded when issued). */
  cluster(): CertificateFact[] {
    const own = this.list();
    const others: CertificateFact[] = (this.ctx.network?.hosts ?? [])
      .filter((h) => h.name !== this.ctx.network?.name && h.certificateExpires)
      .map((h) => ({ host: h.name, certificate: "etcd", expiresAt: h.certificateExpires!, serial: null }));
    return [...own, ...others];
  }

  /** Whether a certificate of this host ends within RENEW_BEFORE_DAYS (the supervisor asks once an hour, and renews then). */
  due(): boolean {
    return renewalDue(this.list(), Date.now());
  }

  async renew(report: (line: string) => void = () => undefined): Promise<CertificateRenewal> {
    const { ctx } = this;
    if (existsSync(clusterCa(ctx.paths).key)) await this.issueOwn(report);
    else await this.requestFromFirstHost(report);
    return { certificates: this.list(), applied: await this.apply(report) };
  }

  /** On the first host: a joined host's request, signed for its name and address; the new end is recorded. */
  async signFor(host: HostRecord, csr: string): Promise<string> {
    const cert = await signHostCertificate(this.ctx, host.name, host.address, csr);
    this.record(host.name, cert);
    this.ctx.log(`certificate of host ${host.name} renewed, until ${new X509Certificate(cert).validTo}`);
    return cert;
  }

  /** The host that holds the CA's key issues its server and etcd certificates anew. */
  private async issueOwn(report: (line: string) => void): Promise<void> {
    const { ctx } = this;
    report("issuing this host's server certificate");
    await ensureServerCertificate(ctx.paths, ctx.config.listen_address, ctx.config.cluster_name, ctx.pgUser, true);
    if (!ctx.network) return;
    report("issuing this host's etcd certificate");
    const etcd = await ensureEtcdCertificate(ctx.paths, ctx.config.cluster_name, ctx.network.address, ctx.etcdOsUser, true);
    this.record(ctx.network.name, readFileSync(etcd.cert, "utf8"));
  }

  /** A joined host: a new key, signed by the first host; its key never leaves this host. */
  private async requestFromFirstHost(report: (line: string) => void): Promise<void> {
    const { ctx } = this;
    const network = ctx.network;
    const creds = etcdCredentials(ctx);
    const first = network?.hosts[0];
    if (!network || !creds || !first) throw new TuskError("IncompatibleState", "This host has no certificate of the cluster to renew.", { hint: "tusk join makes one." });
    const dir = mkdtempSync(join(ctx.paths.secretsDir, "renew-"));
    try {
      await createKeyAndRequest(hostCertificateName(network.name), join(dir, "host.key"), join(dir, "host.csr"));
      report(`asking ${first.name} (${first.address}) to sign a new certificate`);
      const cert = await requestCertificate(`${urlHost(first.address)}:${ctx.config.ports.api}`, creds, readFileSync(join(dir, "host.csr"), "utf8"));
      const key = readFileSync(join(dir, "host.key"), "utf8");
      const x = new X509Certificate(cert);
      if (!x.checkPrivateKey(createPrivateKey(key)) || !x.verify(new X509Certificate(readFileSync(clusterCa(ctx.paths).cert)).publicKey)) {
        throw new TuskError("ProcessFailed", `${first.name} answered with a certificate that is not this host's new key's, or not the cluster CA's.`, { hint: "Renew again; nothing was changed." });
      }
      // etcd's copy (its OS user's), and a data host's server copy (postgres's): key first, so a reader never pairs a new certificate with the old key.
      const etcd = etcdTlsFiles(ctx.paths);
      const etcdOwner = { uid: ctx.etcdOsUser.uid, gid: ctx.etcdOsUser.gid };
      writeAtomic(etcd.key, key, 0o600, etcdOwner);
      writeAtomic(etcd.cert, cert, 0o644, etcdOwner);
      if (isJoinedDataHost(network)) {
        const server = tlsFiles(ctx.paths);
        writeAtomic(server.key, key, 0o600, pgOwner(ctx));
        writeAtomic(server.cert, cert, 0o644, pgOwner(ctx));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** The host record's certificate end, in this host's network.json. */
  private record(name: string, cert: string): void {
    const network = this.ctx.network;
    if (!network) return;
    const expires = new Date(new X509Certificate(cert).validTo).toISOString();
    const next = { ...network, hosts: network.hosts.map((h) => (h.name === name ? { ...h, certificateExpires: expires } : h)) };
    writeHostNetwork(this.ctx.paths, next);
    this.ctx.network = next;
  }

  /** Every process of this host takes the new certificate up; each step that fails is reported and the others go on. */
  private async apply(report: (line: string) => void): Promise<string[]> {
    const { ctx, children, routing } = this;
    const applied: string[] = [];
    const step = async (what: string, work: () => Promise<unknown>) => {
      try {
        await work();
        applied.push(what);
        report(what);
      } catch (e) {
        const line = `${what}: failed (${(e as Error).message})`;
        applied.push(line);
        report(line);
        ctx.log(`certificate renewal: ${line}`);
      }
    };
    for (const node of ctx.nodes.all) {
      if (!children.running(patroniChild(node.name))) continue;
      await step(`PostgreSQL ${node.name}: reloaded`, () => withSuperuser(ctx.config, ctx.paths, (c) => c.query("SELECT pg_reload_conf()"), { port: node.ports.postgres, timeoutMs: 5000 }));
      const rest = patroniRestTls(ctx);
      usePatroniRest(node.ports.patroni, rest);
      await step(`Patroni ${node.name}: its API serves the new certificate`, async () => {
        await reloadPatroni(node.ports.patroni, patroniAuth(ctx));
        if (rest) await servedWithin(rest.address, node.ports.patroni, rest, 10_000);
      });
    }
    if (children.running("pgbouncer")) await step("PgBouncer: reloaded", () => poolerAdmin(ctx.config, ctx.paths, (c) => c.query("RELOAD")));
    if (children.running("haproxy")) await step("HAProxy: its Patroni checks' certificate replaced at run time", () => routing.haproxy.refreshCheckCertificate());
    if (children.supervised("pgbackrest-server")) await step("pgBackRest's TLS server: restarted", () => serveBackupServer(ctx, children, true));
    const endpoint = this.joinEndpoint();
    if (endpoint) {
      await step("the join endpoint: new TLS context", async () => {
        const tls = tlsFiles(ctx.paths);
        endpoint.setSecureContext({ key: readFileSync(tls.key), cert: readFileSync(tls.cert) });
      });
    }
    if (ctx.network) applied.push("etcd: reads its files at every new connection");
    return applied;
  }
}

/**
 * Until the TLS server on `host:port` presents the certificate now in `tls.cert` (Patroni takes a
 * reload up at its next loop, not at once).
 */
async function servedWithin(host: string, port: number, tls: { ca: string | Buffer; cert: string | Buffer; key: string | Buffer }, ms: number): Promise<void> {
  const hex = (serial: string | undefined) => serial?.replace(/^0+/, "").toUpperCase();
  const want = hex(new X509Certificate(tls.cert).serialNumber);
  const deadline = Date.now() + ms;
  for (;;) {
    const served = await servedCertificateSerial({ host, port, tls, timeoutMs: 2000 });
    if (hex(served) === want) return;
    if (Date.now() > deadline) throw new Error(`${host}:${port} still presents certificate ${served ?? "(none)"} after ${ms / 1000} s`);
    await sleep(200);
  }
}

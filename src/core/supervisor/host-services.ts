import { existsSync } from "node:fs";
import type { Server as TlsServer } from "node:tls";
import type { FastifyInstance } from "fastify";
import { patroniNode } from "../processes/patroni.js";
import { clusterCa } from "../tls/cluster-ca.js";
import type { CertificateFact } from "../tls/certificate-facts.js";
import { serveBackupServer } from "./backup-server.js";
import { Certificates, type CertificateRenewal } from "./certificate-renewal.js";
import type { Children } from "./children.js";
import type { SupervisorContext } from "./context.js";
import { admitHost } from "./host-join.js";
import { removeHost, type HostRemoval } from "./host-remove.js";
import { issueHostToken, type HostTokenRequest, type HostTokenResult } from "./host-tokens.js";
import { forgetVersions, publishVersions } from "./host-versions.js";
import { forgetOperations } from "./operation-mirror.js";
import { hostsView, type HostView } from "./hosts-view.js";
import { startJoinServer } from "./join-server.js";
import type { Exclusive } from "./operation-queue.js";
import type { ReplicationStatus } from "./replication.js";
import type { Routing } from "./routing.js";
import type { StatusFigures } from "./status-figures.js";

/**
 * What a host does for the cluster of hosts, beside its own processes: the join endpoint (on the
 * host that holds the CA's key), tokens, removal, certificates and their hourly renewal, and the
 * versions it publishes into etcd for `tusk hosts` on any host. Each long step is an operation of
 * the queue (the "network" kind), through `exclusive`.
 */
export class HostServices {
  private joinServer: FastifyInstance | undefined;
  private readonly certs: Certificates;

  constructor(
    private readonly ctx: SupervisorContext,
    private readonly children: Children,
    private readonly routing: Routing,
    private readonly figures: StatusFigures,
    private readonly exclusive: Exclusive,
    private readonly replication: () => Promise<ReplicationStatus>,
    /** A witness runs etcd alone: it publishes etcd's version only. */
    private readonly witness: boolean,
  ) {
    this.certs = new Certificates(ctx, children, routing, () => this.joinServer?.server as unknown as TlsServer | undefined);
  }

  /** This host's certificates renewed 45 days before the first ends; what it runs published into etcd for `tusk hosts` on any host. */
  hourly(): void {
    const { log } = this.ctx;
    if (this.certs.due()) {
      log("a certificate of this host ends within 45 days: renewing");
      void this.renewCertificates().then(
        (r) => log(`certificates renewed: ${r.certificates.map((c) => `${c.certificate} until ${c.expiresAt.slice(0, 10)}`).join(", ")}`),
        (e) => log(`certificate renewal failed: ${(e as Error).message}`),
      );
    }
    void this.publishVersions().catch((e) => log(`could not publish this host's versions: ${(e as Error).message}`));
  }

  /**
   * The join endpoint (join-server.ts), on the host's address: on a converted host that holds the
   * CA's key, which signs the joining hosts' certificates.
   */
  async openJoinEndpoint(): Promise<void> {
    const { ctx } = this;
    if (this.joinServer || !ctx.network || ctx.network.role !== "data" || !existsSync(clusterCa(ctx.paths).key)) return;
    this.joinServer = await startJoinServer(
      ctx,
      (req) =>
        this.exclusive("network", `join of host ${req.name} (${req.address})`, async () => {
          const answer = await admitHost(ctx, req, ctx.log);
          // A data host archives into this host's repository: the TLS server authorizes its certificate from now on.
          if (req.role === "data") await this.restartBackupServer();
          return answer;
        }),
      (host, csr) => this.exclusive("network", `certificate renewal of host ${host.name}`, () => this.certs.signFor(host, csr)),
    );
  }

  async closeJoinEndpoint(): Promise<void> {
    await this.joinServer?.close();
  }

  /** pgBackRest's TLS server rereads which hosts' certificates it admits (after a data host joined or was removed). */
  private async restartBackupServer(): Promise<void> {
    await serveBackupServer(this.ctx, this.children, true).catch((e) => this.ctx.log(`could not restart the repository's TLS server: ${(e as Error).message}`));
  }

  /** The cluster's hosts (hosts-view.ts). */
  hosts(): Promise<HostView[]> {
    return hostsView(this.ctx, this.routing.members);
  }

  /** Removes a host, also a dead one (host-remove.ts). */
  removeHost(name: string): Promise<HostRemoval> {
    const { ctx } = this;
    return this.exclusive("network", `removal of host ${name}`, async () => {
      const data = ctx.network?.hosts.find((h) => h.name === name)?.role === "data";
      const removed = await removeHost(ctx, name, this.routing.members, ctx.log);
      await forgetVersions(ctx, name).catch((e) => ctx.log(`could not forget ${name}'s versions in etcd: ${(e as Error).message}`));
      await forgetOperations(ctx, name).catch((e) => ctx.log(`could not forget ${name}'s operations in etcd: ${(e as Error).message}`));
      if (!data) return removed;
      await this.routing.haproxy.forgetNodesOn(removed.address);
      // The repository's TLS server stops admitting the removed host's certificate.
      await this.restartBackupServer();
      return removed;
    });
  }

  /** This host's versions into etcd (host-versions.ts): PostgreSQL's from its node's Patroni, the engines it runs. */
  private async publishVersions(): Promise<void> {
    if (!this.ctx.network) return;
    if (this.witness) {
      await publishVersions(this.ctx, { etcd: (await this.figures.versions(undefined)).etcd });
      return;
    }
    const patroni = await patroniNode(this.ctx.nodes.primaryNode.ports.patroni, 2000);
    await publishVersions(this.ctx, await this.figures.versions(patroni));
  }

  /** This host's certificates, and those the cluster issued its other hosts. */
  certificates(): CertificateFact[] {
    return this.certs.cluster();
  }

  /** Renews this host's certificates now (certificate-renewal.ts). */
  renewCertificates(): Promise<CertificateRenewal> {
    return this.exclusive("network", "certificate renewal", (report) => this.certs.renew(report));
  }

  /** A join token; the first one converts the cluster for the network (host-tokens.ts). */
  async hostToken(req: HostTokenRequest): Promise<HostTokenResult> {
    const parts = { ctx: this.ctx, children: this.children, routing: this.routing, replication: this.replication };
    const token = await issueHostToken(parts, this.exclusive, req);
    await serveBackupServer(this.ctx, this.children);
    await this.openJoinEndpoint();
    this.hourly(); // converted now: its versions go into etcd
    return token;
  }
}

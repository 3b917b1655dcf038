import Fastify, { type FastifyInstance } from "fastify";
import rateLimit from "@fastify/rate-limit";
import { readFileSync } from "node:fs";
import type { TLSSocket } from "node:tls";
import { hostCertificateName, type HostRecord } from "../network/host-network.js";
import { ROUTES } from "../endpoints.js";
import { TuskError } from "../errors.js";
import { HOST_ROLES } from "../network/join-tokens.js";
import type { JoinAnswer, JoinRequest } from "../network/join-protocol.js";
import { caCertificate } from "../tls/cluster-ca.js";
import { tlsFiles } from "../tls/server-certificate.js";
import type { SupervisorContext } from "./context.js";
import { sendError } from "./http-errors.js";

/** Requests one address may make of the join endpoint per minute: enough for a join and its retries, too few to guess a token. */
export const JOIN_RATE_PER_MINUTE = 30;

const str = { type: "string" } as const;
const JOIN_BODY = {
  type: "object",
  additionalProperties: false,
  required: ["secret", "name", "address", "role", "postgresMajor", "extensions", "clock", "csr"],
  properties: {
    secret: { type: "string", minLength: 32, maxLength: 128 },
    name: { type: "string", maxLength: 64 },
    address: { type: "string", maxLength: 64 },
    role: { type: "string", enum: [...HOST_ROLES] },
    postgresMajor: { type: "integer" },
    extensions: { type: "object", additionalProperties: str },
    clock: { type: "number" },
    csr: { type: "string", maxLength: 8192 },
    stateDir: { type: "string", maxLength: 512, pattern: "^/[^\\n\\r]*$" },
  },
} as const;

const RENEW_BODY = {
  type: "object",
  additionalProperties: false,
  required: ["csr"],
  properties: { csr: { type: "string", maxLength: 8192 } },
} as const;

/**
 * The join endpoint: HTTPS with the server certificate on the host's address and the API's port
 * (the API itself stays on loopback), rate-limited per client address. `GET /v1/join/ca` gives the
 * CA's certificate to a host that has only the token's fingerprint of it; `POST /v1/join` admits a
 * host (host-join.ts); `POST /v1/join/certificate` renews a joined host's certificate
 * (certificate-renewal.ts). A request must come from the address it claims: that address goes into the
 * host's certificate and pg_hba.
 */
export async function startJoinServer(ctx: SupervisorContext, admit: (req: JoinRequest) => Promise<JoinAnswer>, renew: (host: HostRecord, csr: string) => Promise<string>): Promise<FastifyInstance> {
  const tls = tlsFiles(ctx.paths);
  // A client certificate is asked for, not required: a joining host has none yet. The renewal
  // route admits only a certificate of the cluster's CA naming a recorded host, from its address.
  const app = Fastify({ logger: false, https: { key: readFileSync(tls.key), cert: readFileSync(tls.cert), ca: caCertificate(ctx.paths), requestCert: true, rejectUnauthorized: false } });
  await app.register(rateLimit, { max: JOIN_RATE_PER_MINUTE, timeWindow: "1 minute" });
  app.setErrorHandler(sendError);
  app.get(ROUTES.joinCa, async (_req, reply) => reply.type("application/x-pem-file").send(caCertificate(ctx.paths)));
  app.post<{ Body: JoinRequest }>(ROUTES.join, { schema: { body: JOIN_BODY } }, async (req) => {
    if (req.ip !== req.body.address) {
      throw new TuskError("Usage", `This request comes from ${req.ip}, not from ${req.body.address}.`, { hint: "Give this machine's own address for the cluster's network with --address." });
    }
    return admit(req.body);
  });
  app.post<{ Body: { csr: string } }>(ROUTES.joinCertificate, { schema: { body: RENEW_BODY } }, async (req) => {
    const socket = req.raw.socket as TLSSocket;
    const name = socket.authorized ? socket.getPeerCertificate().subject?.CN : undefined;
    const host = ctx.network?.hosts.find((h) => hostCertificateName(h.name) === name && h.name !== ctx.network?.name);
    if (!host) {
      throw new TuskError("Usage", "A certificate is renewed for a host of the cluster, over TLS with its current certificate.", {
        hint: "Run tusk certs renew on that host; a host whose certificate has ended joins again (tusk host remove, then tusk join).",
      });
    }
    if (req.ip !== host.address) throw new TuskError("Usage", `This request comes from ${req.ip}, not from ${host.name}'s address ${host.address}.`, { hint: "Renew from the host itself." });
    return { cert: await renew(host, req.body.csr) };
  });
  await app.listen({ host: ctx.network!.address, port: ctx.config.ports.api });
  ctx.log(`join endpoint listening on https://${ctx.network!.address}:${ctx.config.ports.api}`);
  return app;
}

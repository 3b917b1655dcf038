import Fastify, { type FastifyInstance } from "fastify";
import { timingSafeEqual } from "node:crypto";
import { ROUTES } from "../endpoints.js";
import { hashToken } from "../secrets.js";
import { ExitCode, TuskError } from "../errors.js";
import type { Supervisor } from "./supervisor.js";

/**
 * The supervisor's HTTP API on loopback. Every route but /health needs `Authorization: Bearer
 * <token>`; only the token's SHA-256 is held in memory. Later issues add routes here.
 */
export function buildApi(supervisor: Supervisor, tokenHash: string, onShutdown: () => void): FastifyInstance {
  const app = Fastify({ logger: false });
  const expected = Buffer.from(tokenHash, "hex");

  app.addHook("onRequest", async (req, reply) => {
    if (req.url === ROUTES.health) return;
    const header = req.headers.authorization ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    const given = Buffer.from(hashToken(token), "hex");
    if (!token || !timingSafeEqual(given, expected)) {
      await reply.code(401).send({ error: "A valid bearer token is required (Authorization: Bearer <token>)." });
    }
  });

  app.get(ROUTES.health, async () => ({ ok: true }));
  app.get(ROUTES.status, async () => supervisor.status());
  app.post<{ Body: { replicas: number } }>(ROUTES.scale, {
    schema: { body: { type: "object", required: ["replicas"], additionalProperties: false, properties: { replicas: { type: "integer" } } } },
  }, async (req) => supervisor.scale(req.body.replicas));
  app.post<{ Body: { to?: string } }>(ROUTES.switchover, {
    schema: { body: { type: "object", additionalProperties: false, properties: { to: { type: "string" } } } },
  }, async (req) => supervisor.switchover(req.body.to));
  // An expected failure (TuskError) keeps its message, hint and exit code for the CLI.
  app.setErrorHandler(async (error, _req, reply) => {
    if (error instanceof TuskError) {
      const status = error.exitCode === ExitCode.Usage ? 400 : error.exitCode === ExitCode.IncompatibleState ? 409 : error.exitCode === ExitCode.InsufficientResources ? 422 : 500;
      return reply.code(status).send({ error: error.message, hint: error.hint ?? "", exitCode: error.exitCode });
    }
    const validation = (error as { validation?: unknown }).validation !== undefined;
    return reply.code(validation ? 400 : 500).send({ error: (error as Error).message, hint: "", exitCode: validation ? ExitCode.Usage : ExitCode.Internal });
  });
  app.post(ROUTES.shutdown, async (_req, reply) => {
    await reply.code(202).send({ stopping: true });
    onShutdown();
  });
  return app;
}

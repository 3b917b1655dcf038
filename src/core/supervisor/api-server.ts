import Fastify, { type FastifyInstance } from "fastify";
import { timingSafeEqual } from "node:crypto";
import { ROUTES } from "../endpoints.js";
import { hashToken } from "../secrets.js";
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
  app.post(ROUTES.shutdown, async (_req, reply) => {
    await reply.code(202).send({ stopping: true });
    onShutdown();
  });
  return app;
}

import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ROUTES } from "../endpoints.js";
import { ExitCode, exitCodeName, TuskError, type ExitCodeName } from "../errors.js";

/** How an expected failure reads in HTTP; anything else is a 500. */
const HTTP_STATUS: Partial<Record<ExitCodeName, number>> = {
  Usage: 400,
  OutsideWindow: 400,
  IncompatibleState: 409,
  NotRunning: 409,
  AlreadyExists: 409,
  InsufficientResources: 422,
  Unreachable: 502,
  Timeout: 504,
};

/**
 * The error handler of tusk's HTTP servers: an expected failure (TuskError) keeps its message, hint
 * and exit code for the CLI; a schema violation is a 400 whose message names the field; a request
 * over a rate limit keeps its 429.
 */
export async function sendError(error: FastifyError | Error, _req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (error instanceof TuskError) {
    const status = HTTP_STATUS[exitCodeName(error.exitCode)] ?? 500;
    return reply.code(status).send({ error: error.message, hint: error.hint ?? "", exitCode: error.exitCode });
  }
  const status = (error as FastifyError).statusCode;
  if (status === 429) return reply.code(429).send({ error: error.message, hint: "Wait a minute and try again.", exitCode: ExitCode.Usage });
  const validation = (error as { validation?: unknown }).validation !== undefined;
  return reply
    .code(validation ? 400 : 500)
    .send({ error: error.message, hint: validation ? `See ${ROUTES.openapi} for the request's schema.` : "", exitCode: validation ? ExitCode.Usage : ExitCode.Internal });
}

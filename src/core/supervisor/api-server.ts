import Fastify, { type FastifyInstance } from "fastify";
import swagger from "@fastify/swagger";
import { readFileSync } from "node:fs";
import { readHistory } from "../cluster/history.js";
import { RULES } from "../alerts/rules/index.js";
import type { TokenVerifier } from "../api-tokens.js";
import { drillHistory } from "../backup/drill.js";
import type { BackupType } from "../backup/pgbackrest.js";
import { chooseTarget, type RestoreTarget } from "../backup/restore-spec.js";
import { repositoryFrom } from "../backup/operations.js";
import { ROUTES } from "../endpoints.js";
import { ExitCode, TuskError } from "../errors.js";
import { prometheusText } from "../metrics/prometheus.js";
import type { StatementFilter, TopQueryOrder } from "../metrics/store.js";
import { indexRows, tableRows } from "../metrics/views.js";
import { TUSK_VERSION } from "../state-dir.js";
import { SCHEMAS } from "./api-schemas.js";
import { sendError } from "./http-errors.js";
import { TOKEN_TTL_MS } from "./host-tokens.js";
import type { HostRole } from "../network/join-tokens.js";
import type { Supervisor } from "./supervisor.js";

/** The dashboard's files (no data in them: the page asks the API, with a token, for everything). */
const DASHBOARD: Record<string, { file: URL; type: string }> = {
  "/": { file: new URL("../../dashboard/index.html", import.meta.url), type: "text/html; charset=utf-8" },
  "/dashboard/app.js": { file: new URL("../../dashboard/app.js", import.meta.url), type: "text/javascript; charset=utf-8" },
  "/dashboard/style.css": { file: new URL("../../dashboard/style.css", import.meta.url), type: "text/css; charset=utf-8" },
  // app.js imports it as ../core/time/wall-clock.js: one reading of typed times for the CLI and the page.
  "/core/time/wall-clock.js": { file: new URL("../time/wall-clock.js", import.meta.url), type: "text/javascript; charset=utf-8" },
  // The routes, declared once for the server, the CLI and the page.
  "/core/endpoints.js": { file: new URL("../endpoints.js", import.meta.url), type: "text/javascript; charset=utf-8" },
};

/** Routes anyone on loopback may read: liveness, the API's own description and the dashboard's files. */
const PUBLIC = new Set<string>([ROUTES.health, ROUTES.openapi, ...Object.keys(DASHBOARD)]);

interface Range {
  from?: string;
  to?: string;
}

function range(q: Range): { from: Date; to: Date } {
  const to = q.to ? new Date(q.to) : new Date();
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - 3_600_000);
  if (from >= to) throw new TuskError("Usage", `from (${from.toISOString()}) must be before to (${to.toISOString()}).`);
  return { from, to };
}

interface TargetBody {
  time?: string;
  restorePoint?: string;
  lsn?: string;
  from?: "local" | "s3";
}

const targetOf = (b: TargetBody): RestoreTarget => chooseTarget({ time: b.time, name: b.restorePoint, lsn: b.lsn }, { time: "body.time", name: "body.restorePoint", lsn: "body.lsn" }, true);

function parseMatch(match: string | undefined): Record<string, string> {
  if (!match) return {};
  return Object.fromEntries(match.split(",").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
}

/**
 * The supervisor's HTTP API on loopback, versioned under /v1. Every route but /v1/health and the
 * OpenAPI document needs `Authorization: Bearer <token>`: the CLI's own token or one made with
 * `tusk token create`, checked against stored SHA-256 hashes. Schemas live in api-schemas.ts.
 */
export async function buildApi(supervisor: Supervisor, tokens: TokenVerifier, onShutdown: () => void): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(swagger, {
    openapi: {
      info: { title: "tusk API", version: TUSK_VERSION, description: "Status, metrics, queries, tables and indexes, alerts, backups and drills of one tusk cluster." },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
  });

  app.addHook("onRequest", async (req, reply) => {
    const path = req.url.split("?")[0]!;
    if (PUBLIC.has(path)) return;
    const header = req.headers.authorization ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    if (!tokens.verify(token)) {
      await reply.code(401).send({ error: "A valid bearer token is required (Authorization: Bearer <token>); `tusk token create NAME` makes one.", hint: "", exitCode: ExitCode.Usage });
    }
  });

  app.setErrorHandler(sendError);

  const monitoring = supervisor.monitoring;
  const rawDays = () => supervisor.config.monitoring.retention_days;

  app.get(ROUTES.health, { schema: { hide: true } }, async () => ({ ok: true }));
  app.get(ROUTES.status, { schema: SCHEMAS.status }, async () => supervisor.status());
  app.post<{ Body: { replicas: number } }>(ROUTES.scale, { schema: SCHEMAS.scale }, async (req) => supervisor.scale(req.body.replicas));
  app.get(ROUTES.config, { schema: SCHEMAS.configPlan }, async () => supervisor.configPlan().plan);
  app.post(ROUTES.config, { schema: SCHEMAS.configApply }, async () => supervisor.applyConfig());
  app.get(ROUTES.hosts, { schema: SCHEMAS.hosts }, async () => ({ hosts: await supervisor.hostServices.hosts() }));
  app.get(ROUTES.certificates, { schema: SCHEMAS.certificates }, async () => ({ certificates: supervisor.hostServices.certificates() }));
  app.post(ROUTES.certificatesRenew, { schema: SCHEMAS.renewCertificates }, async () => supervisor.hostServices.renewCertificates());
  app.delete<{ Params: { name: string } }>(ROUTES.host, { schema: SCHEMAS.removeHost }, async (req) => supervisor.hostServices.removeHost(req.params.name));
  app.post<{ Body: { role?: HostRole; ttlSeconds?: number; address?: string } }>(ROUTES.hostTokens, { schema: SCHEMAS.hostToken }, async (req) =>
    supervisor.hostServices.hostToken({ role: req.body.role ?? "data", ttlMs: (req.body.ttlSeconds ?? TOKEN_TTL_MS.default / 1000) * 1000, address: req.body.address }),
  );
  app.post<{ Body: { to?: string } }>(ROUTES.switchover, { schema: SCHEMAS.switchover }, async (req) => supervisor.switchover(req.body.to));

  app.get<{ Querystring: Range & { name: string; rate?: boolean; match?: string } }>(ROUTES.series, { schema: SCHEMAS.series }, async (req) => {
    const { from, to } = range(req.query);
    const series = await monitoring.store.series(req.query.name, from, to, { rate: req.query.rate, match: parseMatch(req.query.match), rawDays: rawDays() });
    return { name: req.query.name, from: from.toISOString(), to: to.toISOString(), series };
  });
  app.get<{ Querystring: Range & StatementFilter & { order: TopQueryOrder; limit: number } }>(ROUTES.queries, { schema: SCHEMAS.queries }, async (req) => {
    const { from, to } = range(req.query);
    const only = { database: req.query.database, role: req.query.role };
    const [queries, sources] = await Promise.all([monitoring.store.topQueries(from, to, req.query.order, req.query.limit, only), monitoring.store.statementSources(from, to)]);
    return { from: from.toISOString(), to: to.toISOString(), ...sources, queries };
  });
  app.get<{ Params: { queryid: string }; Querystring: Range & StatementFilter }>(ROUTES.querySeries, { schema: SCHEMAS.querySeries }, async (req) => {
    const { from, to } = range(req.query);
    return { queryid: req.params.queryid, points: await monitoring.store.querySeries(req.params.queryid, from, to, { database: req.query.database, role: req.query.role }) };
  });
  app.get(ROUTES.tables, { schema: SCHEMAS.tables }, async () => {
    const latest = monitoring.latestSamples();
    return { at: latest?.at.toISOString() ?? null, tables: tableRows(latest?.samples ?? []) };
  });
  app.get(ROUTES.indexes, { schema: SCHEMAS.indexes }, async () => {
    const latest = monitoring.latestSamples();
    return { at: latest?.at.toISOString() ?? null, indexes: indexRows(latest?.samples ?? []) };
  });

  app.get(ROUTES.locks, { schema: SCHEMAS.locks }, async () => ({ waits: await monitoring.lockWaits() }));
  app.get<{ Querystring: { limit: number } }>(ROUTES.alerts, { schema: SCHEMAS.alerts }, async (req) => monitoring.alerts(req.query.limit));
  app.get(ROUTES.rules, { schema: SCHEMAS.rules }, async () => ({
    rules: RULES.map((r) => {
      const s = monitoring.settings.get(r.id)!;
      return { id: r.id, title: r.title, severity: r.severity, unit: r.unit, threshold: s.threshold, forSeconds: s.forSeconds, windowSeconds: s.windowSeconds, enabled: s.enabled, doc: r.doc };
    }),
  }));
  app.post<{ Body: { rule: string; labels?: Record<string, string>; seconds: number; comment?: string } }>(ROUTES.silences, { schema: SCHEMAS.silence }, async (req) => {
    if (!RULES.some((r) => r.id === req.body.rule)) throw new TuskError("Usage", `body/rule: there is no rule "${req.body.rule}".`, { hint: `Rules: ${RULES.map((r) => r.id).join(", ")}.` });
    return monitoring.silence(req.body.rule, req.body.labels ?? {}, req.body.seconds, req.body.comment ?? "");
  });

  app.get(ROUTES.backups, { schema: SCHEMAS.backups }, async () => supervisor.requests.backupCatalog());
  app.post<{ Body: { type: BackupType } }>(ROUTES.backups, { schema: SCHEMAS.startBackup }, async (req) => supervisor.requests.backup(req.body?.type ?? "full"));
  app.post<{ Body: { name: string } & TargetBody }>(ROUTES.clones, { schema: SCHEMAS.clone }, async (req) =>
    supervisor.requests.clone(req.body.name, targetOf(req.body), repositoryFrom(supervisor.config, req.body.from)),
  );
  app.post<{ Body: { confirm: string } & TargetBody }>(ROUTES.restore, { schema: SCHEMAS.restore }, async (req, reply) =>
    reply.code(202).send(await supervisor.requests.restoreInPlace(targetOf(req.body), repositoryFrom(supervisor.config, req.body.from))),
  );
  app.get(ROUTES.drillHistory, { schema: SCHEMAS.drills }, async () => ({ drills: drillHistory(supervisor.paths) }));
  app.post(ROUTES.drills, { schema: SCHEMAS.startDrill }, async () => supervisor.requests.restoreDrill());

  app.get(ROUTES.prometheus, { schema: { tags: ["metrics"], summary: "The latest collection in Prometheus text format" } }, async (_req, reply) => {
    const latest = monitoring.latestSamples();
    if (!latest) throw new TuskError("NotRunning", "No collection yet: the collector starts once the cluster is ready.");
    const firing = new Map<string, { rule: string; severity: string; n: number }>();
    for (const a of monitoring.openAlerts().filter((x) => x.state === "firing")) {
      const f = firing.get(a.rule) ?? { rule: a.rule, severity: a.severity, n: 0 };
      f.n += 1;
      firing.set(a.rule, f);
    }
    const alertSamples = RULES.map((r) => ({ name: "tusk_alerts_firing", labels: { rule: r.id, severity: r.severity }, value: firing.get(r.id)?.n ?? 0 }));
    return reply.type("text/plain; version=0.0.4; charset=utf-8").send(prometheusText([...latest.samples, ...alertSamples], supervisor.config.cluster_name, latest.at));
  });

  app.get(ROUTES.openapi, { schema: { hide: true } }, async () => app.swagger());
  app.get(ROUTES.history, { schema: SCHEMAS.history }, async () => ({ history: readHistory(supervisor.paths) }));
  for (const [path, { file, type }] of Object.entries(DASHBOARD)) {
    const body = readFileSync(file);
    app.get(path, { schema: { hide: true } }, async (_req, reply) => reply.type(type).header("cache-control", "no-cache").send(body));
  }

  app.post(ROUTES.shutdown, { schema: { hide: true } }, async (_req, reply) => {
    await reply.code(202).send({ stopping: true });
    onShutdown();
  });
  return app;
}

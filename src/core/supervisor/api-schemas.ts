/**
 * Request and response schemas of the HTTP API, declared once: Fastify validates requests with them
 * (a bad field gets a 400 naming it) and @fastify/swagger turns them into the OpenAPI document at
 * /v1/openapi.json. Response objects allow extra properties so that a field added to a shape is
 * never silently dropped by the serializer.
 */
const obj = (properties: Record<string, unknown>, required: string[] = []) => ({ type: "object", properties, required, additionalProperties: true }) as const;
const str = { type: "string" } as const;
const num = { type: "number" } as const;
const int = { type: "integer" } as const;
const bool = { type: "boolean" } as const;
const nullable = (t: Record<string, unknown>) => ({ ...t, nullable: true });
const labels = { type: "object", additionalProperties: { type: "string" } } as const;
const error = obj({ error: str, hint: str, exitCode: int }, ["error"]);
const errors = { 400: error, 401: error, 409: error, 500: error } as const;

export const timeRange = {
  from: { type: "string", format: "date-time", description: "start of the range (RFC 3339 with an offset); default an hour before `to`" },
  to: { type: "string", format: "date-time", description: "end of the range (RFC 3339 with an offset); default now" },
} as const;

const statementFilter = {
  database: { type: "string", minLength: 1, description: "only statements run in this database" },
  role: { type: "string", minLength: 1, description: "only statements run by this role" },
} as const;

export const alertView = obj({
  id: nullable(int),
  rule: str,
  title: str,
  severity: str,
  labels,
  state: { type: "string", enum: ["pending", "firing", "resolved"] },
  value: nullable(num),
  summary: str,
  startedAt: str,
  firedAt: nullable(str),
  resolvedAt: nullable(str),
  silenced: bool,
});
const plan = obj({
  changes: { type: "array", items: obj({ key: str, from: str, to: str, how: { type: "string", enum: ["reload", "restart", "refused"] }, sentence: str }) },
  refused: bool,
  restart: bool,
});
const silence = obj({ id: int, rule: str, labels, until: str, comment: str, createdAt: str });
const certificate = obj({ host: str, certificate: { type: "string", enum: ["ca", "server", "etcd"] }, expiresAt: str, serial: { type: ["string", "null"] } });

export const SCHEMAS = {
  status: { tags: ["cluster"], summary: "Processes, nodes, backups, the collector and open alerts", response: { 200: obj({ phase: str, decision: str }), ...errors } },
  scale: {
    tags: ["cluster"],
    summary: "Add or remove replicas",
    body: { type: "object", required: ["replicas"], additionalProperties: false, properties: { replicas: { type: "integer", minimum: 0 } } },
    response: { 200: obj({ mode: str, primary: str }), ...errors },
  },
  configPlan: {
    tags: ["cluster"],
    summary: "What applying tusk.yaml as it is now would change on the running cluster, and how (reload, rolling restart, refused)",
    response: { 200: plan, ...errors },
  },
  configApply: {
    tags: ["cluster"],
    summary: "Apply tusk.yaml to the running cluster: reloads, a rolling restart where a setting needs one; refused as a whole if a change cannot be made live",
    body: { type: "object", additionalProperties: false, properties: {} },
    response: { 200: obj({ plan, restarted: { type: "array", items: str }, switchedOver: { type: ["object", "null"], properties: { from: str, to: str } } }), ...errors },
  },
  hosts: {
    tags: ["cluster"],
    summary:
      "The cluster's hosts: role, etcd membership (voter or learner), whether each host's etcd answers over mutual TLS, certificate expiry, its PostgreSQL nodes (Patroni role, state, bytes behind), the versions it runs as its supervisor last published them",
    response: {
      200: obj({
        hosts: {
          type: "array",
          items: obj({
            name: str,
            address: str,
            role: str,
            etcd: str,
            reachable: bool,
            certificateExpires: { type: ["string", "null"] },
            nodes: { type: "array", items: obj({ name: str, role: str, state: str, lagBytes: { type: ["number", "null"] } }) },
            versions: { type: ["object", "null"], additionalProperties: true },
          }),
        },
      }),
      ...errors,
    },
  },
  certificates: {
    tags: ["cluster"],
    summary: "Certificates: this host's (the CA's, the server's, etcd's: when each ends, its serial) and those the cluster issued its other hosts (as recorded when issued)",
    response: { 200: obj({ certificates: { type: "array", items: certificate } }), ...errors },
  },
  renewCertificates: {
    tags: ["cluster"],
    summary:
      "Renews this host's certificates now (the supervisor does it by itself 45 days before the first ends): the first host issues its own, a joined host asks the first host; every process takes them up without a database restart",
    body: { type: "object", additionalProperties: false, properties: {} },
    response: { 200: obj({ certificates: { type: "array", items: certificate }, applied: { type: "array", items: str } }), ...errors },
  },
  removeHost: {
    tags: ["cluster"],
    summary: "Remove a host (also a dead one): its etcd member leaves the membership, and the host leaves the cluster's records, pg_hba and Patroni's etcd list",
    params: { type: "object", required: ["name"], properties: { name: str } },
    response: { 200: obj({ name: str, address: str, etcdMemberRemoved: bool }), ...errors },
  },
  hostToken: {
    tags: ["cluster"],
    summary:
      "A single-use join token for another host; the first converts the cluster for the network (etcd with mutual TLS, listening on the host's address), reporting each step's time and effect on clients",
    body: {
      type: "object",
      additionalProperties: false,
      properties: { role: { type: "string", enum: ["data", "witness", "repo"] }, ttlSeconds: { type: "integer", minimum: 60, maximum: 604800 }, address: str },
    },
    response: {
      200: obj({
        token: str,
        role: str,
        expiresAt: str,
        endpoint: str,
        conversion: {
          type: ["object", "null"],
          properties: {
            address: str,
            steps: { type: "array", items: obj({ step: str, ms: num, clients: str }) },
            restarted: { type: "array", items: str },
            switchedOver: { type: ["object", "null"], properties: { from: str, to: str } },
            totalMs: num,
          },
        },
      }),
      ...errors,
    },
  },
  switchover: {
    tags: ["cluster"],
    summary: "Planned switchover, the pooler pausing clients",
    body: { type: "object", additionalProperties: false, properties: { to: str } },
    response: { 200: obj({ from: str, to: str, pausedMs: num, totalMs: num }), ...errors },
  },
  series: {
    tags: ["metrics"],
    summary: "One metric's series over a time range (raw samples, hourly rollups beyond the raw retention)",
    querystring: {
      type: "object",
      required: ["name"],
      additionalProperties: false,
      properties: {
        name: { type: "string", pattern: "^[a-z_][a-z0-9_]*$", description: "a metric name, as on /metrics" },
        ...timeRange,
        rate: { type: "boolean", description: "per-second rate of a counter" },
        match: { type: "string", pattern: "^([a-z_]+=[^,]*)(,[a-z_]+=[^,]*)*$", description: "labels the series must have, as k=v,k=v" },
      },
    },
    response: { 200: obj({ name: str, from: str, to: str, series: { type: "array", items: obj({ labels, points: { type: "array", items: obj({ at: str, value: num }) } }) } }), ...errors },
  },
  queries: {
    tags: ["metrics"],
    summary: "Top statements over a time range (pg_stat_statements deltas)",
    querystring: {
      type: "object",
      additionalProperties: false,
      properties: {
        ...timeRange,
        ...statementFilter,
        order: { type: "string", enum: ["total", "mean", "stddev", "calls", "max"], default: "total" },
        limit: { type: "integer", minimum: 1, maximum: 500, default: 50 },
      },
    },
    response: {
      200: obj({
        from: str,
        to: str,
        databases: { type: "array", items: str },
        roles: { type: "array", items: str },
        queries: {
          type: "array",
          items: obj({ queryid: str, dbname: str, username: str, query: str, calls: num, totalMs: num, meanMs: num, maxMs: num, stddevMs: num, rows: num, hitRatio: nullable(num) }),
        },
      }),
      ...errors,
    },
  },
  querySeries: {
    tags: ["metrics"],
    summary: "One statement's calls and mean time per collection",
    params: { type: "object", required: ["queryid"], properties: { queryid: { type: "string", pattern: "^-?[0-9]+$" } } },
    querystring: { type: "object", additionalProperties: false, properties: { ...timeRange, ...statementFilter } },
    response: { 200: obj({ queryid: str, points: { type: "array", items: obj({ at: str, calls: num, meanMs: num }) } }), ...errors },
  },
  tables: {
    tags: ["metrics"],
    summary: "Tables of the application database at the latest collection",
    response: {
      200: obj({
        at: nullable(str),
        tables: {
          type: "array",
          items: obj({
            schema: str,
            table: str,
            sizeBytes: num,
            liveTuples: num,
            deadTuples: num,
            deadPercent: num,
            writes: num,
            seqScans: num,
            vacuumAgeSeconds: nullable(num),
            analyzeAgeSeconds: nullable(num),
          }),
        },
      }),
      ...errors,
    },
  },
  indexes: {
    tags: ["metrics"],
    summary: "Indexes of the application database at the latest collection; unused ones first",
    response: { 200: obj({ at: nullable(str), indexes: { type: "array", items: obj({ schema: str, table: str, index: str, unique: bool, sizeBytes: num, scans: num, unused: bool }) } }), ...errors },
  },
  locks: {
    tags: ["metrics"],
    summary: "Sessions waiting on locks now, each with the sessions blocking it",
    response: {
      200: obj({
        waits: {
          type: "array",
          items: obj({ pid: int, user: str, database: str, waitingSeconds: num, query: str, blockedBy: { type: "array", items: obj({ pid: int, state: nullable(str), query: nullable(str) }) } }),
        },
      }),
      ...errors,
    },
  },
  alerts: {
    tags: ["alerts"],
    summary: "Open alerts, recently resolved ones, and silences in force",
    querystring: { type: "object", additionalProperties: false, properties: { limit: { type: "integer", minimum: 0, maximum: 1000, default: 50 } } },
    response: { 200: obj({ open: { type: "array", items: alertView }, recent: { type: "array", items: alertView }, silences: { type: "array", items: silence } }), ...errors },
  },
  rules: {
    tags: ["alerts"],
    summary: "Every alert rule with its settings in force and its documentation",
    response: {
      200: obj({
        rules: {
          type: "array",
          items: obj({ id: str, title: str, severity: str, unit: str, threshold: num, forSeconds: num, windowSeconds: num, enabled: bool, doc: obj({ meaning: str, why: str, action: str }) }),
        },
      }),
      ...errors,
    },
  },
  silence: {
    tags: ["alerts"],
    summary: "Silence a rule (for some labels, or all) for a time",
    body: {
      type: "object",
      required: ["rule", "seconds"],
      additionalProperties: false,
      properties: { rule: str, labels, seconds: { type: "integer", minimum: 60, maximum: 31_536_000 }, comment: { type: "string", maxLength: 500 } },
    },
    response: { 200: silence, ...errors },
  },
  backups: {
    tags: ["backups"],
    summary: "Backups in every repository, the restorable window and archiving",
    response: {
      200: obj({ backups: { type: "array", items: obj({ label: str, repo: int, type: str, startedAt: str, endedAt: str }) }, window: obj({ from: nullable(str), to: nullable(str) }) }),
      ...errors,
    },
  },
  startBackup: {
    tags: ["backups"],
    summary: "Take a backup now (waits for it; retention follows)",
    body: { type: "object", additionalProperties: false, properties: { type: { type: "string", enum: ["full", "diff", "incr"], default: "full" } } },
    response: { 200: obj({ backups: { type: "array" }, window: obj({}) }), ...errors },
  },
  drills: {
    tags: ["backups"],
    summary: "Past restore drills, newest last",
    response: { 200: obj({ drills: { type: "array", items: obj({ startedAt: str, ok: bool, restoreSeconds: nullable(num) }) } }), ...errors },
  },
  clone: {
    tags: ["backups"],
    summary: "Restore the backups into a new, separate cluster (a clone) at a time, a restore point, an LSN or the latest state; waits for it to run",
    body: {
      type: "object",
      required: ["name"],
      additionalProperties: false,
      properties: {
        name: { type: "string", pattern: "^[a-z][a-z0-9_]{0,62}$" },
        time: { type: "string", format: "date-time", description: "RFC 3339 with an explicit offset, e.g. 2026-04-18T14:30:00+02:00 or …Z" },
        restorePoint: { type: "string", minLength: 1 },
        lsn: { type: "string", pattern: "^[0-9A-Fa-f]+/[0-9A-Fa-f]+$" },
        from: { type: "string", enum: ["local", "s3"] },
      },
    },
    response: { 200: obj({ name: str, stateDir: str, ports: { type: "object", additionalProperties: { type: "integer" } } }), ...errors },
  },
  restore: {
    tags: ["backups"],
    summary:
      "Restore this cluster in place (same ports and connection strings) to a time, a restore point, an LSN or the latest state. The target is checked at once; the restore then runs in the background (it restarts this API) and writes log/restore.log",
    body: {
      type: "object",
      required: ["confirm"],
      additionalProperties: false,
      properties: {
        confirm: { type: "string", const: "replace all data", description: 'the words "replace all data": this API\'s --yes' },
        time: { type: "string", format: "date-time", description: "RFC 3339 with an explicit offset, e.g. 2026-04-18T14:30:00+02:00 or …Z" },
        restorePoint: { type: "string", minLength: 1 },
        lsn: { type: "string", pattern: "^[0-9A-Fa-f]+/[0-9A-Fa-f]+$" },
        from: { type: "string", enum: ["local", "s3"] },
      },
    },
    response: { 202: obj({ log: str, pid: int }), ...errors },
  },
  history: {
    tags: ["cluster"],
    summary: "Switchovers and failovers with the outage measured",
    response: { 200: obj({ history: { type: "array", items: obj({ at: str, kind: str, from: str, to: str, timeline: nullable(int), outageMs: nullable(num) }) } }), ...errors },
  },
  startDrill: {
    tags: ["backups"],
    summary: "Run a restore drill now (waits for it)",
    response: { 200: obj({ startedAt: str, ok: bool }), ...errors },
  },
} as const;

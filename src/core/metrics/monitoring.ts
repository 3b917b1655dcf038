import { readFileSync } from "node:fs";
import pg from "pg";
import type { TuskConfig } from "../config/config-file.js";
import { ruleSettings } from "../config/monitoring-settings.js";
import { readPrimary } from "../cluster/nodes.js";
import { ROLES } from "../endpoints.js";
import { readSecret } from "../secrets.js";
import { loopbackTls } from "../tls/cluster-ca.js";
import type { StatePaths } from "../state-dir.js";
import { evaluateRules, alertKey, silenced, type ActiveAlert, type Transition } from "../alerts/engine.js";
import { RULES } from "../alerts/rules/index.js";
import type { RuleSettings } from "../alerts/rule.js";
import { deliver, type WebhookPayload } from "../alerts/webhooks.js";
import { AlertLog, alertView, type AlertView, type Silence } from "../alerts/alert-log.js";
import { Collector, type CollectorContext } from "./collector.js";
import type { Sample } from "./sample.js";
import { Snapshot } from "./sample.js";
import { MetricsStore } from "./store.js";

import { METRICS_DATABASE } from "./database-name.js";
const LOCK_WAITS = readFileSync(new URL("./sql/lock-waits.sql", import.meta.url), "utf8");

export interface LockWait {
  pid: number;
  user: string;
  database: string;
  waitingSeconds: number;
  waitEventType: string | null;
  query: string;
  blockedBy: { pid: number; user: string; state: string; query: string; transactionSeconds: number | null }[];
}

/** Counter snapshots kept for the rules' windows: all within DENSE_MS, then RING_SPACING_MS apart. */
const DENSE_MS = 120_000;
const RING_SPACING_MS = 60_000;
const MAX_WINDOW_MS = 3_600_000;
/** The gauges some rule reads at its window's start, kept in the ring beside the counters. */
const WINDOW_GAUGES = new Set(RULES.flatMap((r) => r.windowGauges ?? []));

export interface CollectionStatus {
  enabled: boolean;
  intervalSeconds: number;
  lastAt: string | null;
  lastDurationMs: number | null;
  lastError: string | null;
  collections: number;
}

/**
 * The monitoring service inside the supervisor: every interval it collects (Collector), stores
 * (MetricsStore, tusk_metrics on the current primary), evaluates the alert rules, records their
 * transitions (AlertLog) and notifies the webhooks. It connects as the monitoring role, which reads
 * statistics through pg_monitor and may write only in its own database.
 */
export class Monitoring {
  private port = 0;
  private appPool: pg.Pool | undefined;
  private metricsPool: pg.Pool | undefined;
  private collector: Collector | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private open = new Map<string, ActiveAlert>();
  private ring: Snapshot[] = [];
  private latest: Snapshot | undefined;
  private lastRollupAt = 0;
  private lastRetentionAt = 0;
  private silences: Silence[] = [];
  readonly settings: Map<string, RuleSettings>;
  readonly status: CollectionStatus;

  constructor(
    private config: TuskConfig,
    private readonly paths: StatePaths,
    private readonly context: () => Promise<CollectorContext>,
    private readonly log: (line: string) => void,
  ) {
    this.settings = ruleSettings(config.alerts);
    this.status = { enabled: config.monitoring.enabled, intervalSeconds: config.monitoring.interval_seconds, lastAt: null, lastDurationMs: null, lastError: null, collections: 0 };
  }

  private pools(): { app: pg.Pool; metrics: pg.Pool } {
    const port = readPrimary(this.config, this.paths).port;
    if (port !== this.port || !this.appPool || !this.metricsPool) {
      void this.appPool?.end().catch(() => undefined);
      void this.metricsPool?.end().catch(() => undefined);
      const base = {
        host: "127.0.0.1",
        port,
        user: ROLES.monitor,
        password: readSecret(this.paths, "monitor"),
        max: 1,
        idleTimeoutMillis: 120_000,
        connectionTimeoutMillis: 3000,
        query_timeout: 5000,
      };
      this.appPool = new pg.Pool({ ...base, database: this.config.database, application_name: "tusk-collector" });
      // Monitoring writes never wait for a WAL flush or the synchronous standby: with a standby that
      // stalls, the application's commits wait, and the alerts saying so must not wait with them.
      this.metricsPool = new pg.Pool({ ...base, database: METRICS_DATABASE, application_name: "tusk-metrics", options: "-c synchronous_commit=off" });
      // A server that goes away (failover, restart) must fail the query in progress, not raise an
      // 'error' event nobody listens to: every client gets a listener when the pool makes it.
      for (const p of [this.appPool, this.metricsPool]) {
        p.on("error", () => undefined);
        p.on("connect", (client) => client.on("error", () => undefined));
      }
      this.collector ??= new Collector(this.appPool, () => this.poolerConfig());
      this.collector.retarget(this.appPool);
      this.port = port;
    }
    return { app: this.appPool, metrics: this.metricsPool };
  }

  private poolerConfig(): pg.ClientConfig {
    return {
      host: "127.0.0.1",
      port: this.config.ports.pooler,
      user: ROLES.monitor,
      password: readSecret(this.paths, "monitor"),
      database: "pgbouncer",
      connectionTimeoutMillis: 3000,
      ssl: loopbackTls(this.paths),
    };
  }

  /** Series ids of metrics.series, kept across collections (they do not change). */
  private readonly seriesIds = new Map<string, number>();

  get store(): MetricsStore {
    return new MetricsStore(this.pools().metrics, this.seriesIds);
  }

  get alertLog(): AlertLog {
    return new AlertLog(this.pools().metrics);
  }

  async start(): Promise<void> {
    if (!this.config.monitoring.enabled) return;
    await this.store.ensureSchema(new Date());
    // Episodes still open when the last supervisor stopped continue.
    for (const a of await this.alertLog.openAlerts()) this.open.set(alertKey(a.rule, a.labels), a);
    await this.collectOnce();
    this.timer = setInterval(() => void this.collectOnce(), this.config.monitoring.interval_seconds * 1000);
  }

  /** New monitoring and alert settings (tusk.yaml applied live): the collector's clock restarts with them. */
  async reconfigure(config: TuskConfig): Promise<void> {
    const wasEnabled = this.config.monitoring.enabled;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.config = config;
    this.settings.clear();
    for (const [id, rule] of ruleSettings(config.alerts)) this.settings.set(id, rule);
    this.status.enabled = config.monitoring.enabled;
    this.status.intervalSeconds = config.monitoring.interval_seconds;
    if (!config.monitoring.enabled) return;
    if (!wasEnabled) return this.start();
    this.timer = setInterval(() => void this.collectOnce(), config.monitoring.interval_seconds * 1000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
    await Promise.all([this.appPool?.end(), this.metricsPool?.end()].map((p) => p?.catch(() => undefined)));
  }

  /** One round; rounds never overlap (a slow one makes the next wait, not pile up). */
  collectOnce(): Promise<void> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<void> {
    const started = Date.now();
    try {
      this.pools();
      const { snapshot, statements, texts } = await this.collector!.collect(await this.context());
      const store = this.store;
      await store.writeCollection(snapshot.at, snapshot.samples, statements, texts);
      this.silences = await this.alertLog.activeSilences();
      await this.evaluate(snapshot);
      await this.housekeeping(store, snapshot.at);
      this.status.lastError = null;
      this.status.collections += 1;
      this.status.lastAt = snapshot.at.toISOString();
    } catch (e) {
      this.status.lastError = (e as Error).message;
      this.log(`metrics collection failed: ${(e as Error).message}`);
    } finally {
      this.status.lastDurationMs = Date.now() - started;
    }
  }

  private async evaluate(now: Snapshot): Promise<void> {
    const previous = this.latest;
    this.latest = now;
    const windowStart = (seconds: number) => this.ring.find((s) => s.at.getTime() >= now.at.getTime() - seconds * 1000) ?? previous;
    const open = new Map<string, ActiveAlert>();
    const transitions: Transition[] = [];
    // Each rule sees the window it asks for.
    for (const rule of RULES) {
      const s = this.settings.get(rule.id)!;
      const own = new Map([...this.open].filter(([, a]) => a.rule === rule.id));
      const r = evaluateRules([rule], this.settings, { now, previous, windowStart: windowStart(s.windowSeconds) }, own, now.at);
      for (const [k, a] of r.open) open.set(k, a);
      transitions.push(...r.transitions);
    }
    this.open = open;
    this.keepCounters(now);
    if (transitions.length === 0) return;
    const log = this.alertLog;
    for (const t of transitions) {
      await log.record(t);
      this.log(`alert ${t.alert.rule} ${JSON.stringify(t.alert.labels)}: ${t.to} (${t.alert.summary})`);
    }
    for (const t of transitions) {
      const notify = t.to === "firing" || (t.to === "resolved" && t.alert.firedAt !== undefined);
      if (notify && !silenced(t.alert, this.silences, now.at)) void this.notify(t);
    }
  }

  /**
   * Counter snapshots for the rules' windows: every collection of the last two minutes, then one a
   * minute back to the longest window (an hour), so memory stays small at any interval.
   */
  private keepCounters(now: Snapshot): void {
    this.ring.push(
      new Snapshot(
        now.at,
        now.samples.filter((s) => s.name.endsWith("_total") || WINDOW_GAUGES.has(s.name)),
      ),
    );
    const t = now.at.getTime();
    const kept: Snapshot[] = [];
    for (const s of this.ring) {
      const age = t - s.at.getTime();
      if (age > MAX_WINDOW_MS) continue;
      const last = kept[kept.length - 1];
      if (age > DENSE_MS && last && s.at.getTime() - last.at.getTime() < RING_SPACING_MS) continue;
      kept.push(s);
    }
    this.ring = kept;
  }

  private async notify(t: Transition): Promise<void> {
    const rule = RULES.find((r) => r.id === t.alert.rule)!;
    const payload: WebhookPayload = {
      status: t.to === "resolved" ? "resolved" : "firing",
      cluster: this.config.cluster_name,
      rule: rule.id,
      title: rule.title,
      severity: rule.severity,
      labels: t.alert.labels,
      value: Number.isFinite(t.alert.value) ? t.alert.value : null,
      summary: t.alert.summary,
      startedAt: t.alert.startedAt.toISOString(),
      firedAt: t.alert.firedAt?.toISOString() ?? null,
      resolvedAt: t.resolvedAt?.toISOString() ?? null,
      action: rule.doc.action,
    };
    for (const url of this.config.alerts.webhooks) {
      const error = await deliver(url, payload);
      if (error) this.log(`webhook ${new URL(url).host} failed for ${rule.id} (${payload.status}): ${error}`);
    }
  }

  /** Rollups every 5 minutes (the current hour and, once it ends, the hour before); retention hourly. */
  private async housekeeping(store: MetricsStore, now: Date): Promise<void> {
    const hour = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
    if (now.getTime() - this.lastRollupAt >= 300_000 || Math.floor(this.lastRollupAt / 3_600_000) !== hour.getTime() / 3_600_000) {
      if (this.lastRollupAt > 0 && this.lastRollupAt < hour.getTime()) await store.rollup(new Date(hour.getTime() - 3_600_000));
      await store.rollup(hour);
      this.lastRollupAt = now.getTime();
    }
    if (now.getTime() - this.lastRetentionAt >= 3_600_000) {
      const dropped = await store.applyRetention(now, { rawDays: this.config.monitoring.retention_days, rollupDays: this.config.monitoring.rollup_retention_days });
      if (dropped > 0) this.log(`metrics retention: dropped ${dropped} daily partition(s)`);
      this.lastRetentionAt = now.getTime();
    }
  }

  /** The latest collection (for /metrics and rules), if any yet. */
  latestSamples(): { at: Date; samples: readonly Sample[] } | undefined {
    return this.latest ? { at: this.latest.at, samples: this.latest.samples } : undefined;
  }

  /** Who blocks whom right now (read live from the primary, not from history). */
  async lockWaits(): Promise<LockWait[]> {
    return (await this.pools().app.query<LockWait>(LOCK_WAITS)).rows;
  }

  /** The alerts open now (pending and firing), each saying whether a silence covers it. No query. */
  openAlerts(): AlertView[] {
    const now = new Date();
    return [...this.open.values()].map((a) => ({ ...alertView(a), silenced: silenced(a, this.silences, now) }));
  }

  /** Open alerts, the most recent resolved ones, and the silences in force. */
  async alerts(historyLimit = 50): Promise<{ open: AlertView[]; recent: AlertView[]; silences: Silence[] }> {
    return { open: this.openAlerts(), recent: await this.alertLog.recent(historyLimit), silences: this.silences };
  }

  async silence(rule: string, labels: Record<string, string>, seconds: number, comment: string): Promise<Silence> {
    const s = await this.alertLog.addSilence(rule, labels, new Date(Date.now() + seconds * 1000), comment);
    this.silences = await this.alertLog.activeSilences();
    return s;
  }
}

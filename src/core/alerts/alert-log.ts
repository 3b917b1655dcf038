import type pg from "pg";
import { RULES } from "./rules/index.js";
import type { ActiveAlert, Transition } from "./engine.js";

/** An alert as the API, the CLI and the dashboard show it. */
export interface AlertView {
  id: number | null;
  rule: string;
  title: string;
  severity: string;
  labels: Record<string, string>;
  state: "pending" | "firing" | "resolved";
  value: number | null;
  summary: string;
  startedAt: string;
  firedAt: string | null;
  resolvedAt: string | null;
  silenced: boolean;
}

export interface Silence {
  id: number;
  rule: string;
  labels: Record<string, string>;
  until: string;
  comment: string;
  createdAt: string;
}

interface AlertRow {
  id: string;
  rule: string;
  labels: Record<string, string>;
  state: "pending" | "firing" | "resolved";
  value: number | null;
  summary: string;
  started_at: Date;
  fired_at: Date | null;
  resolved_at: Date | null;
}

const finite = (v: number) => (Number.isFinite(v) ? v : null);

/** An alert with its rule's title and severity, as shown everywhere. */
export function alertView(a: ActiveAlert, resolvedAt?: Date): AlertView {
  const rule = RULES.find((r) => r.id === a.rule);
  return {
    id: a.id ?? null,
    rule: a.rule,
    title: rule?.title ?? a.rule,
    severity: rule?.severity ?? "warning",
    labels: a.labels,
    state: resolvedAt ? "resolved" : a.state,
    value: finite(a.value),
    summary: a.summary,
    startedAt: a.startedAt.toISOString(),
    firedAt: a.firedAt?.toISOString() ?? null,
    resolvedAt: resolvedAt?.toISOString() ?? null,
    silenced: false,
  };
}

/** Alert episodes and silences in the metrics database (metrics.alerts, metrics.silences). */
export class AlertLog {
  constructor(private readonly db: pg.Pool) {}

  /** Inserts a new episode (pending), or updates it (firing, resolved). */
  async record(t: Transition): Promise<void> {
    const a = t.alert;
    if (a.id === undefined) {
      const r = await this.db.query<{ id: string }>(
        "INSERT INTO metrics.alerts (rule, labels, state, value, summary, started_at, fired_at, resolved_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        [a.rule, JSON.stringify(a.labels), t.to, finite(a.value), a.summary, a.startedAt, a.firedAt ?? null, t.resolvedAt ?? null],
      );
      a.id = Number(r.rows[0]!.id);
    } else {
      await this.db.query("UPDATE metrics.alerts SET state = $2, value = $3, summary = $4, fired_at = $5, resolved_at = $6 WHERE id = $1", [
        a.id,
        t.to,
        finite(a.value),
        a.summary,
        a.firedAt ?? null,
        t.resolvedAt ?? null,
      ]);
    }
  }

  async openAlerts(): Promise<ActiveAlert[]> {
    const rows = (await this.db.query<AlertRow>("SELECT * FROM metrics.alerts WHERE state <> 'resolved'")).rows;
    return rows.map((r) => ({
      id: Number(r.id),
      rule: r.rule,
      labels: r.labels,
      state: r.state as "pending" | "firing",
      value: r.value ?? NaN,
      summary: r.summary,
      startedAt: r.started_at,
      firedAt: r.fired_at ?? undefined,
    }));
  }

  async recent(limit: number): Promise<AlertView[]> {
    const rows = (await this.db.query<AlertRow>("SELECT * FROM metrics.alerts WHERE state = 'resolved' AND fired_at IS NOT NULL ORDER BY resolved_at DESC LIMIT $1", [limit])).rows;
    return rows.map((r) =>
      alertView(
        { id: Number(r.id), rule: r.rule, labels: r.labels, state: "firing", value: r.value ?? NaN, summary: r.summary, startedAt: r.started_at, firedAt: r.fired_at ?? undefined },
        r.resolved_at ?? undefined,
      ),
    );
  }

  async activeSilences(): Promise<Silence[]> {
    const rows = (
      await this.db.query<{ id: string; rule: string; labels: Record<string, string>; until: Date; comment: string; created_at: Date }>(
        "SELECT * FROM metrics.silences WHERE until > now() ORDER BY until",
      )
    ).rows;
    return rows.map((r) => ({ id: Number(r.id), rule: r.rule, labels: r.labels, until: r.until.toISOString(), comment: r.comment, createdAt: r.created_at.toISOString() }));
  }

  async addSilence(rule: string, labels: Record<string, string>, until: Date, comment: string): Promise<Silence> {
    const r = (
      await this.db.query<{ id: string; created_at: Date }>("INSERT INTO metrics.silences (rule, labels, until, comment) VALUES ($1, $2, $3, $4) RETURNING id, created_at", [
        rule,
        JSON.stringify(labels),
        until,
        comment,
      ])
    ).rows[0]!;
    return { id: Number(r.id), rule, labels, until: until.toISOString(), comment, createdAt: r.created_at.toISOString() };
  }
}

import { seriesKey } from "../metrics/sample.js";
import type { AlertRule, Breach, RuleContext, RuleSettings } from "./rule.js";

/** An alert not yet resolved. */
export interface ActiveAlert {
  /** The row in metrics.alerts, once written. */
  id?: number;
  rule: string;
  labels: Record<string, string>;
  state: "pending" | "firing";
  value: number;
  summary: string;
  startedAt: Date;
  firedAt?: Date;
}

export interface Transition {
  to: "pending" | "firing" | "resolved";
  alert: ActiveAlert;
  resolvedAt?: Date;
}

export const alertKey = (rule: string, labels: Record<string, string>) => seriesKey(rule, labels);

/**
 * One evaluation, pure: every enabled rule against the context, then each series moves
 * pending → firing once its breach has lasted the rule's `for`, and → resolved when the breach is
 * gone (a pending alert that clears never fired and is simply closed). Returns the alerts still
 * open and the transitions to record and notify.
 */
export function evaluateRules(
  rules: readonly AlertRule[],
  settings: ReadonlyMap<string, RuleSettings>,
  ctx: RuleContext,
  open: ReadonlyMap<string, ActiveAlert>,
  now: Date,
): { open: Map<string, ActiveAlert>; transitions: Transition[] } {
  const next = new Map<string, ActiveAlert>();
  const transitions: Transition[] = [];
  for (const rule of rules) {
    const s = settings.get(rule.id)!;
    if (!s.enabled) continue;
    let breaches: Breach[];
    try {
      breaches = rule.evaluate(ctx, s.threshold);
    } catch {
      continue; // a rule that cannot read its figures says nothing this round
    }
    for (const b of breaches) {
      const key = alertKey(rule.id, b.labels);
      const prior = open.get(key);
      const alert: ActiveAlert = prior ? { ...prior, value: b.value, summary: b.summary } : { rule: rule.id, labels: b.labels, state: "pending", value: b.value, summary: b.summary, startedAt: now };
      if (!prior) transitions.push({ to: "pending", alert });
      if (alert.state === "pending" && now.getTime() - alert.startedAt.getTime() >= s.forSeconds * 1000) {
        alert.state = "firing";
        alert.firedAt = now;
        transitions.push({ to: "firing", alert });
      }
      next.set(key, alert);
    }
  }
  for (const [key, alert] of open) {
    if (!next.has(key)) transitions.push({ to: "resolved", alert, resolvedAt: now });
  }
  return { open: next, transitions };
}

/** Whether a silence (rule and a subset of labels, until a time) covers an alert now. */
export function silenced(alert: { rule: string; labels: Record<string, string> }, silences: readonly { rule: string; labels: Record<string, string>; until: string }[], now: Date): boolean {
  return silences.some((s) => s.rule === alert.rule && Date.parse(s.until) > now.getTime() && Object.entries(s.labels).every(([k, v]) => alert.labels[k] === v));
}

import type { Snapshot } from "../metrics/sample.js";

export type Severity = "warning" | "critical";

/** What a rule reads: the latest collection, the one before it, and the oldest within its window. */
export interface RuleContext {
  now: Snapshot;
  previous: Snapshot | undefined;
  windowStart: Snapshot | undefined;
}

/** One series over the threshold: what fires (after the rule's "for" duration) if it persists. */
export interface Breach {
  labels: Record<string, string>;
  value: number;
  summary: string;
}

/**
 * An alert rule: one per file in rules/. The threshold, `for` and window are defaults a user can
 * override per rule in tusk.yaml (alerts.rules.<id>); the doc says what it means, why it matters and
 * what to do, and is shown by `tusk alerts explain <id>`, the API and the dashboard.
 */
export interface AlertRule {
  id: string;
  title: string;
  severity: Severity;
  threshold: number;
  /** How the threshold reads: "%", "s", "bytes", "h" … */
  unit: string;
  /** How long a breach must last before the alert fires. */
  forSeconds: number;
  /** For rules over counters: how far back the interval reaches. */
  windowSeconds?: number;
  /** Gauges this rule reads at the window's start too (counters, named *_total, are always kept for windows). */
  windowGauges?: readonly string[];
  doc: { meaning: string; why: string; action: string };
  evaluate(ctx: RuleContext, threshold: number): Breach[];
}

export interface RuleSettings {
  threshold: number;
  forSeconds: number;
  windowSeconds: number;
  enabled: boolean;
}

export const fmt = (v: number, digits = 1) => (Number.isInteger(v) ? String(v) : v.toFixed(digits));

/** A duration as people read it: "45 s", "12 min", "3.5 h", "2.0 d". */
export function fmtDuration(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

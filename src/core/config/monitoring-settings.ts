import { RULES, RULE_IDS } from "../alerts/rules/index.js";
import type { RuleSettings } from "../alerts/rule.js";
import { suggestName } from "./postgres-settings.js";

/** `monitoring:` in tusk.yaml: the collector and how long its history is kept. */
export interface MonitoringSettings {
  enabled: boolean;
  interval_seconds: number;
  /** Raw samples and query deltas: whole days. */
  retention_days: number;
  /** Hourly rollups. */
  rollup_retention_days: number;
}

/** `alerts:` in tusk.yaml: where notifications go, and per-rule overrides. */
export interface AlertSettings {
  webhooks: string[];
  rules: Record<string, Partial<{ threshold: number; for: number; window: number; enabled: boolean }>>;
}

export const DEFAULT_MONITORING: MonitoringSettings = { enabled: true, interval_seconds: 15, retention_days: 14, rollup_retention_days: 365 };
export const DEFAULT_ALERTS: AlertSettings = { webhooks: [], rules: {} };

const RANGES: Record<keyof Omit<MonitoringSettings, "enabled">, [number, number]> = {
  interval_seconds: [1, 3600],
  retention_days: [1, 3650],
  rollup_retention_days: [1, 3650],
};

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function readMonitoring(value: unknown, problems: string[]): MonitoringSettings {
  const out = { ...DEFAULT_MONITORING };
  if (!isMapping(value)) {
    problems.push("monitoring: must be a mapping such as { interval_seconds: 15 }.");
    return out;
  }
  const keys = ["enabled", ...Object.keys(RANGES)];
  for (const [k, v] of Object.entries(value)) {
    if (k === "enabled") {
      if (typeof v !== "boolean") problems.push(`monitoring.enabled: must be true or false, not ${JSON.stringify(v)}.`);
      else out.enabled = v;
    } else if (k in RANGES) {
      const [lo, hi] = RANGES[k as keyof typeof RANGES];
      if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) problems.push(`monitoring.${k}: must be a whole number from ${lo} to ${hi}, not ${JSON.stringify(v)}.`);
      else out[k as keyof typeof RANGES] = v;
    } else problems.push(`monitoring.${k}: not a monitoring setting.${suggestName(k, keys)} Known: ${keys.join(", ")}.`);
  }
  return out;
}

export function readAlerts(value: unknown, problems: string[]): AlertSettings {
  const out: AlertSettings = { webhooks: [], rules: {} };
  if (!isMapping(value)) {
    problems.push('alerts: must be a mapping such as { webhooks: ["https://…"] }.');
    return out;
  }
  for (const [k, v] of Object.entries(value)) {
    if (k === "webhooks") {
      if (!Array.isArray(v)) problems.push("alerts.webhooks: must be a list of http(s) URLs.");
      else
        for (const [i, url] of v.entries()) {
          let ok = false;
          try {
            ok = typeof url === "string" && ["http:", "https:"].includes(new URL(url).protocol);
          } catch {
            /* not a URL */
          }
          if (ok) out.webhooks.push(url as string);
          else problems.push(`alerts.webhooks[${i}]: must be an http:// or https:// URL, not ${JSON.stringify(url)}.`);
        }
    } else if (k === "rules") {
      if (!isMapping(v)) {
        problems.push("alerts.rules: must be a mapping of rule id to { threshold, for, window, enabled }.");
        continue;
      }
      for (const [id, o] of Object.entries(v)) {
        if (!RULE_IDS.includes(id)) {
          problems.push(`alerts.rules.${id}: no such rule.${suggestName(id, RULE_IDS)} Rules: ${RULE_IDS.join(", ")}.`);
          continue;
        }
        if (!isMapping(o)) {
          problems.push(`alerts.rules.${id}: must be a mapping such as { threshold: 90, for: 300 }.`);
          continue;
        }
        const r: AlertSettings["rules"][string] = {};
        for (const [field, x] of Object.entries(o)) {
          if (field === "enabled") {
            if (typeof x !== "boolean") problems.push(`alerts.rules.${id}.enabled: must be true or false.`);
            else r.enabled = x;
          } else if (field === "threshold" || field === "for" || field === "window") {
            if (typeof x !== "number" || !Number.isFinite(x) || x < 0)
              problems.push(`alerts.rules.${id}.${field}: must be a number of 0 or more${field === "threshold" ? "" : " (seconds)"}, not ${JSON.stringify(x)}.`);
            else r[field] = x;
          } else problems.push(`alerts.rules.${id}.${field}: not a rule setting. Known: threshold, for, window, enabled.`);
        }
        out.rules[id] = r;
      }
    } else problems.push(`alerts.${k}: not an alerts setting.${suggestName(k, ["webhooks", "rules"])} Known: webhooks, rules.`);
  }
  return out;
}

/** Each rule's effective threshold, for, window and whether it is on: its defaults, then tusk.yaml. */
export function ruleSettings(alerts: AlertSettings): Map<string, RuleSettings> {
  return new Map(
    RULES.map((r) => {
      const o = alerts.rules[r.id] ?? {};
      return [r.id, { threshold: o.threshold ?? r.threshold, forSeconds: o.for ?? r.forSeconds, windowSeconds: o.window ?? r.windowSeconds ?? 0, enabled: o.enabled ?? true }];
    }),
  );
}

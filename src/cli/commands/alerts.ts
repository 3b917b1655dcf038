import type { Command } from "commander";
import type { AlertView, Silence } from "../../core/alerts/alert-log.js";
import { ROUTES } from "../../core/endpoints.js";
import { TuskError } from "../../core/errors.js";
import { durationOf } from "../../core/config/units.js";
import { clusterFor } from "../context.js";
import { table, when } from "../format.js";

interface AlertsAnswer {
  open: AlertView[];
  recent: AlertView[];
  silences: Silence[];
}

interface RuleAnswer {
  rules: {
    id: string;
    title: string;
    severity: string;
    unit: string;
    threshold: number;
    forSeconds: number;
    windowSeconds: number;
    enabled: boolean;
    doc: { meaning: string; why: string; action: string };
  }[];
}

function alertRows(alerts: AlertView[]): string[][] {
  return alerts.map((a) => [
    a.state.toUpperCase() + (a.silenced ? " (silenced)" : ""),
    a.severity,
    a.rule,
    Object.entries(a.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(",") || "-",
    when(a.firedAt ?? a.startedAt),
    when(a.resolvedAt),
    a.summary,
  ]);
}

export function registerAlerts(program: Command): void {
  const alerts = program
    .command("alerts")
    .description("alerts open now (pending and firing) and recently resolved; rules, their documentation, silences")
    .option("--json", "print as JSON")
    .option("--limit <n>", "resolved alerts to show", "20")
    .action(async (opts: { json?: boolean; limit: string }, command: Command) => {
      const cluster = clusterFor(command);
      await cluster.status();
      const a = await cluster.api.get<AlertsAnswer>(ROUTES.alerts, { limit: Number(opts.limit) });
      if (opts.json) return void console.log(JSON.stringify(a, null, 2));
      const header = ["STATE", "SEVERITY", "RULE", "LABELS", "SINCE", "RESOLVED", "SUMMARY"];
      console.log(a.open.length ? table(alertRows(a.open), header) : "No alert is open.");
      if (a.recent.length) console.log(`\nRecently resolved:\n${table(alertRows(a.recent), header)}`);
      if (a.silences.length)
        console.log(
          `\nSilences:\n${table(
            a.silences.map((s) => [
              String(s.id),
              s.rule,
              Object.entries(s.labels)
                .map(([k, v]) => `${k}=${v}`)
                .join(",") || "(all)",
              when(s.until),
              s.comment,
            ]),
            ["ID", "RULE", "LABELS", "UNTIL", "COMMENT"],
          )}`,
        );
    });
  alerts
    .command("rules")
    .description("every rule with its threshold, 'for' duration and window in force")
    .option("--json", "print as JSON")
    .action(async (_opts: unknown, command: Command) => {
      const r = await clusterFor(command).api.get<RuleAnswer>(ROUTES.rules);
      // `alerts` takes --json too, and commander gives it the flag wherever it is written.
      if (command.optsWithGlobals<{ json?: boolean }>().json) return void console.log(JSON.stringify(r, null, 2));
      console.log(
        table(
          r.rules.map((x) => [x.id, x.severity, x.enabled ? "on" : "off", `${x.threshold}${x.unit ? ` ${x.unit}` : ""}`, `${x.forSeconds} s`, x.windowSeconds ? `${x.windowSeconds} s` : "-", x.title]),
          ["RULE", "SEVERITY", "", "THRESHOLD", "FOR", "WINDOW", "WHAT"],
        ),
      );
    });
  alerts
    .command("explain <rule>")
    .description("what a rule means, why it matters and what to do")
    .action(async (id: string, _opts: unknown, command: Command) => {
      const r = (await clusterFor(command).api.get<RuleAnswer>(ROUTES.rules)).rules;
      const rule = r.find((x) => x.id === id);
      if (!rule) throw new TuskError("Usage", `There is no rule "${id}".`, { hint: `Rules: ${r.map((x) => x.id).join(", ")}.` });
      console.log(
        `${rule.id}: ${rule.title} (${rule.severity}; threshold ${rule.threshold}${rule.unit ? ` ${rule.unit}` : ""}, for ${rule.forSeconds} s)\n\nWhat it means: ${rule.doc.meaning}\n\nWhy it matters: ${rule.doc.why}\n\nWhat to do: ${rule.doc.action}`,
      );
    });
  alerts
    .command("silence <rule>")
    .description("stop notifications of a rule (for the given labels, or all) for a time")
    .requiredOption("--for <duration>", "how long: 30m, 2h, 1d")
    .option("--label <k=v...>", "only alerts with these labels")
    .option("--comment <text>", "why", "")
    .action(async (rule: string, opts: { for: string; label?: string[]; comment: string }, command: Command) => {
      const seconds = durationOf(opts.for, "--for");
      const labels: Record<string, string> = {};
      for (const kv of opts.label ?? []) {
        const i = kv.indexOf("=");
        if (i <= 0) throw new TuskError("Usage", `--label must be key=value, not "${kv}".`);
        labels[kv.slice(0, i)] = kv.slice(i + 1);
      }
      const s = await clusterFor(command).api.post<Silence>(ROUTES.silences, { rule, labels, seconds, comment: opts.comment }, 30_000);
      console.log(
        `Silenced ${s.rule}${
          Object.keys(s.labels).length
            ? ` (${Object.entries(s.labels)
                .map(([k, v]) => `${k}=${v}`)
                .join(",")})`
            : ""
        } until ${when(s.until)}.`,
      );
    });
}

import { readFileSync } from "node:fs";
import { parseDuration, parseMemory, memoryUnitBytes, timeUnitMs } from "./units.js";

/**
 * PostgreSQL 15's settings as its own pg_settings view describes them (type, unit, range, enum values,
 * context), generated from a real server by scripts/gen-postgresql-settings.sh, including the settings
 * of the extensions tusk preloads or ships (pg_stat_statements, pg_cron, pgvector, pg_partman).
 */
export interface SettingSpec {
  name: string;
  type: "bool" | "integer" | "real" | "string" | "enum";
  unit: string | null;
  min: string | null;
  max: string | null;
  values: string[] | null;
  context: string;
  about: string;
}

let catalog: Map<string, SettingSpec> | undefined;

export function postgresSettings(): Map<string, SettingSpec> {
  if (!catalog) {
    const url = new URL("./postgresql-15-settings.json", import.meta.url);
    const list = JSON.parse(readFileSync(url, "utf8")) as SettingSpec[];
    catalog = new Map(list.map((s) => [s.name, s]));
  }
  return catalog;
}

/** Whether changing this setting needs a server restart (pg_settings.context = postmaster). */
export function needsRestart(name: string): boolean {
  return postgresSettings().get(name)?.context === "postmaster";
}

export type SettingValue = string | number | boolean;

/** The outcome of checking one value: the text PostgreSQL gets, or what is wrong with it. */
export type Checked = { ok: true; value: string } | { ok: false; problem: string };

function closest(name: string, names: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of names) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** Suggests a known name for an unknown one ("shared_buffer" → "shared_buffers"). */
export function suggestName(name: string, names: Iterable<string>): string {
  const guess = closest(name, names);
  return guess ? ` Did you mean ${guess}?` : "";
}

/** Checks a value against the setting's type, unit and range as PostgreSQL would. */
export function checkPostgresSetting(name: string, value: SettingValue): Checked {
  const spec = postgresSettings().get(name);
  if (!spec) return { ok: false, problem: `is not a PostgreSQL 15 setting.${suggestName(name, postgresSettings().keys())}` };
  return checkAgainstSpec(spec, value);
}

export function checkAgainstSpec(spec: SettingSpec, value: SettingValue): Checked {
  const text = String(value);
  switch (spec.type) {
    case "bool": {
      const v = text.toLowerCase();
      if (["on", "true", "yes", "1"].includes(v)) return { ok: true, value: "on" };
      if (["off", "false", "no", "0"].includes(v)) return { ok: true, value: "off" };
      return { ok: false, problem: `must be on or off, not "${text}".` };
    }
    case "enum": {
      const match = spec.values?.find((v) => v.toLowerCase() === text.toLowerCase());
      return match !== undefined ? { ok: true, value: match } : { ok: false, problem: `must be one of ${spec.values?.join(", ")}, not "${text}".` };
    }
    case "string":
      return { ok: true, value: text };
    case "integer":
    case "real":
      return checkNumber(spec, value);
  }
}

function checkNumber(spec: SettingSpec, value: SettingValue): Checked {
  const unit = spec.unit ?? "";
  const min = spec.min === null ? -Infinity : Number(spec.min);
  const max = spec.max === null ? Infinity : Number(spec.max);
  const memBase = memoryUnitBytes(unit);
  const timeBase = timeUnitMs(unit);
  let inUnits: number | undefined;
  let expected = "a number";
  if (typeof value === "boolean") return { ok: false, problem: `must be ${expected}, not ${value}.` };
  if (memBase !== undefined) {
    const bytes = parseMemory(value, unit, true);
    inUnits = bytes === undefined ? undefined : bytes / memBase;
    expected = `a size such as 64MB or 1GB (bare numbers are in units of ${unit})`;
  } else if (timeBase !== undefined) {
    const ms = parseDuration(value, unit, true);
    inUnits = ms === undefined ? undefined : ms / timeBase;
    expected = `a duration such as 200ms, 30s or 5min (bare numbers are in ${unit})`;
  } else {
    const n = typeof value === "number" ? value : /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(value) ? Number(value) : NaN;
    inUnits = Number.isNaN(n) ? undefined : n;
  }
  if (inUnits === undefined) return { ok: false, problem: `must be ${expected}, not "${value}".` };
  if (spec.type === "integer" && memBase === undefined && timeBase === undefined && !Number.isInteger(inUnits)) {
    return { ok: false, problem: `must be a whole number, not ${value}.` };
  }
  // -1 commonly means "off" and is within PostgreSQL's own ranges where allowed.
  if (inUnits < min || inUnits > max) {
    const range = unit ? `${spec.min}..${spec.max} (in units of ${unit})` : `${spec.min}..${spec.max}`;
    return { ok: false, problem: `is out of range: ${value} is not within ${range}.` };
  }
  return { ok: true, value: typeof value === "number" ? String(value) : value.trim() };
}

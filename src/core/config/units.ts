import { TuskError } from "../errors.js";

/**
 * PostgreSQL's units for memory and time settings, as in its documentation ("Parameter Names and
 * Values"): memory kB, MB, GB, TB (multiples of 1024); time us, ms, s, min, h, d.
 */
const MEMORY_UNITS: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** Bytes in one unit of a setting whose pg_settings.unit is e.g. "kB" or "8kB". */
export function memoryUnitBytes(unit: string): number | undefined {
  const m = /^(\d*)(B|kB|MB|GB|TB)$/.exec(unit);
  if (!m) return undefined;
  return (m[1] ? parseInt(m[1], 10) : 1) * MEMORY_UNITS[m[2]!]!;
}

export function timeUnitMs(unit: string): number | undefined {
  return TIME_UNITS[unit];
}

/**
 * tusk's one size parser: "64MB", "512kB", "1GB" or a bare number in units of `unit` (a
 * pg_settings unit such as "kB" or "8kB"; "B" by default). With `strict`, PostgreSQL's own grammar
 * (case-sensitive units) for values PostgreSQL reads itself; otherwise units are case-insensitive.
 * Undefined when the text is not a size.
 */
export function parseMemory(value: string | number, unit = "B", strict = false): number | undefined {
  const base = memoryUnitBytes(unit);
  if (base === undefined) return undefined;
  if (typeof value === "number") return Number.isFinite(value) ? value * base : undefined;
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (!m) return undefined;
  if (!m[2]) return parseFloat(m[1]!) * base;
  const name = strict ? m[2] : Object.keys(MEMORY_UNITS).find((u) => u.toLowerCase() === m[2]!.toLowerCase());
  const factor = name === undefined ? undefined : MEMORY_UNITS[name];
  return factor === undefined ? undefined : parseFloat(m[1]!) * factor;
}

/**
 * tusk's one duration parser, into milliseconds: "200ms", "30s", "5min", "2h", "1d" or a bare number
 * in units of `unit` (a pg_settings unit; "s" by default). With `strict`, PostgreSQL's own grammar;
 * otherwise "m" also reads as minutes ("30m", as people write it).
 */
export function parseDuration(value: string | number, unit = "s", strict = false): number | undefined {
  const base = timeUnitMs(unit);
  if (base === undefined) return undefined;
  if (typeof value === "number") return Number.isFinite(value) ? value * base : undefined;
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*([a-z]*)\s*$/.exec(value);
  if (!m) return undefined;
  if (!m[2]) return parseFloat(m[1]!) * base;
  const factor = TIME_UNITS[!strict && m[2] === "m" ? "min" : m[2]];
  return factor === undefined ? undefined : parseFloat(m[1]!) * factor;
}

/** A size a user typed for `field` (a flag such as --max-lag, or a tusk.yaml key), in bytes; the error names the field. */
export function sizeOf(value: unknown, field: string): number {
  const bytes = typeof value === "string" || typeof value === "number" ? parseMemory(value) : undefined;
  if (bytes === undefined || bytes < 0 || !Number.isInteger(bytes)) throw new QuantityError(`${field}: must be a size such as 16MB, 512kB or 1048576 (bytes), not ${JSON.stringify(value)}.`);
  return bytes;
}

/** A duration a user typed for `field`, in whole seconds (bare numbers are seconds); the error names the field. */
export function durationOf(value: unknown, field: string): number {
  const ms = typeof value === "string" || typeof value === "number" ? parseDuration(value) : undefined;
  if (ms === undefined || ms <= 0) throw new QuantityError(`${field}: must be a duration such as 30s, 15m, 2h or 1d, not ${JSON.stringify(value)}.`);
  return Math.max(1, Math.round(ms / 1000));
}

/** A size or duration that could not be read (a usage error); the message names the field as the user typed it. */
export class QuantityError extends TuskError {
  constructor(message: string) {
    super("Usage", message);
  }
}

/** Formats bytes as the largest whole PostgreSQL memory unit ("6GB", "1536MB", "64kB"). */
export function formatMemory(bytes: number): string {
  for (const unit of ["TB", "GB", "MB", "kB"] as const) {
    const size = MEMORY_UNITS[unit]!;
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${Math.max(1, Math.round(bytes / 1024))}kB`;
}

/** Rounds bytes down to a whole number of MB (at least 1MB) and formats it. */
export function formatMemoryMB(bytes: number): string {
  return formatMemory(Math.max(1, Math.floor(bytes / MEMORY_UNITS.MB!)) * MEMORY_UNITS.MB!);
}

export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;

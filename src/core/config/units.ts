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

/** Parses "64MB" or a bare number (in `unit`) into bytes; undefined when it is not a memory value. */
export function parseMemory(value: string | number, unit: string): number | undefined {
  const base = memoryUnitBytes(unit);
  if (base === undefined) return undefined;
  if (typeof value === "number") return Number.isFinite(value) ? value * base : undefined;
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(B|kB|MB|GB|TB)?\s*$/.exec(value);
  if (!m) return undefined;
  return parseFloat(m[1]!) * (m[2] ? MEMORY_UNITS[m[2]]! : base);
}

/** Parses "200ms" or a bare number (in `unit`) into milliseconds. */
export function parseDuration(value: string | number, unit: string): number | undefined {
  const base = timeUnitMs(unit);
  if (base === undefined) return undefined;
  if (typeof value === "number") return Number.isFinite(value) ? value * base : undefined;
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$/.exec(value);
  if (!m) return undefined;
  return parseFloat(m[1]!) * (m[2] ? TIME_UNITS[m[2]]! : base);
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

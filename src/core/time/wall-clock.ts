/**
 * Moments as people read and type them, in the local time zone of the process that runs this: the
 * machine's for the CLI, the browser's for the dashboard (which loads this file as it is; it imports
 * nothing). One convention: shown with the zone's offset ("2026-10-25 02:30:00 +02:00"); typed with an
 * offset (RFC 3339: "2026-10-25T02:30:00+02:00", "…Z") it is exact; typed without one it is a local
 * wall-clock time, and one that happened twice (clocks going back) or never (clocks going forward) at
 * a daylight-saving change is refused with both readings or the gap named, never guessed.
 */

/** An offset after a time of day ("…14:30:00+02", "…14:30Z"); a bare date's "-01" is not one. */
const WITH_OFFSET = /\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/;
const WALL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?)?$/;
const MINUTE = 60_000;
const DAY = 86_400_000;

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** Whether a typed time carries its own offset (RFC 3339), so no zone is needed to read it. */
export function hasOffset(text: string): boolean {
  return WITH_OFFSET.test(text.trim());
}

/** "+02:00" for an offset east of UTC in minutes. */
export function formatOffset(minutes: number): string {
  const a = Math.abs(minutes);
  return `${minutes < 0 ? "-" : "+"}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** The local zone's offset from UTC at an instant, in minutes east. */
const offsetAt = (ms: number) => -new Date(ms).getTimezoneOffset();

/** The local zone's name (e.g. Europe/Berlin), for messages. */
export function localZoneName(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
}

/** A moment in the local zone with its offset: "2026-10-25 02:30:00 +02:00". */
export function formatWallClock(moment: Date | string | number): string {
  const d = new Date(moment);
  if (Number.isNaN(d.getTime())) return String(moment);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${formatOffset(offsetAt(d.getTime()))}`;
}

/** A moment as the API takes and returns it: RFC 3339 with the local zone's offset. */
export function rfc3339Local(moment: Date | number): string {
  const d = new Date(moment);
  const ms = d.getMilliseconds() ? `.${pad(d.getMilliseconds(), 3)}` : "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${ms}${formatOffset(offsetAt(d.getTime()))}`;
}

export type WallClockReading = { ok: true; at: Date } | { ok: false; problem: string };

/**
 * Reads a moment a user typed: with an offset, exactly; without one, as local wall-clock time,
 * refusing a time that happened twice or never in the local zone. `field` names what was typed
 * (a flag, a form field) in the message.
 */
export function readWallClock(text: string, field: string): WallClockReading {
  const typed = text.trim();
  if (WITH_OFFSET.test(typed)) {
    const at = new Date(typed.replace(" ", "T").replace(/([+-]\d{2})$/, "$1:00"));
    if (!Number.isNaN(at.getTime()) && /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(typed)) return { ok: true, at };
    return { ok: false, problem: `${field}: "${text}" is not a time; give one such as 2026-04-18 14:30:00 (local time) or 2026-04-18T14:30:00+02:00.` };
  }
  const m = WALL.exec(typed);
  if (!m) return { ok: false, problem: `${field}: "${text}" is not a time; give one such as 2026-04-18 14:30:00 (local time) or 2026-04-18T14:30:00+02:00.` };
  const [, y, mo, d, h = "00", mi = "00", s = "00", frac = "0"] = m;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(frac.padEnd(3, "0")));
  if (Number.isNaN(wall) || new Date(wall).getUTCDate() !== Number(d) || new Date(wall).getUTCMonth() !== Number(mo) - 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    return { ok: false, problem: `${field}: "${text}" is not a valid date and time.` };
  }
  // Every offset the zone uses around that day; a reading is one whose local wall clock shows `wall`.
  const offsets = [...new Set([offsetAt(wall - DAY), offsetAt(wall), offsetAt(wall + DAY)])];
  const readings = offsets
    .map((o) => wall - o * MINUTE)
    .filter((ms) => localWall(ms) === wall)
    .sort((a, b) => a - b);
  const zone = localZoneName();
  const shown = typed.replace("T", " ");
  if (readings.length === 1) return { ok: true, at: new Date(readings[0]!) };
  if (readings.length > 1) {
    const both = readings.map((ms) => rfc3339Local(ms)).join(" and ");
    return { ok: false, problem: `${field}: ${shown} happened twice in ${zone} (the clocks went back): ${both}. Give the one you mean with its offset.` };
  }
  const [before, after] = [Math.min(...offsets), Math.max(...offsets)];
  return {
    ok: false,
    problem: `${field}: ${shown} did not happen in ${zone}: the clocks went forward from ${formatOffset(before)} to ${formatOffset(after)}, skipping ${(after - before) / 60} h of wall-clock time. Give a time outside the gap, or one with its offset.`,
  };
}

/** The local wall clock at an instant, as if it were UTC (for comparing wall times). */
function localWall(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds());
}

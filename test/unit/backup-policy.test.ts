import { test } from "node:test";
import assert from "node:assert/strict";
import { nextOccurrence, retention, scheduledType } from "../../src/core/backup/policy.js";
import { DEFAULT_POLICY } from "../../src/core/config/backup-settings.js";
import type { BackupSummary } from "../../src/core/backup/catalog.js";

const DAY = 86_400_000;
function backup(label: string, type: BackupSummary["type"], daysAgo: number, now: Date): BackupSummary {
  const end = new Date(now.getTime() - daysAgo * DAY).toISOString();
  return { label, repo: 1, type, startedAt: end, endedAt: end, durationSeconds: 1, originalBytes: 1, repositoryBytes: 1, walStart: null, walStop: null, lsnStart: null, lsnStop: null };
}

test("next occurrence: later today, tomorrow, or on the given weekday", () => {
  const now = new Date(2026, 10, 22, 12, 0); // a Sunday, local time
  assert.deepEqual(nextOccurrence("13:30", now), new Date(2026, 10, 22, 13, 30));
  assert.deepEqual(nextOccurrence("01:00", now), new Date(2026, 10, 23, 1, 0));
  assert.deepEqual(nextOccurrence("03:00", now, "sunday"), new Date(2026, 10, 29, 3, 0));
  assert.deepEqual(nextOccurrence("03:00", now, "wednesday"), new Date(2026, 10, 25, 3, 0));
});

test("scheduled type: full on the full day or when no full exists, differential otherwise", () => {
  const now = new Date(2026, 10, 22, 1, 0);
  assert.equal(scheduledType(DEFAULT_POLICY, new Date(2026, 10, 22, 1, 0), [backup("F1", "full", 3, now)]), "full"); // Sunday
  assert.equal(scheduledType(DEFAULT_POLICY, new Date(2026, 10, 24, 1, 0), [backup("F1", "full", 3, now)]), "diff");
  assert.equal(scheduledType(DEFAULT_POLICY, new Date(2026, 10, 24, 1, 0), []), "full");
});

test("retention keeps 7 days of dailies, 4 weekly and 12 monthly fulls; dependents keep their base", () => {
  const now = new Date(2026, 10, 22, 12, 0);
  const backups: BackupSummary[] = [];
  // A full every Sunday for 20 weeks with differentials on the other days.
  for (let week = 20; week >= 0; week--) {
    const fullLabel = `F${String(week).padStart(2, "0")}`;
    backups.push(backup(fullLabel, "full", week * 7, now));
    for (let d = 1; d < 7 && week * 7 - d >= 0; d++) backups.push(backup(`${fullLabel}_D${d}`, "diff", week * 7 - d, now));
  }
  const decision = retention(backups, DEFAULT_POLICY, now);
  const kept = new Map(decision.keep.map((k) => [k.label, k.why]));
  // Everything from the last 7 days.
  for (const b of backups.filter((x) => now.getTime() - Date.parse(x.endedAt) <= 7 * DAY)) assert.ok(kept.has(b.label), b.label);
  // Weekly fulls within 4 weeks, not their old differentials.
  assert.match(kept.get("F03")!, /weekly/);
  assert.equal(kept.has("F03_D2"), false);
  // Beyond 4 weeks only the first full of each month remains.
  const old = decision.keep.filter((k) => /monthly/.test(k.why)).map((k) => k.label);
  assert.ok(old.length >= 3 && old.length <= 5, old.join());
  assert.ok(decision.expire.length > 80);
  // A differential inside the window keeps its full even if that full is old.
  const d = retention([backup("F1", "full", 40, now), backup("F1_D1", "diff", 2, now)], { ...DEFAULT_POLICY, keep_monthly_months: 0 }, now);
  assert.deepEqual(
    d.keep.map((k) => k.label),
    ["F1", "F1_D1"],
  );
  assert.match(d.keep[0]!.why, /needed by F1_D1/);
});

test("the newest backup is always kept, even with a zero policy", () => {
  const now = new Date();
  const zero = { ...DEFAULT_POLICY, keep_daily_days: 0, keep_weekly_weeks: 0, keep_monthly_months: 0 };
  const d = retention([backup("F1", "full", 3, now), backup("F2", "full", 2, now)], zero, now);
  assert.deepEqual(
    d.keep.map((k) => k.label),
    ["F2"],
  );
  assert.deepEqual(
    d.expire.map((k) => k.label),
    ["F1"],
  );
});

test("time targets are written the way pgBackRest and PostgreSQL read them; LSNs compare numerically", async () => {
  const { pgbackrestTime, compareLsn } = await import("../../src/core/backup/clone.js");
  assert.equal(pgbackrestTime(new Date("2026-11-22T03:18:33.047Z")), "2026-11-22 03:18:33.047+00");
  assert.equal(compareLsn("0/9000000", "0/10000000"), -1);
  assert.equal(compareLsn("1/0", "0/FFFFFFFF"), 1);
  assert.equal(compareLsn("0/3000060", "0/3000060"), 0);
});

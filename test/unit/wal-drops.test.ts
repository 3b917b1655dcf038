import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gapBackupDue, gapOpen, GAP_RETRY_MS, lastWalDrop, walDropsIn } from "../../src/core/backup/wal-drops.js";
import { parseConfig } from "../../src/core/config/config-file.js";
import { effectiveSettings } from "../../src/core/config/effective-settings.js";
import { GiB } from "../../src/core/config/units.js";
import { TuskError } from "../../src/core/errors.js";

/** WAL that pgBackRest dropped to stay under backups.archive_queue_max, read from its logs, and what the schedule does about it. */
const dir = mkdtempSync(join(tmpdir(), "tusk-wal-drops-"));
after(() => rmSync(dir, { recursive: true, force: true }));

// pgBackRest 2.45's words (archivePushDropWarning), as its archive-push logs carry them (in UTC: archive_command sets TZ).
const LOG = [
  "-------------------PROCESS START-------------------",
  "2026-12-06 21:10:03.101 P00   INFO: archive-push:async command begin 2.45: [/x/pg_wal] --archive-async",
  "2026-12-06 21:10:04.512 P00   WARN: dropped WAL file '000000010000000000000007' because archive queue exceeded 64MB",
  "2026-12-06 21:10:04.513 P00   WARN: dropped WAL file '000000010000000000000008' because archive queue exceeded 64MB",
  "2026-12-06 21:10:09.000 P00   WARN: could not push WAL file '000000010000000000000009' to the archive (will be retried)",
  "",
].join("\n");

test("the drops a pgBackRest log names: each segment, at its time (UTC, whatever the reader's zone)", () => {
  const drops = walDropsIn(LOG);
  assert.deepEqual(
    drops.map((d) => d.segment),
    ["000000010000000000000007", "000000010000000000000008"],
  );
  assert.equal(drops[0]!.at, "2026-12-06T21:10:04.512Z");
  assert.deepEqual(walDropsIn("2026-12-06 21:10:04.512 P00   INFO: pushed WAL file '000000010000000000000007' to the archive"), []);
});

test("the newest drop across the stanza's archive-push logs; none without logs", () => {
  writeFileSync(join(dir, "tusk-archive-push-async.log"), LOG);
  writeFileSync(join(dir, "tusk-archive-push.log"), "2026-12-06 21:11:00.000 P00   WARN: dropped WAL file '00000001000000000000000A' because archive queue exceeded 64MB\n");
  writeFileSync(join(dir, "other-archive-push.log"), "2026-12-07 00:00:00.000 P00   WARN: dropped WAL file '00000001000000000000000F' because archive queue exceeded 64MB\n");
  assert.equal(lastWalDrop(dir, "tusk")?.segment, "00000001000000000000000A", "another stanza's log is not read");
  assert.equal(lastWalDrop(join(dir, "missing"), "tusk"), null);
});

test("the gap stays open until a backup ends after the drop; the closing backup is tried again every minute", () => {
  const drop = { at: "2026-12-06T20:10:04.512Z", segment: "000000010000000000000008" };
  assert.equal(gapOpen(null, null), false);
  assert.equal(gapOpen(drop, null), true, "no backup at all");
  assert.equal(gapOpen(drop, "2026-12-06T20:00:00.000Z"), true, "the newest backup ended before the drop");
  assert.equal(gapOpen(drop, "2026-12-06T20:15:00.000Z"), false, "a backup after the drop closes it");
  const now = Date.parse("2026-12-06T20:20:00Z");
  assert.equal(gapBackupDue(drop, null, null, now), true);
  assert.equal(gapBackupDue(drop, null, now - GAP_RETRY_MS + 1000, now), false, "tried less than a minute ago");
  assert.equal(gapBackupDue(drop, null, now - GAP_RETRY_MS, now), true);
  assert.equal(gapBackupDue(drop, "2026-12-06T20:15:00.000Z", null, now), false);
});

test("backups.archive_queue_max: a size of at least 64MB becomes pgBackRest's archive-push-queue-max; none by default", () => {
  const host = { memoryBytes: 24 * GiB, cores: 2, ssd: true, storageWhy: "test", diskFreeBytes: 100 * GiB };
  const queueMax = (yaml: string) => effectiveSettings(parseConfig(yaml, "tusk.yaml"), host).pgbackrest.find((s) => s.name === "archive-push-queue-max");
  assert.equal(queueMax(""), undefined, "no limit unless asked: WAL waits, nothing is dropped");
  const set = queueMax("backups:\n  archive_queue_max: 4GB\n");
  assert.equal(set?.value, String(4 * GiB));
  assert.equal(set?.source, "override", "tusk.yaml asked for it");
  assert.match(set!.reason, /drops it instead of letting pg_wal fill the disk/);
  for (const bad of ["16MB", "lots", "-1"]) {
    assert.throws(
      () => parseConfig(`backups:\n  archive_queue_max: ${bad}\n`, "tusk.yaml"),
      (e: unknown) => e instanceof TuskError && /backups\.archive_queue_max: must be a size of at least 64MB/.test(`${e.message} ${e.detail ?? ""}`),
      bad,
    );
  }
});

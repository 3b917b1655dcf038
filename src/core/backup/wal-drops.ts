import { closeSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * WAL that pgBackRest dropped instead of archiving (`archive-push-queue-max`, tusk.yaml's
 * `backups.archive_queue_max`): while the repository is unreachable, WAL waiting for it past that
 * size is acknowledged to PostgreSQL and thrown away, so `pg_wal` cannot fill the disk. The archive
 * then has a gap: point-in-time recovery cannot cross it until a new backup starts after it.
 * pgBackRest says so only in its logs ("dropped WAL file '…' because archive queue exceeded …",
 * WARN, from the archive-push commands), which is where tusk reads it.
 */
export interface WalDrop {
  /** When it was logged (ISO 8601). */
  at: string;
  segment: string;
}

const DROP = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) P\d+\s+WARN: dropped WAL file '([0-9A-F]{24})' because archive queue exceeded/;

/**
 * The drops a pgBackRest log names, in its order. pgBackRest logs local time without a zone; the
 * archive command runs it in UTC (pgbackrest-config.ts, archiveCommand), so the times read as UTC.
 */
export function walDropsIn(text: string): WalDrop[] {
  const out: WalDrop[] = [];
  for (const line of text.split("\n")) {
    const m = DROP.exec(line);
    if (m) out.push({ at: new Date(`${m[1]}T${m[2]}Z`).toISOString(), segment: m[3]! });
  }
  return out;
}

/** How much of each log's end is read: a drop that matters is recent, and the logs only grow. */
const TAIL_BYTES = 256 * 1024;

function tail(file: string): string {
  const size = statSync(file).size;
  const length = Math.min(size, TAIL_BYTES);
  const buf = Buffer.alloc(length);
  const fd = openSync(file, "r");
  try {
    readSync(fd, buf, 0, length, size - length);
  } finally {
    closeSync(fd);
  }
  return buf.toString("utf8");
}

/** The newest drop in this host's archive-push logs (`<stanza>-archive-push*.log`), if any. */
export function lastWalDrop(logDir: string, stanza: string): WalDrop | null {
  let files: string[];
  try {
    files = readdirSync(logDir).filter((f) => f.startsWith(`${stanza}-archive-push`) && f.endsWith(".log"));
  } catch {
    return null; // no log yet
  }
  const drops = files.flatMap((f) => walDropsIn(tail(join(logDir, f))));
  return drops.reduce<WalDrop | null>((newest, d) => (newest === null || d.at > newest.at ? d : newest), null);
}

/** Whether a drop leaves a gap no backup has closed: it came after the newest backup ended. */
export const gapOpen = (drop: WalDrop | null, newestBackupEndedAt: string | null): boolean => drop !== null && (newestBackupEndedAt === null || Date.parse(drop.at) > Date.parse(newestBackupEndedAt));

/** How long the schedule waits between attempts at the backup that closes a gap (the repository may still be away; an attempt then fails within seconds). */
export const GAP_RETRY_MS = 60_000;

/**
 * Whether the schedule takes the backup that closes the archive's gap now: a gap is open, and the
 * last attempt (which fails while the repository is still unreachable) was long enough ago.
 */
export function gapBackupDue(drop: WalDrop | null, newestBackupEndedAt: string | null, lastAttemptAt: number | null, now: number): boolean {
  return gapOpen(drop, newestBackupEndedAt) && (lastAttemptAt === null || now - lastAttemptAt >= GAP_RETRY_MS);
}

import { readFileSync } from "node:fs";
import type pg from "pg";
import { readRemotePrimary } from "../cluster/remote-primary.js";
import { withRemoteNode } from "../cluster/remote-node.js";
import type { StatePaths } from "../state-dir.js";
import type { Pgbackrest, PgbackrestInfo } from "./pgbackrest.js";

export interface BackupSummary {
  label: string;
  /** The repository holding it: 1 on this machine, 2 the S3 repository. */
  repo: number;
  type: "full" | "diff" | "incr";
  startedAt: string;
  endedAt: string;
  durationSeconds: number;
  /** Size of the database files the backup covers. */
  originalBytes: number;
  /** What it takes in the repository (compressed; diff/incr only their changes). */
  repositoryBytes: number;
  walStart: string | null;
  walStop: string | null;
  lsnStart: string | null;
  lsnStop: string | null;
}

export interface ArchiverStatus {
  archivedCount: number;
  lastArchivedWal: string | null;
  lastArchivedAt: string | null;
  failedCount: number;
  lastFailedWal: string | null;
  lastFailedAt: string | null;
  currentLsn: string;
}

/** The span of time a restore can reach: from the end of the oldest backup to the last archived WAL. */
export interface RestoreWindow {
  from: string | null;
  to: string | null;
}

export interface BackupCatalog {
  /** pgBackRest's stanza status: 0 ok, 2 no backup yet; anything else means the repository cannot be read as it should. */
  status: { code: number; message: string } | null;
  backups: BackupSummary[];
  window: RestoreWindow;
  archiver: ArchiverStatus | null;
}

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

/** The backups of one repository, or of all, oldest first. */
export function summarize(info: PgbackrestInfo | undefined, repo: number | "all"): BackupSummary[] {
  const repoOf = (b: PgbackrestInfo["backup"][number]) => b.database?.["repo-key"] ?? 1;
  return (info?.backup ?? [])
    .filter((b) => repo === "all" || repoOf(b) === repo)
    .sort((a, b) => a.timestamp.start - b.timestamp.start)
    .map((b) => ({
      label: b.label,
      repo: repoOf(b),
      type: b.type,
      startedAt: iso(b.timestamp.start),
      endedAt: iso(b.timestamp.stop),
      durationSeconds: b.timestamp.stop - b.timestamp.start,
      originalBytes: b.info.size,
      repositoryBytes: b.info.repository.delta,
      walStart: b.archive.start,
      walStop: b.archive.stop,
      lsnStart: b.lsn?.start ?? null,
      lsnStop: b.lsn?.stop ?? null,
    }));
}

/** The primary's archiving figures, when the client reaches the primary; null on a replica. */
export async function archiverStatus(client: pg.Client): Promise<ArchiverStatus | null> {
  const sql = readFileSync(new URL("./sql/archiver.sql", import.meta.url), "utf8");
  const r = (await client.query(sql)).rows[0] as Record<string, unknown>;
  if (r.in_recovery === true) return null;
  const t = (v: unknown) => (v instanceof Date ? v.toISOString() : null);
  return {
    archivedCount: Number(r.archived_count),
    lastArchivedWal: (r.last_archived_wal as string | null) ?? null,
    lastArchivedAt: t(r.last_archived_time),
    failedCount: Number(r.failed_count),
    lastFailedWal: (r.last_failed_wal as string | null) ?? null,
    lastFailedAt: t(r.last_failed_time),
    currentLsn: String(r.current_lsn),
  };
}

/**
 * The window is what pgBackRest can replay: the oldest backup's end to the newest archived WAL
 * (pg_stat_archiver's last archived time, or the newest backup's end if that is later).
 */
export function restoreWindow(backups: BackupSummary[], archiver: ArchiverStatus | null): RestoreWindow {
  if (backups.length === 0) return { from: null, to: null };
  const ends = backups.map((b) => b.endedAt).sort();
  const lastArchived = archiver?.lastArchivedAt ?? null;
  const to = lastArchived && lastArchived > ends[ends.length - 1]! ? lastArchived : ends[ends.length - 1]!;
  return { from: ends[0]!, to };
}

/**
 * The catalog: every backup, the restorable window and the primary's archiving figures. Those are
 * read on this host's node through `superuser`; while that node is a replica of a primary on
 * another host (run/remote-primary.json), on that primary as the rewind role over TLS (any role
 * may read pg_stat_archiver); null when neither answers.
 */
export async function readCatalog(pgbackrest: Pgbackrest, superuser: pg.Client | undefined, paths: StatePaths): Promise<BackupCatalog> {
  const info = await pgbackrest.info();
  const backups = summarize(info, "all");
  let archiver = superuser ? await archiverStatus(superuser) : null;
  const remote = archiver ? undefined : readRemotePrimary(paths);
  if (remote) archiver = (await withRemoteNode(paths, remote.host, remote.port, archiverStatus)) ?? null;
  return { status: info?.status ?? null, backups, window: restoreWindow(backups, archiver), archiver };
}

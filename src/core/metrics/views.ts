import type { Sample } from "./sample.js";
import { Snapshot } from "./sample.js";

export interface TableRow {
  schema: string;
  table: string;
  sizeBytes: number;
  liveTuples: number;
  deadTuples: number;
  deadPercent: number;
  writes: number;
  seqScans: number;
  /** Seconds since the last (auto)vacuum; counted from the server's start when there was none. */
  vacuumAgeSeconds: number | null;
  analyzeAgeSeconds: number | null;
}

export interface IndexRow {
  schema: string;
  table: string;
  index: string;
  unique: boolean;
  sizeBytes: number;
  scans: number;
  /** Never scanned and not enforcing uniqueness: a candidate to drop. */
  unused: boolean;
}

/** The tables of the latest collection, largest first. */
export function tableRows(samples: readonly Sample[]): TableRow[] {
  const snap = new Snapshot(new Date(), samples);
  return snap
    .all("pg_table_size_bytes")
    .map((s) => {
      const v = (name: string) => snap.value(name, s.labels);
      return {
        schema: s.labels.schema!,
        table: s.labels.table!,
        sizeBytes: s.value,
        liveTuples: v("pg_table_live_tuples") ?? 0,
        deadTuples: v("pg_table_dead_tuples") ?? 0,
        deadPercent: 100 * (v("pg_table_dead_ratio") ?? 0),
        writes: v("pg_table_writes_total") ?? 0,
        seqScans: v("pg_table_seq_scans_total") ?? 0,
        vacuumAgeSeconds: v("pg_table_vacuum_age_seconds") ?? null,
        analyzeAgeSeconds: v("pg_table_analyze_age_seconds") ?? null,
      };
    })
    .sort((a, b) => b.sizeBytes - a.sizeBytes);
}

/** The indexes of the latest collection, unused ones first, then by size. */
export function indexRows(samples: readonly Sample[]): IndexRow[] {
  const snap = new Snapshot(new Date(), samples);
  return snap
    .all("pg_index_size_bytes")
    .map((s) => {
      const scans = snap.value("pg_index_scans_total", s.labels) ?? 0;
      const unique = s.labels.unique === "true";
      return { schema: s.labels.schema!, table: s.labels.table!, index: s.labels.index!, unique, sizeBytes: s.value, scans, unused: scans === 0 && !unique };
    })
    .sort((a, b) => Number(b.unused) - Number(a.unused) || b.sizeBytes - a.sizeBytes);
}

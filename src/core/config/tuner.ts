import type { HostFacts } from "./host-facts.js";
import { GiB, MiB, formatMemoryMB } from "./units.js";

/** One generated setting: its value and the reason it was chosen, shown by `tusk config show`. */
export interface TunedSetting {
  name: string;
  value: string;
  reason: string;
  source: "tuned" | "required" | "override";
}

export interface TunerInput {
  host: HostFacts;
  /** The database pg_cron keeps its jobs in (the application database). */
  cronDatabase: string;
}

/** One row of a settings table: value, reason, and where it came from. */
export function setting(name: string, value: string | number, reason: string, source: TunedSetting["source"] = "tuned"): TunedSetting {
  return { name, value: String(value), reason, source };
}

/** Libraries that must be preloaded; a user's shared_preload_libraries override is added to these. */
export const REQUIRED_PRELOAD = ["pg_stat_statements", "pg_cron"] as const;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/**
 * PostgreSQL settings derived from the host. Each rule states why, so the table can be read as a
 * tuning guide. Sources: PostgreSQL docs ch. 20 (Server Configuration); pgvector README (index build
 * memory and parallel builds); measurements in STACK-NOTES (HNSW builds spilling a 64 MB
 * maintenance_work_mem; TOASTed vectors hiding the heap's size from the parallel-worker planner).
 */
export function tunePostgres({ host, cronDatabase }: TunerInput): TunedSetting[] {
  const ram = host.memoryBytes;
  const cores = host.cores;
  const maxConnections = 100;
  const sharedBuffers = clamp(ram * 0.25, 128 * MiB, 64 * GiB);
  const workMem = clamp((ram - sharedBuffers) / (maxConnections * 4), 4 * MiB, 256 * MiB);
  const maintenanceWorkMem = clamp(ram / 10, 64 * MiB, 4 * GiB);
  const parallelMaintenance = Math.max(1, Math.floor(cores / 2));
  const parallelPerGather = Math.max(1, Math.floor(cores / 2));
  const t = setting;
  return [
    // Connections and memory
    t("max_connections", maxConnections, "PgBouncer multiplexes thousands of clients onto a few server connections; 100 keeps per-connection memory bounded."),
    t("shared_buffers", formatMemoryMB(sharedBuffers), `25% of ${formatMemoryMB(ram)} RAM: the usual starting point; the OS page cache holds the rest.`),
    t("effective_cache_size", formatMemoryMB(ram * 0.75), "75% of RAM: tells the planner how much of the data is likely cached (shared_buffers + page cache), favouring index scans."),
    t("work_mem", formatMemoryMB(workMem), `(RAM − shared_buffers) / (max_connections × 4): room for sorts and hashes without risking memory exhaustion when many run at once.`),
    t("maintenance_work_mem", formatMemoryMB(maintenanceWorkMem), "10% of RAM (up to 4GB): an HNSW index build keeps its graph in this memory; at 64MB a 100k×768 build spills and runs ~4× slower."),
    t(
      "autovacuum_work_mem",
      formatMemoryMB(Math.min(maintenanceWorkMem, 512 * MiB)),
      "Caps each autovacuum worker so maintenance_work_mem sized for index builds is not multiplied by autovacuum_max_workers.",
    ),
    t("huge_pages", "try", "Use huge pages for shared_buffers when the kernel offers them; start anyway when it does not."),
    // Parallelism
    t("max_worker_processes", Math.max(16, cores * 2 + 8), "Room for parallel workers, pg_cron background-worker jobs and logical replication."),
    t("max_parallel_workers", cores, `One parallel worker per core (${cores}).`),
    t("max_parallel_workers_per_gather", parallelPerGather, "Half the cores per query, leaving the rest for concurrent queries."),
    t("max_parallel_maintenance_workers", parallelMaintenance, "CREATE INDEX (B-tree and pgvector HNSW/IVFFlat) builds with parallel workers."),
    t("min_parallel_table_scan_size", "1MB", "768-dimension vectors live in TOAST, so a 100k-row table's heap is ~5MB; at the 8MB default the planner gives an HNSW build no parallel workers."),
    // Storage
    t(
      "random_page_cost",
      host.ssd ? "1.1" : "4",
      host.ssd ? `SSD (${host.storageWhy}): random reads cost about as much as sequential ones, so index scans are priced fairly.` : `Rotational disk (${host.storageWhy}): PostgreSQL's default.`,
    ),
    t("effective_io_concurrency", host.ssd ? 200 : 2, host.ssd ? "SSD: many concurrent reads in flight for bitmap heap scans." : "Rotational disk: few concurrent reads help."),
    t("maintenance_io_concurrency", host.ssd ? 200 : 10, "As effective_io_concurrency, for maintenance work."),
    // WAL and checkpoints
    t("wal_level", "replica", "Needed for streaming replicas and point-in-time recovery.", "required"),
    t("wal_compression", "lz4", "Compresses full-page images in WAL: less WAL to write, archive and replicate at little CPU cost."),
    t("wal_log_hints", "on", "pg_rewind needs it to bring a former primary back as a replica.", "required"),
    t("max_wal_senders", 10, "Streaming replicas and backups each use one.", "required"),
    t("max_replication_slots", 10, "One slot per replica keeps the WAL it still needs.", "required"),
    t("hot_standby", "on", "Replicas serve read-only queries.", "required"),
    t("archive_mode", "on", "Every WAL segment goes to the backup repository (pgBackRest), for point-in-time recovery.", "required"),
    t("archive_timeout", "60s", "Even an idle database ships its WAL within a minute, bounding what a restore to 'now' can miss."),
    t("checkpoint_completion_target", "0.9", "Spreads checkpoint writes over 90% of the interval to avoid I/O spikes."),
    t("checkpoint_timeout", "15min", "Fewer checkpoints and full-page writes than the 5min default; crash recovery stays short."),
    t(
      "max_wal_size",
      `${Math.round(clamp(host.diskFreeBytes * 0.05, 1 * GiB, 16 * GiB) / GiB)}GB`,
      "5% of free disk, in whole GB (1–16GB): checkpoints are then triggered by time, not by WAL volume, under normal load.",
    ),
    t("min_wal_size", "1GB", "Keeps recycled WAL segments instead of creating new files after a burst."),
    // Planner and execution
    t("jit", "off", "JIT compilation costs tens of milliseconds per query and rarely pays off for OLTP or vector search."),
    t("default_statistics_target", 100, "PostgreSQL's default; raise per column where estimates are poor."),
    // Logging
    t("logging_collector", "on", "Server log goes to files in the state directory, rotated daily.", "required"),
    t("log_filename", "postgresql-%a.log", "One file per weekday, truncated on rotation: a week of logs.", "required"),
    t("log_truncate_on_rotation", "on", "Reuse weekday log files instead of growing without bound.", "required"),
    t("log_rotation_age", "1d", "Start a new log file every day, so each weekday file holds one day.", "required"),
    t("log_line_prefix", "%m [%p] %q%u@%d ", "Timestamp, PID, user and database on every line."),
    t("log_min_duration_statement", "200ms", "Logs slow statements with their text."),
    t("log_lock_waits", "on", "Logs waits longer than deadlock_timeout: shows who blocks whom."),
    t("log_temp_files", 0, "Logs every temporary file: a sign work_mem is too small for a query."),
    t("log_checkpoints", "on", "Shows whether checkpoints are timed or forced by WAL volume."),
    t("log_autovacuum_min_duration", "10s", "Logs slow autovacuum runs."),
    t("track_io_timing", "on", "I/O timing in EXPLAIN (ANALYZE, BUFFERS) and pg_stat_statements; cheap on modern clocks."),
    // Sessions
    t("idle_in_transaction_session_timeout", "5min", "A session idle inside a transaction holds locks, blocks vacuum and pins a pooled connection; end it after 5 minutes."),
    t("password_encryption", "scram-sha-256", "SCRAM verifiers only, never MD5.", "required"),
    // Autovacuum for busy tables
    t("autovacuum_max_workers", 3, "PostgreSQL's default; with higher cost limits each worker finishes sooner."),
    t("autovacuum_naptime", "30s", "Visit each database twice a minute so busy tables are vacuumed promptly."),
    t("autovacuum_vacuum_scale_factor", "0.05", "Vacuum after 5% of a table changes (default 20%): large busy tables do not bloat."),
    t("autovacuum_vacuum_insert_scale_factor", "0.05", "Vacuum insert-only tables (time series) after 5% growth, setting visibility bits for index-only scans."),
    t("autovacuum_analyze_scale_factor", "0.02", "Re-analyze after 2% of a table changes, keeping planner statistics fresh."),
    t("autovacuum_vacuum_cost_limit", 2000, "Ten times the default I/O budget: on SSDs vacuum can keep up with busy tables."),
    // Extensions
    t("shared_preload_libraries", REQUIRED_PRELOAD.join(","), "pg_stat_statements (query statistics) and pg_cron (scheduled jobs) must load at server start.", "required"),
    t("pg_stat_statements.max", 10000, "Keeps statistics for up to 10,000 normalised queries."),
    t("pg_stat_statements.track", "top", "Top-level statements, as clients send them."),
    t("cron.database_name", cronDatabase, "pg_cron keeps its job table in the application database.", "required"),
    t("cron.use_background_workers", "on", "Jobs run in background workers rather than over a libpq connection that would need a password.", "required"),
    t("cron.max_running_jobs", 5, "Bounded by max_worker_processes; five concurrent jobs."),
  ];
}

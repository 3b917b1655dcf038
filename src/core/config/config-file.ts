import { DEFAULT_ALERTS, DEFAULT_MONITORING, readAlerts, readMonitoring, type AlertSettings, type MonitoringSettings } from "./monitoring-settings.js";
import { existsSync, readFileSync } from "node:fs";
import { parse } from "yaml";
import { TuskError } from "../errors.js";
import { parseMemory, sizeOf } from "./units.js";
import { DEFAULT_PORTS, type PortName } from "../endpoints.js";
import { checkAgainstSpec, checkPostgresSetting, suggestName, type SettingValue } from "./postgres-settings.js";
import { PGBOUNCER_SETTINGS } from "./pgbouncer-settings.js";
import { readS3Repository, type S3Repository } from "./s3-repository.js";
import { DEFAULT_POLICY, MIN_ARCHIVE_QUEUE_MAX, WEEKDAYS, type BackupPolicy, type Weekday } from "./backup-settings.js";

/** tusk.yaml, after validation. Every key is optional in the file. */
export interface TuskConfig {
  cluster_name: string;
  database: string;
  listen_address: string;
  ports: Record<PortName, number>;
  postgresql: Record<string, string>;
  pgbouncer: Record<string, string>;
  backups: BackupPolicy;
  /** The optional off-machine repository, from `backups.s3`. */
  s3: S3Repository | null;
  /** Streaming replicas on this machine, besides the first node. */
  replicas: number;
  /** sync: one synchronous standby, writes go on without one if none is left; strict: writes wait for one; async. */
  replication_mode: "sync" | "strict" | "async";
  /** Bytes of WAL a replica may be behind and still serve the read-only endpoint. */
  read_only_max_lag: number;
  monitoring: MonitoringSettings;
  alerts: AlertSettings;
}

export const DEFAULT_CONFIG: TuskConfig = {
  cluster_name: "tusk",
  database: "app",
  listen_address: "127.0.0.1",
  ports: { ...DEFAULT_PORTS },
  postgresql: {},
  pgbouncer: {},
  backups: { ...DEFAULT_POLICY },
  s3: null,
  replicas: 0,
  replication_mode: "sync",
  read_only_max_lag: 16 * 1024 * 1024,
  monitoring: { ...DEFAULT_MONITORING },
  alerts: { ...DEFAULT_ALERTS },
};

/** Settings tusk itself manages; overriding them would break the cluster it runs. */
export const TUSK_OWNED_POSTGRES_SETTINGS = new Set([
  "port",
  "listen_addresses",
  "data_directory",
  "hba_file",
  "ident_file",
  "config_file",
  "unix_socket_directories",
  "log_directory",
  "archive_mode",
  "archive_command",
  "restore_command",
  "primary_conninfo",
  "primary_slot_name",
  "cluster_name",
  "wal_level",
  "hot_standby",
  "password_encryption",
  "logging_collector",
  "cron.database_name",
  "ssl",
  "ssl_cert_file",
  "ssl_key_file",
]);

/** Replicas on one machine share its cores and memory; beyond a handful they only compete. */
export const MAX_REPLICAS = 4;

const TOP_LEVEL_KEYS = Object.keys(DEFAULT_CONFIG).filter((k) => k !== "s3");
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function describeType(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "a list" : typeof v;
}

/**
 * Parses and validates tusk.yaml text. All problems are reported at once, each naming its key.
 */
export function parseConfig(text: string, source: string): TuskConfig {
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (e) {
    throw new TuskError("InvalidConfig", `${source} is not valid YAML: ${(e as Error).message.split("\n")[0]}`, {
      hint: `Fix the syntax in ${source}, then run the command again.`,
    });
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new TuskError("InvalidConfig", `${source} must be a mapping of settings, not ${describeType(raw)}.`, {
      hint: "See `tusk config show` for the keys it accepts.",
    });
  }
  const problems: string[] = [];
  const config: TuskConfig = structuredClone(DEFAULT_CONFIG);
  const input = raw as Record<string, unknown>;
  for (const [key, value] of Object.entries(input)) {
    if (!TOP_LEVEL_KEYS.includes(key)) {
      problems.push(`${key}: not a tusk setting.${suggestName(key, TOP_LEVEL_KEYS)} Known: ${TOP_LEVEL_KEYS.join(", ")}.`);
      continue;
    }
    switch (key) {
      case "cluster_name":
      case "database":
        if (typeof value !== "string" || !IDENTIFIER.test(value)) problems.push(`${key}: must be a lower-case identifier (letters, digits, _), not ${JSON.stringify(value)}.`);
        else config[key] = value;
        break;
      case "listen_address":
        if (typeof value !== "string" || !/^[0-9a-fA-F.:*]+$|^localhost$/.test(value)) problems.push(`listen_address: must be an IP address, not ${JSON.stringify(value)}.`);
        else config.listen_address = value;
        break;
      case "ports":
        readPorts(value, config, problems);
        break;
      case "postgresql":
      case "pgbouncer":
        readSettings(key, value, config, problems);
        break;
      case "replicas":
        if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_REPLICAS)
          problems.push(`replicas: must be a whole number from 0 to ${MAX_REPLICAS}, not ${JSON.stringify(value)}.`);
        else config.replicas = value;
        break;
      case "replication_mode":
        if (value !== "sync" && value !== "strict" && value !== "async") problems.push(`replication_mode: must be sync, strict or async, not ${JSON.stringify(value)}.`);
        else config.replication_mode = value;
        break;
      case "read_only_max_lag": {
        try {
          config.read_only_max_lag = sizeOf(value, "read_only_max_lag");
        } catch (e) {
          problems.push((e as Error).message);
        }
        break;
      }
      case "monitoring":
        config.monitoring = readMonitoring(value, problems);
        break;
      case "alerts":
        config.alerts = readAlerts(value, problems);
        break;
      case "backups":
        readBackupPolicy(value, config, problems);
        break;
    }
  }
  if (problems.length) {
    throw new TuskError("InvalidConfig", `${source} has ${problems.length === 1 ? "a problem" : `${problems.length} problems`}:`, {
      detail: problems.join("\n"),
      hint: `Correct ${source}, then run the command again. \`tusk config show\` lists every setting with its value.`,
    });
  }
  return config;
}

function readPorts(value: unknown, config: TuskConfig, problems: string[]): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push(`ports: must be a mapping such as { pooler: 6432 }, not ${describeType(value)}.`);
    return;
  }
  const names = Object.keys(DEFAULT_PORTS);
  for (const [name, port] of Object.entries(value)) {
    if (!names.includes(name)) {
      problems.push(`ports.${name}: not a tusk port.${suggestName(name, names)} Known: ${names.join(", ")}.`);
    } else if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
      problems.push(`ports.${name}: must be a whole number from 1 to 65535, not ${JSON.stringify(port)}.`);
    } else {
      config.ports[name as PortName] = port;
    }
  }
  const seen = new Map<number, string>();
  for (const [name, port] of Object.entries(config.ports)) {
    const other = seen.get(port);
    if (other) problems.push(`ports.${name}: ${port} is also ports.${other}; each service needs its own port.`);
    seen.set(port, name);
  }
}

function readBackupPolicy(value: unknown, config: TuskConfig, problems: string[]): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push(`backups: must be a mapping such as { keep_daily_days: 7 }, not ${describeType(value)}.`);
    return;
  }
  const keys = Object.keys(DEFAULT_POLICY);
  for (const [k, v] of Object.entries(value)) {
    if (k === "s3") {
      config.s3 = readS3Repository(v, problems);
    } else if (!keys.includes(k)) {
      problems.push(`backups.${k}: not a backup setting.${suggestName(k, [...keys, "s3"])} Known: ${keys.join(", ")}, s3.`);
    } else if (k === "time" || k === "drill_time") {
      if (typeof v !== "string" || !/^([01]\d|2[0-3]):[0-5]\d$/.test(v)) problems.push(`backups.${k}: must be a time of day as HH:MM (24-hour), not ${JSON.stringify(v)}.`);
      else config.backups[k] = v;
    } else if (k === "archive_queue_max") {
      const bytes = v === null ? null : typeof v === "string" || typeof v === "number" ? parseMemory(v) : undefined;
      if (bytes === undefined || (bytes !== null && (!Number.isInteger(bytes) || bytes < MIN_ARCHIVE_QUEUE_MAX)))
        problems.push(`backups.archive_queue_max: must be a size of at least 64MB (such as 4GB), or null for no limit, not ${JSON.stringify(v)}.`);
      else config.backups.archive_queue_max = bytes;
    } else if (k === "full_day" || k === "drill_day") {
      const day = String(v).toLowerCase();
      if (!(WEEKDAYS as readonly string[]).includes(day)) problems.push(`backups.${k}: must be a day of the week (${WEEKDAYS.join(", ")}), not ${JSON.stringify(v)}.`);
      else config.backups[k] = day as Weekday;
    } else if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 3650) {
      problems.push(`backups.${k}: must be a whole number from 0 to 3650, not ${JSON.stringify(v)}.`);
    } else {
      (config.backups as unknown as Record<string, number>)[k] = v;
    }
  }
}

function readSettings(section: "postgresql" | "pgbouncer", value: unknown, config: TuskConfig, problems: string[]): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push(`${section}: must be a mapping of setting: value, not ${describeType(value)}.`);
    return;
  }
  for (const [name, v] of Object.entries(value)) {
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
      problems.push(`${section}.${name}: must be a single value, not ${describeType(v)}.`);
      continue;
    }
    if (section === "postgresql" && TUSK_OWNED_POSTGRES_SETTINGS.has(name)) {
      problems.push(`postgresql.${name}: is managed by tusk and cannot be overridden.`);
      continue;
    }
    const checked =
      section === "postgresql"
        ? checkPostgresSetting(name, v as SettingValue)
        : PGBOUNCER_SETTINGS.has(name)
          ? checkAgainstSpec(PGBOUNCER_SETTINGS.get(name)!, v as SettingValue)
          : { ok: false as const, problem: `is not a PgBouncer setting tusk lets you change.${suggestName(name, PGBOUNCER_SETTINGS.keys())}` };
    if (checked.ok) config[section][name] = checked.value;
    else problems.push(`${section}.${name}: ${checked.problem}`);
  }
}

/** Reads the configuration file; a missing file means all defaults. */
export function loadConfig(path: string): TuskConfig {
  if (!existsSync(path)) return structuredClone(DEFAULT_CONFIG);
  return parseConfig(readFileSync(path, "utf8"), path);
}

export const CONFIG_TEMPLATE = `# tusk configuration. Every key is optional; \`tusk config show\` prints the result
# with the reason for each generated value. Changes apply on the next \`tusk up\`.
#
# cluster_name: tusk
# database: app                 # the application database
# listen_address: 127.0.0.1     # where the pooler and PostgreSQL listen
# ports:
#   postgres: 5432
#   pooler: 6432
#   patroni: 8008
#   etcd_client: 2379
#   etcd_peer: 2380
#   api: 8432
# postgresql:                   # overrides of tusk's tuned PostgreSQL settings
#   work_mem: 64MB
# pgbouncer:                    # overrides of tusk's PgBouncer settings
#   default_pool_size: 20
# replicas: 0                   # streaming replicas on this machine (tusk scale --replicas N)
# replication_mode: sync        # sync (one synchronous standby), strict (writes wait for one), async
# backups:                      # schedule and retention (local time)
#   time: "01:00"               # daily backup: full on full_day, differential otherwise
#   full_day: sunday
#   keep_daily_days: 7
#   keep_weekly_weeks: 4
#   keep_monthly_months: 12
#   drill_day: sunday           # weekly restore drill
#   drill_time: "03:00"
#   archive_queue_max: 4GB      # WAL waiting for an unreachable repository beyond this is dropped (a gap; default: no limit)
#   s3:                         # optional second repository, off this machine
#     endpoint: s3.eu-central-1.amazonaws.com   # host[:port], HTTPS
#     bucket: my-backups
#     region: eu-central-1
#     uri_style: host           # "path" for most S3-compatible servers
#     access_key_id: AKIA...
#     secret_access_key_file: /root/tusk-s3.key  # chmod 600
#     only: false               # true: S3 is the only repository (no local one; WAL from every host goes there)
`;

import { existsSync, readFileSync } from "node:fs";

/**
 * What tusk needs on the machine, and how each piece is checked. Paths here are Debian's standard
 * locations plus the prefix tusk builds into; nothing machine-specific.
 */
export const PG_MAJOR = 15;
export const PG_BIN_DIR = `/usr/lib/postgresql/${PG_MAJOR}/bin`;
export const PG_CONFIG = `${PG_BIN_DIR}/pg_config`;
export const PG_EXTENSION_DIR = `/usr/share/postgresql/${PG_MAJOR}/extension`;
/** Where tusk installs what it builds from source (PgBouncer ≥ 1.21). */
export const TUSK_PREFIX = "/usr/local/lib/tusk";
export const PGBOUNCER_BIN = `${TUSK_PREFIX}/pgbouncer/bin/pgbouncer`;
export const PATRONI_BIN = "/usr/bin/patroni";
export const ETCD_BIN = "/usr/bin/etcd";
export const PSQL_BIN = `${PG_BIN_DIR}/psql`;
export const PGBACKREST_BIN = "/usr/bin/pgbackrest";
export const HAPROXY_BIN = "/usr/sbin/haproxy";
/** The install log is machine-wide: packages serve every cluster on the machine. */
export const INSTALL_LOG = "/var/log/tusk/install.log";

/** Debian bookworm packages tusk runs on. */
export const RUNTIME_PACKAGES = [
  `postgresql-${PG_MAJOR}`,
  "postgresql-contrib",
  `postgresql-${PG_MAJOR}-partman`,
  `postgresql-${PG_MAJOR}-cron`,
  `postgresql-${PG_MAJOR}-hypopg`,
  "patroni",
  "python3-psycopg2",
  "python3-etcd", // Patroni's client for etcd's v2 protocol (see processes/etcd.ts)
  "python3-idna", // urllib3 needs it for https: Patroni reaching etcd over TLS once converted for the network
  "etcd-server",
  "etcd-client",
  "pgbackrest",
  "haproxy",
  "openssl",
  "procps",
  "util-linux",
] as const;

/** What the test suite drives besides tusk's own stack: a real Prometheus to scrape /metrics, and a headless browser for the dashboard. */
export const TEST_PACKAGES = ["prometheus", "chromium"] as const;
export const PROMETHEUS_BIN = "/usr/bin/prometheus";
export const CHROMIUM_BIN = "/usr/bin/chromium";

/** What building pgvector and PgBouncer from Debian's source packages needs. */
export const BUILD_PACKAGES = ["build-essential", `postgresql-server-dev-${PG_MAJOR}`, "dpkg-dev", "libevent-dev", "libssl-dev", "libc-ares-dev", "pkgconf"] as const;

/** A Debian source package of the next release, built against this machine's PostgreSQL. */
export interface SourceComponent {
  /** Debian source package name. */
  sourcePackage: string;
  /** The suite to take it from. */
  suite: string;
  minimumVersion: string;
  installedVersion(): string | undefined;
}

function versionFromControl(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  const m = /default_version\s*=\s*'([^']+)'/.exec(readFileSync(path, "utf8"));
  return m?.[1];
}

/** Extensions whose builds must match across a cluster's data hosts (a replica runs the primary's catalog). */
export const MATCHED_EXTENSIONS = ["vector", "pg_partman", "postgis"] as const;

/** The installed build of each matched extension (its control file's default_version); absent ones are left out. */
export function extensionBuilds(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of MATCHED_EXTENSIONS) {
    const version = versionFromControl(`${PG_EXTENSION_DIR}/${name}.control`);
    if (version) out[name] = version;
  }
  return out;
}

function versionFromFile(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, "utf8").trim() : undefined;
}

export const PGVECTOR: SourceComponent = {
  sourcePackage: "pgvector",
  suite: "trixie",
  minimumVersion: "0.8.0",
  installedVersion: () => versionFromControl(`${PG_EXTENSION_DIR}/vector.control`),
};

export const PGBOUNCER: SourceComponent = {
  sourcePackage: "pgbouncer",
  suite: "trixie",
  minimumVersion: "1.21.0",
  installedVersion: () => (existsSync(PGBOUNCER_BIN) ? versionFromFile(`${TUSK_PREFIX}/pgbouncer/VERSION`) : undefined),
};

/** Compares dotted numeric versions ("1.24.1" vs "1.21.0"). */
export function versionAtLeast(version: string, minimum: string): boolean {
  const a = version.split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  const b = minimum.split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

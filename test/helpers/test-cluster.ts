import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, writeFileSync, rmSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { stringify } from "yaml";
import pg from "pg";
import type { ConnectionStrings } from "../../src/core/cluster/connection-strings.js";
import { runCli, type CliResult } from "./cli.js";
import { freePortSet as freePorts } from "../../src/core/cluster/free-ports.js";
import type { PortName } from "../../src/core/endpoints.js";

/**
 * A real tusk cluster for one test file: its own state directory and free ports, so tests run beside
 * a user's cluster. Memory settings are overridden small so several test clusters fit at once.
 */
export class TestCluster {
  private constructor(
    readonly stateDir: string,
    readonly ports: Record<PortName, number>,
    readonly urls: ConnectionStrings,
    /** The command prefix that runs every tusk command of this cluster on its test host (netns.ts), if any. */
    readonly via?: string[],
  ) {}

  /**
   * `beforeUp` runs once the state directory exists, before `tusk up` (a test mounting a filesystem in
   * it). With `via` (a test host, netns.ts) every command runs there, and tusk.yaml is written there
   * too: the state directory may be private to the host's mount namespace.
   */
  static async start(
    name: string,
    extraConfig: Record<string, unknown> = {},
    beforeUp?: (stateDir: string) => void,
    via?: string[],
    stateDir = mkdtempSync(join(tmpdir(), `tusk-${name}-`)),
  ): Promise<TestCluster> {
    const ports = await freePorts();
    if (via) execFileSync(via[0]!, [...via.slice(1), "sh", "-c", `mkdir -p '${stateDir}' && cat > '${stateDir}/tusk.yaml'`], { input: testConfigText(ports, extraConfig) });
    else writeTestConfig(stateDir, ports, extraConfig);
    beforeUp?.(stateDir);
    const up = await runCli(["--state-dir", stateDir, "up", "--json"], { via });
    if (up.code !== 0) throw new Error(`tusk up failed (${up.code}):\n${up.stderr}\n${up.stdout}`);
    return new TestCluster(stateDir, ports, JSON.parse(up.stdout) as ConnectionStrings, via);
  }

  cli(...args: string[]): Promise<CliResult> {
    return runCli(["--state-dir", this.stateDir, ...args], { via: this.via });
  }

  /** A connection string for `user` through the pooler's transaction or session entry, or direct. */
  url(kind: "pooled" | "session" | "direct", role: "app" | "owner" = "app"): string {
    const base = new URL(role === "owner" ? this.urls.migrations : this.urls.direct);
    if (kind !== "direct") base.port = String(this.ports.pooler);
    if (kind === "session") base.pathname = `${base.pathname}_session`;
    return base.toString();
  }

  pool(kind: "pooled" | "session" | "direct", role: "app" | "owner" = "app", max = 10): pg.Pool {
    return new pg.Pool({ connectionString: this.url(kind, role), max });
  }

  async query<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult<T>> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await client.query<T>(text, values);
    } finally {
      await client.end();
    }
  }

  /** Stops and deletes the cluster and any clones made from it. */
  /** With TUSK_TEST_KEEP_LOGS=DIR, the cluster's logs are copied to DIR/<state dir name> first. */
  async destroy(): Promise<void> {
    const keep = process.env.TUSK_TEST_KEEP_LOGS;
    if (keep && existsSync(join(this.stateDir, "log"))) cpSync(join(this.stateDir, "log"), join(keep, basename(this.stateDir)), { recursive: true });
    const clones = `${this.stateDir}-clones`;
    if (existsSync(clones)) {
      for (const name of readdirSync(clones)) await runCli(["--state-dir", join(clones, name), "destroy", "--yes"], { via: this.via });
      rmSync(clones, { recursive: true, force: true });
    }
    // On a test host the state directory may be visible only there: ask there.
    if (this.via || existsSync(this.stateDir)) await this.cli("destroy", "--yes");
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}

export function writeTestConfig(stateDir: string, ports: Record<PortName, number>, extra: Record<string, unknown> = {}): void {
  writeFileSync(join(stateDir, "tusk.yaml"), testConfigText(ports, extra));
}

function testConfigText(ports: Record<PortName, number>, extra: Record<string, unknown>): string {
  const { postgresql, ...rest } = extra as { postgresql?: Record<string, unknown> };
  return stringify({ ports, postgresql: { shared_buffers: "256MB", maintenance_work_mem: "256MB", ...(postgresql ?? {}) }, ...rest });
}

import { chmodSync, chownSync, mkdirSync, rmSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { PG_BIN_DIR, PGBACKREST_BIN } from "../install/components.js";
import { run, tail } from "../exec.js";
import { TuskError } from "../errors.js";
import type { OsUser } from "../os-user.js";
import { freePortSet } from "../cluster/free-ports.js";

/**
 * A throw-away PostgreSQL restored from a cluster's repository, for drills: Unix socket only,
 * archiving off (it must never push WAL into the source's repository), pg_cron not loaded (no
 * scheduled job may run in it), logs in its own directory. Stopped immediately and deleted after use.
 */
export class ScratchPostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly user: OsUser,
  ) {}

  get dataDir(): string {
    return join(this.dir, "data");
  }

  static async restore(dir: string, user: OsUser, pgbackrestArgs: string[]): Promise<ScratchPostgres> {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o700);
    chownSync(dir, user.uid, user.gid);
    const scratch = new ScratchPostgres(dir, (await freePortSet()).postgres, user);
    const r = await run(PGBACKREST_BIN, [...pgbackrestArgs, `--pg1-path=${scratch.dataDir}`, `--log-path=${dir}`, `--lock-path=${dir}`, "--archive-mode=off", "restore"], {
      uid: user.uid,
      gid: user.gid,
      cwd: dir,
    });
    if (r.code !== 0) {
      const out = (r.stderr || r.stdout).split("\n");
      const firstError = out.findIndex((l) => l.includes("ERROR:"));
      throw new TuskError("ProcessFailed", `pgbackrest restore failed (code ${r.code}).`, { detail: tail((firstError >= 0 ? out.slice(firstError) : out).join("\n"), 8) });
    }
    return scratch;
  }

  async start(timeoutSeconds = 600): Promise<void> {
    const settings = [
      `port=${this.port}`,
      // Loopback TCP: the restored pg_hba.conf admits the superuser with SCRAM there (peer on the socket).
      "listen_addresses=127.0.0.1",
      `unix_socket_directories=${this.dir}`,
      `hba_file=${join(this.dataDir, "pg_hba.conf")}`,
      `ident_file=${join(this.dataDir, "pg_ident.conf")}`,
      "archive_mode=off",
      // The restored settings name the source node's certificate, which is on another host when the
      // backup was taken from a primary there; the scratch instance serves loopback alone.
      "ssl=off",
      // A source in synchronous mode hands down the standby Patroni named: a scratch instance has
      // none, and every commit would wait for it forever.
      "synchronous_standby_names=''",
      "shared_preload_libraries=pg_stat_statements",
      "shared_buffers=128MB",
      "logging_collector=off",
    ];
    const r = await run(
      `${PG_BIN_DIR}/pg_ctl`,
      ["start", "-D", this.dataDir, "-w", "-t", String(timeoutSeconds), "-l", join(this.dir, "postgresql.log"), "-o", settings.map((s) => `-c ${s}`).join(" ")],
      { uid: this.user.uid, gid: this.user.gid, cwd: this.dir },
    );
    if (r.code !== 0) {
      const log = existsSync(join(this.dir, "postgresql.log")) ? tail(readFileSync(join(this.dir, "postgresql.log"), "utf8"), 10) : r.stderr;
      throw new TuskError("PostgresFailed", "The restored copy did not start.", { detail: log });
    }
  }

  /** Waits until recovery has reached its target and promoted. */
  async waitPromoted(password: string, database: string, timeoutMs = 600_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const c = await this.connect(password, database).catch((e: { code?: string }) => {
        // Still starting or recovering: retry. Anything else (authentication, missing database): fail now.
        if (e.code && e.code !== "57P03" && e.code !== "ECONNREFUSED" && e.code !== "ENOENT") throw e;
        return undefined;
      });
      if (c) {
        const inRecovery = (await c.query<{ r: boolean }>("SELECT pg_is_in_recovery() AS r")).rows[0]!.r;
        await c.end();
        if (!inRecovery) return;
      }
      await new Promise((res) => setTimeout(res, 250));
    }
    throw new TuskError("Timeout", "The restored copy did not finish recovery in time.", { detail: tail(readFileSync(join(this.dir, "postgresql.log"), "utf8"), 10) });
  }

  async connect(password: string, database: string): Promise<pg.Client> {
    const c = new pg.Client({ host: "127.0.0.1", port: this.port, user: "postgres", password, database, connectionTimeoutMillis: 5000 });
    await c.connect();
    return c;
  }

  async destroy(): Promise<void> {
    await run(`${PG_BIN_DIR}/pg_ctl`, ["stop", "-D", this.dataDir, "-m", "immediate", "-w"], { uid: this.user.uid, gid: this.user.gid, cwd: this.dir });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

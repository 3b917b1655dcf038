import { mkdtempSync, rmSync, chownSync, chmodSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../src/core/exec.js";
import { PG_BIN_DIR } from "../../src/core/install/components.js";
import { postgresUser } from "../../src/core/os-user.js";

/**
 * A PostgreSQL 15 with the stock configuration (initdb's defaults), the baseline benchmarks compare
 * tusk against. Runs as the postgres OS user on a loopback port in a temporary directory.
 */
export class StockPostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly password: string,
  ) {}

  static async start(port: number, extraSettings: string[] = []): Promise<StockPostgres> {
    const user = postgresUser();
    const dir = mkdtempSync(join(tmpdir(), "tusk-bench-stock-"));
    chmodSync(dir, 0o755);
    chownSync(dir, user.uid, user.gid);
    const password = "bench";
    try {
      return await StockPostgres.init(dir, port, password, extraSettings);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  private static async init(dir: string, port: number, password: string, extraSettings: string[]): Promise<StockPostgres> {
    const user = postgresUser();
    const as = { uid: user.uid, gid: user.gid, cwd: dir };
    writeFileSync(join(dir, "pw"), password, { mode: 0o600 });
    chownSync(join(dir, "pw"), user.uid, user.gid);
    const init = await run(`${PG_BIN_DIR}/initdb`, ["-D", join(dir, "data"), "-U", "postgres", "--auth-local=peer", "--auth-host=scram-sha-256", `--pwfile=${join(dir, "pw")}`], as);
    if (init.code !== 0) throw new Error(`initdb failed: ${init.stderr}`);
    const opts = [`-p ${port}`, `-k ${dir}`, "-c listen_addresses=127.0.0.1", ...extraSettings.map((s) => `-c ${s}`)].join(" ");
    const start = await run(`${PG_BIN_DIR}/pg_ctl`, ["-D", join(dir, "data"), "-l", join(dir, "log"), "-w", "-o", opts, "start"], as);
    if (start.code !== 0) throw new Error(`pg_ctl start failed: ${start.stderr}`);
    return new StockPostgres(dir, port, password);
  }

  get url(): string {
    return `postgresql://postgres:${this.password}@127.0.0.1:${this.port}/postgres`;
  }

  async stop(): Promise<void> {
    const user = postgresUser();
    await run(`${PG_BIN_DIR}/pg_ctl`, ["-D", join(this.dir, "data"), "-m", "fast", "-w", "stop"], { uid: user.uid, gid: user.gid, cwd: this.dir });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { parse, stringify } from "yaml";
import type { SupervisorStatus } from "../../src/core/supervisor/status.js";
import { sleep } from "./backup-tools.js";
import type { TestCluster } from "./test-cluster.js";

/** What the crash and reboot test files share: the status, pids, a writer, and a backup scheduled soon. */

/** `tusk status --json`, or the exit code and message when it cannot say (17 while the control plane is down). */
export async function statusOf(cluster: TestCluster): Promise<{ code: number; status?: SupervisorStatus; stderr: string }> {
  const r = await cluster.cli("status", "--json");
  return { code: r.code, status: r.code === 0 ? (JSON.parse(r.stdout) as SupervisorStatus) : undefined, stderr: r.stderr };
}

/** Polls `check` every half second until it returns a value, for at most `ms`. */
export async function waitFor<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms / 1000} s`);
    await sleep(500);
  }
}

/** A ready status whose supervisor is not `oldPid`. */
export function newSupervisorReady(cluster: TestCluster, oldPid: number, ms = 60_000): Promise<SupervisorStatus> {
  return waitFor(`a new supervisor (not ${oldPid}) ready`, ms, async () => {
    const s = await statusOf(cluster);
    return s.status && s.status.supervisor.pid !== oldPid && s.status.phase === "ready" ? s.status : undefined;
  });
}

export function pidIn(file: string): number {
  return Number(readFileSync(file, "utf8").trim().split(/\s+/)[0]);
}

export const postmasterPid = (cluster: TestCluster) => pidIn(join(cluster.stateDir, "postgresql/data/postmaster.pid"));

/**
 * Writes through `url` (the pooled string) every 20 ms until stopped, each write its own transaction;
 * `stop()` says how many succeeded and failed, with the first error.
 */
export function writer(url: string, table: string): { stop: () => Promise<{ ok: number; errors: number; firstError?: string }> } {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on("error", () => undefined);
  let running = true;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const loop = (async () => {
    while (running) {
      try {
        await pool.query(`INSERT INTO ${table} (at) VALUES (now())`);
        ok++;
      } catch (e) {
        errors++;
        firstError ??= (e as Error).message;
      }
      await sleep(20);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await pool.end();
      return { ok, errors, firstError };
    },
  };
}

/**
 * Sets the backup policy's daily time to the first whole minute at least `leadSeconds` ahead (local
 * time, as tusk.yaml reads it) and applies it live; returns that moment.
 */
export async function scheduleBackupSoon(cluster: TestCluster, leadSeconds: number): Promise<Date> {
  const due = new Date(Date.now() + leadSeconds * 1000);
  if (due.getSeconds() !== 0 || due.getMilliseconds() !== 0) due.setMinutes(due.getMinutes() + 1, 0, 0);
  const hhmm = `${String(due.getHours()).padStart(2, "0")}:${String(due.getMinutes()).padStart(2, "0")}`;
  const file = join(cluster.stateDir, "tusk.yaml");
  const config = (parse(readFileSync(file, "utf8")) ?? {}) as Record<string, unknown>;
  config.backups = { ...((config.backups as object | undefined) ?? {}), time: hhmm };
  writeFileSync(file, stringify(config));
  const r = await cluster.cli("config", "apply");
  assert.equal(r.code, 0, r.stderr);
  return due;
}

/** A scheduled backup that ended done, started at or after `due`. */
export function scheduledBackupAfter(cluster: TestCluster, due: Date, ms: number) {
  return waitFor(`a scheduled backup after ${due.toISOString()}`, ms, async () => {
    const s = await statusOf(cluster);
    return s.status?.operations.recent.find((r) => r.kind === "backup" && /\(scheduled\)/.test(r.detail) && r.state === "done" && Date.parse(r.startedAt) >= due.getTime() - 1000);
  });
}

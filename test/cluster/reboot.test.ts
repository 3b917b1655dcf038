import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unitName } from "../../src/core/init/systemd-unit.js";
import { isAlive, processStartTime } from "../../src/core/processes/pid-file.js";
import { StatePaths } from "../../src/core/state-dir.js";
import { clusterPids, sleep } from "../helpers/backup-tools.js";
import { scheduleBackupSoon, scheduledBackupAfter, statusOf, waitFor } from "../helpers/crash-tools.js";
import { systemctlStandIn } from "../helpers/systemctl-stand-in.js";
import { TestCluster } from "../helpers/test-cluster.js";

/**
 * tusk under systemd (driven through a stand-in systemctl, these machines' init is not systemd) and
 * a simulated reboot: every process killed, sockets gone, and each PID file naming a live, unrelated
 * process, as PIDs are reused after a reboot. What the unit's ExecStart runs must adopt nothing of
 * those, signal none of them, and bring the cluster back with its data and its missed backup.
 */
const work = mkdtempSync(join(tmpdir(), "tusk-systemd-"));
const systemd = systemctlStandIn(work);
Object.assign(process.env, systemd.env); // every tusk command of this file sees systemd's directories and the stand-in
let cluster: TestCluster;
let paths: StatePaths;
let unit: string;
const strangers: ChildProcess[] = [];

before(async () => {
  cluster = await TestCluster.start("reboot");
  paths = new StatePaths(cluster.stateDir);
  unit = unitName(cluster.stateDir);
  await cluster.query(cluster.url("direct", "owner"), "CREATE TABLE marks (id serial PRIMARY KEY, label text NOT NULL)");
});

after(async () => {
  await cluster?.destroy();
  for (const s of strangers) s.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

test("under systemd, tusk up writes, enables and starts one unit for the state directory; the unit passes systemd-analyze verify", () => {
  const file = join(systemd.unitDir, unit);
  assert.ok(existsSync(file), `${file} written`);
  assert.deepEqual(systemd.calls().slice(0, 3), ["daemon-reload", `enable ${unit}`, `start ${unit}`]);
  const text = readFileSync(file, "utf8");
  assert.match(text, /^Restart=always$/m);
  assert.match(text, /^KillMode=process$/m);
  assert.ok(Number(/^TimeoutStopSec=(\d+)$/m.exec(text)?.[1]) > 180, "longer than tusk down's whole stop (180 s)");
  assert.match(text, new RegExp(`^ExecStart=\\S+/node \\S+/dist/src/core/supervisor/main\\.js ${cluster.stateDir}$`, "m"));
  assert.match(text, new RegExp(`^ExecStop=\\S+/node \\S+/dist/src/cli/main\\.js --state-dir ${cluster.stateDir} down$`, "m"));
  const verify = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8" });
  assert.equal(verify.status, 0, `systemd-analyze verify: ${verify.stderr}${verify.stdout}`);
  assert.doesNotMatch(verify.stderr, new RegExp(unit), verify.stderr);
});

/** A live process that is none of tusk's, as a PID reused after a reboot would be. */
function stranger(): number {
  const p = spawn("sleep", ["600"], { stdio: "ignore" });
  strangers.push(p);
  return p.pid!;
}

/** Points the PID (first line, or first field) of `file` at `pid`, with that process's real start time where tusk records one. */
function rewritePid(file: string, pid: number): void {
  const text = readFileSync(file, "utf8");
  if (file.endsWith("postmaster.pid") || file.endsWith(".lock")) writeFileSync(file, text.replace(/^\s*\d+/, String(pid)));
  else writeFileSync(file, `${pid} ${processStartTime(pid)}\n`);
}

function files(dir: string, match: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => join(dir, f))
    .filter((f) => match(f));
}

test("a simulated reboot: adoption rejects reused PIDs and signals none of them, the cluster serves again with its data, and the backup that fell due while it was down is taken", async () => {
  await cluster.query(cluster.url("pooled"), "INSERT INTO marks (label) VALUES ('before the reboot')");
  const due = await scheduleBackupSoon(cluster, 30);
  // The power goes: every process of the cluster dies at once (the supervisor first, so that it
  // tidies up nothing, as after a power loss).
  process.kill(Number(readFileSync(paths.supervisorPid, "utf8").split(" ")[0]), "SIGKILL");
  for (const pid of clusterPids(cluster.stateDir)) process.kill(pid, "SIGKILL");
  await waitFor("every process gone", 20_000, async () => (clusterPids(cluster.stateDir).length === 0 ? true : undefined));
  // What a reboot clears: sockets (and the pgBackRest locks under run/pgbackrest).
  const sockets = files(cluster.stateDir, (f) => statSync(f).isSocket());
  for (const f of [...sockets, ...files(join(paths.runDir, "pgbackrest"), (f) => f.endsWith(".lock"))]) rmSync(f, { force: true });
  // PIDs are reused after a reboot: every PID file tusk and PostgreSQL left names a live stranger.
  const pidFiles = [...files(paths.runDir, (f) => f.endsWith(".pid") || /\.s\.PGSQL\.\d+\.lock$/.test(f)), join(paths.dataDir, "postmaster.pid")].filter((f) => existsSync(f));
  const named = pidFiles.map((f) => {
    const pid = stranger();
    rewritePid(f, pid);
    return { file: f, pid };
  });
  assert.ok(named.some((n) => n.file.endsWith("supervisor.pid")) && named.some((n) => n.file.endsWith("postmaster.pid")) && named.length >= 6, JSON.stringify(named));
  // The machine was down past the backup's time.
  while (Date.now() < due.getTime() + 2000) await sleep(1000);
  // systemd starts the enabled unit at boot: what its ExecStart runs.
  execFileSync(join(systemd.binDir, "systemctl"), ["start", unit], { env: systemd.env });
  await waitFor("the cluster ready again", 180_000, async () => ((await statusOf(cluster)).status?.phase === "ready" ? true : undefined));
  for (const { file, pid } of named) assert.ok(isAlive(pid), `the stranger named by ${file} (pid ${pid}) was not signalled`);
  const log = readFileSync(paths.log("supervisor"), "utf8");
  const services = named.filter((n) => /\/run\/(etcd|patroni|pgbouncer|haproxy)\.pid$/.test(n.file));
  assert.ok(services.length > 0, JSON.stringify(named));
  for (const { file, pid } of services) assert.ok(log.includes(`${file} names pid ${pid}, which is not this cluster's`) && log.includes("not adopted, not signalled"), `${file} (pid ${pid}) rejected`);
  assert.match(log, /removed lock files no running postmaster holds: .*postmaster\.pid/);
  const rows = await cluster.query(cluster.url("pooled"), "SELECT label FROM marks");
  assert.deepEqual(
    rows.rows.map((r) => r.label),
    ["before the reboot"],
  );
  const backup = await scheduledBackupAfter(cluster, due, 150_000);
  assert.match(readFileSync(paths.log("supervisor"), "utf8"), /schedule: the backup due at .* fell due while no supervisor ran: catching it up now/);
  console.log(`scheduled backup caught up after the reboot: ${backup.detail}, started ${backup.startedAt}`);
});

test("tusk down under systemd is systemctl stop (whose ExecStop is the graceful stop) and disable; tusk destroy removes the unit", async () => {
  const before = systemd.calls().length;
  const down = await cluster.cli("down");
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(systemd.calls().slice(before), [`stop ${unit}`, `disable ${unit}`]);
  assert.deepEqual(clusterPids(cluster.stateDir), [], "no process of the cluster is left");
  const destroy = await cluster.cli("destroy", "--yes");
  assert.equal(destroy.code, 0, destroy.stderr);
  assert.equal(existsSync(join(systemd.unitDir, unit)), false);
});

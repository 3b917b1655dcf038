import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resumeSchedule } from "../../src/core/backup/policy.js";
import { DEFAULT_CONFIG } from "../../src/core/config/config-file.js";
import { unitArg, unitFile, unitName } from "../../src/core/init/systemd-unit.js";
import { liveTuskPid, removeStaleLocks } from "../../src/core/processes/leftovers.js";
import { writePidFile } from "../../src/core/processes/pid-file.js";
import { afterExit, EXIT_REPLACE, STABLE_AFTER_MS } from "../../src/core/supervisor/keeper.js";

test("keeper: a clean exit stops it, exit 75 hands over, anything else restarts with a back-off that resets after a stable run", () => {
  assert.equal(afterExit({ code: 0, signal: null, uptimeMs: 5000 }, 3).action, "stop");
  assert.equal(afterExit({ code: EXIT_REPLACE, signal: null, uptimeMs: 5000 }, 3).action, "hand-over");
  const delays: number[] = [];
  let failures = 0;
  for (let i = 0; i < 7; i++) {
    const next = afterExit({ code: null, signal: "SIGKILL", uptimeMs: 2000 }, failures);
    assert.equal(next.action, "restart");
    if (next.action !== "restart") return;
    delays.push(next.delayMs);
    failures = next.failures;
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  const stable = afterExit({ code: 1, signal: null, uptimeMs: STABLE_AFTER_MS + 1 }, failures);
  assert.equal(stable.action === "restart" && stable.delayMs, 1000);
  assert.match(stable.sentence, /exited with code 1 after 60 s: restarting it in 1 s/);
});

test("systemd unit: Restart=always, KillMode=process, a stop timeout beyond tusk down's, ExecStop is tusk down; arguments escaped as systemd reads them", () => {
  const text = unitFile({
    stateDir: "/var/lib/tusk",
    node: "/usr/bin/node",
    supervisorMain: "/opt/tusk/releases/r1/dist/src/core/supervisor/main.js",
    cliMain: "/opt/tusk/releases/r1/dist/src/cli/main.js",
    stopSeconds: 180,
  });
  for (const line of ["Restart=always", "KillMode=process", "TimeoutStopSec=210", "Type=simple", "Environment=TUSK_INIT=systemd", "WantedBy=multi-user.target"])
    assert.ok(text.split("\n").includes(line), line);
  assert.match(text, /^ExecStart=\/usr\/bin\/node \/opt\/tusk\/releases\/r1\/dist\/src\/core\/supervisor\/main\.js \/var\/lib\/tusk$/m);
  assert.match(text, /^ExecStop=\/usr\/bin\/node \/opt\/tusk\/releases\/r1\/dist\/src\/cli\/main\.js --state-dir \/var\/lib\/tusk down$/m);
  assert.equal(unitArg("/srv/my db"), '"/srv/my db"');
  assert.equal(unitArg("/srv/100%"), "/srv/100%%");
  assert.equal(unitArg("/srv/$HOME"), "/srv/$$HOME");
  assert.match(unitName("/var/lib/tusk"), /^tusk-[0-9a-f]{12}\.service$/);
  assert.equal(unitName("/var/lib/tusk"), unitName("/var/lib/tusk"));
  assert.notEqual(unitName("/var/lib/tusk"), unitName("/var/lib/tusk2"));
});

test("schedule after a restart: what fell due while no supervisor ran is due now; a stale repository is caught up in a minute; else the policy's times", () => {
  const policy = { ...DEFAULT_CONFIG.backups, time: "01:00", drill_time: "03:00" };
  const now = new Date(2026, 5, 10, 12, 0, 0);
  const fresh = new Date(2026, 5, 10, 1, 5).toISOString();
  const missed = resumeSchedule(policy, { nextBackupAt: new Date(2026, 5, 10, 1, 0).toISOString(), nextDrillAt: null }, fresh, now);
  assert.equal(missed.nextBackupAt.getTime(), now.getTime());
  assert.equal(missed.missed.length, 1);
  assert.match(missed.missed[0]!, /backup due at .* fell due while no supervisor ran/);
  const onTime = resumeSchedule(policy, { nextBackupAt: new Date(2026, 5, 11, 1, 0).toISOString(), nextDrillAt: new Date(2026, 5, 14, 3, 0).toISOString() }, fresh, now);
  assert.deepEqual(onTime.missed, []);
  assert.equal(onTime.nextBackupAt.getTime(), new Date(2026, 5, 11, 1, 0).getTime());
  const stale = resumeSchedule(policy, undefined, new Date(2026, 5, 8, 1, 5).toISOString(), now);
  assert.equal(stale.nextBackupAt.getTime(), now.getTime() + 60_000);
  assert.match(stale.backupWhy, /over 25 hours ago/);
  const none = resumeSchedule(policy, undefined, null, now);
  assert.equal(none.nextBackupAt.getTime(), now.getTime() + 60_000, "no backup at all");
  assert.equal(none.backupWhy, "the repository holds no backup");
  // An unreadable repository lists no backup although it may hold some: the policy's time stands.
  const unread = resumeSchedule(policy, undefined, undefined, now);
  assert.equal(unread.nextBackupAt.getTime(), new Date(2026, 5, 11, 1, 0).getTime());
  assert.match(unread.backupWhy, /could not be read/);
  assert.equal(onTime.backupWhy, "the policy's time (01:00)");
  const drill = resumeSchedule(policy, { nextBackupAt: null, nextDrillAt: new Date(2026, 5, 9, 3, 0).toISOString() }, fresh, now);
  assert.equal(drill.nextDrillAt.getTime(), now.getTime());
  assert.match(drill.missed.join(), /restore drill due at/);
});

test("PostgreSQL's lock files: removed when their PID is not a postmaster of the data directory (a PID reused after a reboot), kept while one runs", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tusk-locks-"));
  const dataDir = join(dir, "data");
  const socketDir = join(dir, "sock");
  mkdirSync(dataDir);
  mkdirSync(socketDir);
  const write = (pid: number) => {
    writeFileSync(join(dataDir, "postmaster.pid"), `${pid}\n${dataDir}\n1700000000\n5432\n`);
    writeFileSync(join(socketDir, ".s.PGSQL.5432.lock"), `${pid}\n${dataDir}\n`);
  };
  // A process that looks like a postmaster of this data directory: argv[0] "postgres", then -D dataDir.
  const postmaster = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)", "--", "-D", dataDir], { argv0: "postgres", stdio: "ignore" });
  try {
    await new Promise((r) => setTimeout(r, 300));
    write(postmaster.pid!);
    assert.deepEqual(removeStaleLocks(dataDir, socketDir), [], "a running postmaster's locks stay");
    write(process.pid); // alive, but this test's node: a reused PID
    assert.deepEqual(removeStaleLocks(dataDir, socketDir).sort(), [join(dataDir, "postmaster.pid"), join(socketDir, ".s.PGSQL.5432.lock")].sort());
    assert.equal(existsSync(join(dataDir, "postmaster.pid")), false);
  } finally {
    postmaster.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the supervisor's and keeper's PID files count only for tusk's own process of that state directory", () => {
  const dir = mkdtempSync(join(tmpdir(), "tusk-pid-"));
  try {
    const file = join(dir, "supervisor.pid");
    writePidFile(file, process.pid); // a live process with a matching start time, but not a supervisor
    assert.equal(liveTuskPid(file, "supervisor/main.js", dir), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { ExitCode } from "../../src/core/errors.js";
import { runCli, type CliResult } from "../helpers/cli.js";
import { freePortSet as freePorts } from "../../src/core/cluster/free-ports.js";
import { writeTestConfig } from "../helpers/test-cluster.js";
import { lookupUser } from "../../src/core/os-user.js";

/**
 * Every expected failure gets one clear sentence, what to do, a distinct exit code, no stack trace,
 * and leaves the state directory as it was.
 */
const dirs: string[] = [];
function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), "tusk-bad-"));
  chmodSync(d, 0o755);
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) {
    try {
      execFileSync("umount", [d], { stdio: "ignore" });
    } catch {
      /* not a mount */
    }
    rmSync(d, { recursive: true, force: true });
  }
});

function assertCleanFailure(r: CliResult, code: number, message: RegExp): void {
  assert.equal(r.code, code, `exit ${r.code}, wanted ${code}:\n${r.stderr}`);
  assert.match(r.stderr, message);
  assert.match(r.stderr, /→ /, "says what to do");
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, "no stack trace");
}

const listing = (d: string) => readdirSync(d).sort();

test("unknown setting, out-of-range and mistyped values: every problem named, exit 3, nothing created", async () => {
  const d = stateDir();
  writeFileSync(
    join(d, "tusk.yaml"),
    ["postgresql:", "  shared_buffer: 1GB", "  max_connections: 0", "  work_mem: lots", "  port: 5555", "pgbouncer:", "  default_pool_size: -1", "colour: blue", ""].join("\n"),
  );
  const r = await runCli(["--state-dir", d, "up"]);
  assertCleanFailure(r, ExitCode.InvalidConfig, /has 6 problems/);
  assert.match(r.stderr, /postgresql\.shared_buffer: is not a PostgreSQL 15 setting\. Did you mean shared_buffers\?/);
  assert.match(r.stderr, /postgresql\.max_connections: is out of range: 0 is not within 1\.\.262143/);
  assert.match(r.stderr, /postgresql\.work_mem: must be a size such as 64MB/);
  assert.match(r.stderr, /postgresql\.port: is managed by tusk/);
  assert.match(r.stderr, /pgbouncer\.default_pool_size: is out of range/);
  assert.match(r.stderr, /colour: not a tusk setting/);
  assert.deepEqual(listing(d), ["tusk.yaml"]);
});

test("invalid YAML: exit 3", async () => {
  const d = stateDir();
  writeFileSync(join(d, "tusk.yaml"), "ports: [unclosed\n");
  assertCleanFailure(await runCli(["--state-dir", d, "config", "show"]), ExitCode.InvalidConfig, /is not valid YAML/);
});

test("a port already in use: exit 4, naming the port and its setting", async () => {
  const d = stateDir();
  const ports = await freePorts();
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(ports.pooler, "127.0.0.1", r));
  try {
    writeTestConfig(d, ports);
    const r = await runCli(["--state-dir", d, "up"]);
    assertCleanFailure(r, ExitCode.PortInUse, new RegExp(`Port ${ports.pooler} \\(ports\\.pooler\\) is already in use`));
    assert.equal(existsSync(join(d, "postgresql")), false);
  } finally {
    server.close();
  }
});

test("not root: exit 5 with what to do", async () => {
  const d = stateDir();
  writeTestConfig(d, await freePorts());
  const pgUser = lookupUser("postgres")!;
  const r = await runCli(["--state-dir", d, "up"], { uid: pgUser.uid, gid: pgUser.gid, env: { PATH: process.env.PATH, HOME: "/tmp" } });
  assertCleanFailure(r, ExitCode.NotRoot, /must run as root|only root can install/);
  assert.deepEqual(listing(d), ["tusk.yaml"]);
});

test("too little disk: exit 6, naming the free space and the minimum", async (t) => {
  const d = stateDir();
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=200m", "tmpfs", d], { stdio: "ignore" });
  } catch {
    t.skip("this machine does not allow mounting a small tmpfs");
    return;
  }
  writeTestConfig(d, await freePorts());
  const r = await runCli(["--state-dir", d, "up"]);
  assertCleanFailure(r, ExitCode.InsufficientResources, /Only 0\.2 GiB is free .* at least 1\.0 GiB/);
  assert.deepEqual(listing(d), ["tusk.yaml"]);
});

test("a state directory from an incompatible version: exit 7, untouched", async () => {
  const d = stateDir();
  writeTestConfig(d, await freePorts());
  const marker = JSON.stringify({ format: 99, createdBy: "9.9.9", createdAt: "2030-01-01T00:00:00Z" });
  writeFileSync(join(d, "tusk-state.json"), marker);
  const r = await runCli(["--state-dir", d, "up"]);
  assertCleanFailure(r, ExitCode.IncompatibleState, /written by tusk 9\.9\.9 \(state format 99\)/);
  assert.equal(readFileSync(join(d, "tusk-state.json"), "utf8"), marker);
  assert.deepEqual(listing(d), ["tusk-state.json", "tusk.yaml"]);
});

test("PostgreSQL failing to start: exit 8 with the last lines of its log, and nothing left running", async () => {
  const d = stateDir();
  writeTestConfig(d, await freePorts(), { postgresql: { shared_preload_libraries: "tusk_no_such_library" } });
  const r = await runCli(["--state-dir", d, "up"]);
  assertCleanFailure(r, ExitCode.PostgresFailed, /PostgreSQL failed to start/);
  assert.match(r.stderr, /FATAL: +could not access file "tusk_no_such_library"/);
  const st = await runCli(["--state-dir", d, "status"]);
  assert.equal(st.code, ExitCode.NotRunning);
});

test("down, status and psql with nothing running: exit 9", async () => {
  const d = stateDir();
  for (const cmd of ["down", "status", "psql"]) {
    assertCleanFailure(await runCli(["--state-dir", d, cmd]), ExitCode.NotRunning, /tusk is not running/);
  }
});

test("unknown command or option: exit 2 with usage help", async () => {
  const r = await runCli(["frobnicate"]);
  assert.equal(r.code, ExitCode.Usage);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
  const o = await runCli(["up", "--bogus"]);
  assert.equal(o.code, ExitCode.Usage);
  assert.match(o.stderr, /unknown option '--bogus'/);
  const help = await runCli(["status", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--json/);
});

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * A benchmark run as shipped (bash bench/run.sh NAME), at tiny sizes and one trial, so that a
 * broken benchmark cannot land: each must exit 0 and print its machine line and its table. The
 * figures are not checked here (performance targets live in the benchmarks, never in tests).
 * Never `startup --reinstall`: it removes the machine's packages.
 */
const RUN_SH = fileURLToPath(new URL("../../../bench/run.sh", import.meta.url));

const SMOKE = {
  startup: ["--trials", "1"],
  vector: ["--rows", "2000", "--dims", "16", "--queries", "200", "--recall-queries", "50", "--clients", "2", "--clusters", "10", "--targets", "stock,tusk", "--pgbench-seconds", "2"],
  backup: ["--scale", "1", "--vectors", "200"],
  failover: ["--trials", "1", "--no-baseline"],
  "host-loss": ["--trials", "1", "--join-scale", "1", "--no-baseline"],
  monitoring: ["--rounds", "1", "--seconds", "3", "--scale", "1", "--history-seconds", "5"],
} satisfies Record<string, string[]>;

function runBench(name: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [RUN_SH, name, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    // Bounded: a smoke run that hangs fails instead of holding CI (three hosts take longer to stand up).
    const timer = setTimeout(() => child.kill("SIGTERM"), name === "host-loss" ? 600_000 : 300_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * One case per named benchmark, as shipped at its smoke size: [title, body] for the test file to pass
 * to test() (so the runner reports the test under that file's name).
 */
export function smokeCases(names: (keyof typeof SMOKE)[]): [string, () => Promise<void>][] {
  return names.map((name) => {
    const args = SMOKE[name];
    return [
      `bench ${name} runs as shipped at tiny sizes: exit 0, the machine line and a table`,
      async () => {
        const r = await runBench(name, args);
        assert.equal(r.code, 0, `bash bench/run.sh ${name} ${args.join(" ")} exited ${r.code}:\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-2000)}`);
        assert.match(r.stdout, /^Machine: .*\d+ cores/m);
        assert.match(r.stdout, /^\| .+ \|$/m, "a table");
      },
    ];
  });
}

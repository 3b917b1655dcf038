import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The built CLI, run exactly as users run it (node dist/src/cli/main.js). */
export const CLI_MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `cliMain`: another copy of the CLI (a moved checkout) instead of this one; `via`: a command prefix that runs it on a test host (netns.ts). */
export function runCli(args: string[], options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv; timeoutMs?: number; cliMain?: string; via?: string[] } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const argv = [options.cliMain ?? CLI_MAIN, ...args];
    const [command, ...commandArgs] = options.via ? [...options.via, process.execPath, ...argv] : [process.execPath, ...argv];
    const child = spawn(command!, commandArgs, {
      stdio: ["ignore", "pipe", "pipe"],
      env: options.env ?? process.env,
      uid: options.uid,
      gid: options.gid,
      cwd: "/",
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

import { spawn, type SpawnOptions } from "node:child_process";
import { closeSync, createWriteStream, openSync, readSync } from "node:fs";

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  /** Append the command's output to this file as well as capturing it. */
  logFile?: string;
  /** Kill the command after this many milliseconds. */
  timeoutMs?: number;
  input?: string;
  /** Called with each complete line of standard output as it arrives. */
  onLine?: (line: string) => void;
  /** Called with each complete line of standard error as it arrives. */
  onErrorLine?: (line: string) => void;
  /**
   * The command writes standard output and error into this file (truncated first) instead of pipes
   * to this process, so it outlives this process (a backup the next supervisor adopts). Its lines
   * are read back from the file as they come (`stdout` and `onLine`).
   */
  outputFile?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Feeds chunks of text in, calls `onLine` with each complete line (no-op without a callback). */
function lineSplitter(onLine: ((line: string) => void) | undefined): (text: string) => void {
  let partial = "";
  return (text) => {
    if (!onLine) return;
    const lines = (partial + text).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  };
}

/** Runs a command to completion, capturing its output; never throws for a non-zero exit. */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  if (options.outputFile !== undefined) return runIntoFile(cmd, args, options, options.outputFile);
  return new Promise((resolve, reject) => {
    const spawnOptions: SpawnOptions = {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
    };
    if (options.uid !== undefined) spawnOptions.uid = options.uid;
    if (options.gid !== undefined) spawnOptions.gid = options.gid;
    const child = spawn(cmd, [...args], spawnOptions);
    const log = options.logFile ? createWriteStream(options.logFile, { flags: "a" }) : undefined;
    log?.write(`\n$ ${cmd} ${args.join(" ")}\n`);
    let stdout = "";
    let stderr = "";
    const outLines = lineSplitter(options.onLine);
    child.stdout!.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      stdout += text;
      log?.write(chunk);
      outLines(text);
    });
    const errLines = lineSplitter(options.onErrorLine);
    child.stderr!.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      stderr += text;
      log?.write(chunk);
      errLines(text);
    });
    const timer = options.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), options.timeoutMs) : undefined;
    child.on("error", (err) => {
      if (timer) clearTimeout(timer);
      log?.end();
      reject(err);
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      log?.end();
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
    else child.stdin!.end();
  });
}

/** `run` with the output in a file rather than pipes: the command survives this process. */
function runIntoFile(cmd: string, args: readonly string[], options: RunOptions, file: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const out = openSync(file, "w", 0o644);
    const spawnOptions: SpawnOptions = { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", out, out] };
    if (options.uid !== undefined) spawnOptions.uid = options.uid;
    if (options.gid !== undefined) spawnOptions.gid = options.gid;
    const child = spawn(cmd, [...args], spawnOptions);
    closeSync(out);
    const reader = openSync(file, "r");
    let stdout = "";
    let offset = 0;
    const lines = lineSplitter(options.onLine);
    const buffer = Buffer.alloc(64 * 1024);
    const drain = () => {
      for (;;) {
        const n = readSync(reader, buffer, 0, buffer.length, offset);
        if (n <= 0) return;
        offset += n;
        const text = buffer.subarray(0, n).toString();
        stdout += text;
        lines(text);
      }
    };
    const poll = setInterval(drain, 250);
    const timer = options.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), options.timeoutMs) : undefined;
    const end = () => {
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      drain();
      closeSync(reader);
    };
    child.on("error", (err) => {
      end();
      reject(err);
    });
    child.on("close", (code, signal) => {
      end();
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: "" });
    });
  });
}

/** The last `n` non-empty lines of a text, for error messages. */
export function tail(text: string, n = 15): string {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(-n)
    .join("\n");
}

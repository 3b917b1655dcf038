import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../src/core/exec.js";

const S3RVER_CLI = createRequire(import.meta.url).resolve("s3rver/bin/s3rver.js");

/**
 * A real S3-compatible server (s3rver, from npm) on loopback over HTTPS with a certificate made for
 * the test, storing objects in a temporary directory. pgBackRest always speaks TLS to S3 and matches
 * the endpoint against the certificate's DNS names, so the certificate names 127.0.0.1 as one.
 */
export class S3Server {
  private child: ChildProcess | undefined;
  readonly accessKeyId = "S3RVER";
  readonly secretFile: string;
  readonly caFile: string;
  readonly dataDir: string;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly bucket: string,
  ) {
    this.secretFile = join(dir, "secret-access-key");
    this.caFile = join(dir, "cert.pem");
    this.dataDir = join(dir, "objects");
  }

  static async start(port: number, bucket: string): Promise<S3Server> {
    const dir = mkdtempSync(join(tmpdir(), "tusk-s3-"));
    chmodSync(dir, 0o755); // pgBackRest, as postgres, reads the CA certificate
    const server = new S3Server(dir, port, bucket);
    const r = await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=DNS:127.0.0.1,IP:127.0.0.1",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      server.caFile,
    ]);
    if (r.code !== 0) throw new Error(`openssl failed: ${r.stderr}`);
    chmodSync(server.caFile, 0o644);
    writeFileSync(server.secretFile, "S3RVER\n", { mode: 0o600 });
    mkdirSync(server.dataDir);
    await server.resume();
    return server;
  }

  /** Starts (or starts again) the server process on the same port and data. */
  async resume(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return; // running
    this.child = spawn(
      process.execPath,
      [S3RVER_CLI, "-d", this.dataDir, "-a", "127.0.0.1", "-p", String(this.port), "--silent", "--key", join(this.dir, "key.pem"), "--cert", this.caFile, "--configure-bucket", this.bucket],
      { stdio: "ignore" },
    );
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (await accepts(this.port)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`s3rver did not listen on ${this.port} within 15 s`);
  }

  /** Stops the server process (by its PID): the object store becomes unreachable. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../src/core/exec.js";

const S3RVER_CLI = createRequire(import.meta.url).resolve("s3rver/bin/s3rver.js");

/**
 * A real S3-compatible server (s3rver, from npm) over HTTPS with a certificate made for the test,
 * storing objects in a temporary directory: on loopback, or on a test host's address when run
 * through that host's `via` (the object store the hosts of a multi-host test share). pgBackRest
 * always speaks TLS to S3 and matches the endpoint against the certificate's DNS names, so the
 * certificate names the address as one.
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
    readonly address: string,
    private readonly via: string[],
  ) {
    this.secretFile = join(dir, "secret-access-key");
    this.caFile = join(dir, "cert.pem");
    this.dataDir = join(dir, "objects");
  }

  /** tusk.yaml's `backups.s3` for this server, with `extra` settings (such as only: true). */
  settings(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      endpoint: this.endpoint,
      bucket: this.bucket,
      uri_style: "path",
      access_key_id: this.accessKeyId,
      secret_access_key_file: this.secretFile,
      ca_file: this.caFile,
      ...extra,
    };
  }

  /** The endpoint as tusk.yaml's backups.s3.endpoint names it. */
  get endpoint(): string {
    return `${this.address}:${this.port}`;
  }

  static async start(port: number, bucket: string, on: { address: string; via: string[] } = { address: "127.0.0.1", via: [] }): Promise<S3Server> {
    const dir = mkdtempSync(join(tmpdir(), "tusk-s3-"));
    chmodSync(dir, 0o755); // pgBackRest, as postgres, reads the CA certificate
    const server = new S3Server(dir, port, bucket, on.address, on.via);
    const r = await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      `/CN=${on.address}`,
      "-addext",
      `subjectAltName=DNS:${on.address},IP:${on.address}`,
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
    // nsenter executes the server in the host's namespaces (no fork), so the child's PID is the server's.
    const command = [
      ...this.via,
      process.execPath,
      S3RVER_CLI,
      "-d",
      this.dataDir,
      "-a",
      this.address,
      "-p",
      String(this.port),
      "--silent",
      "--key",
      join(this.dir, "key.pem"),
      "--cert",
      this.caFile,
      "--configure-bucket",
      this.bucket,
    ];
    this.child = spawn(command[0]!, command.slice(1), { stdio: "ignore" });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (await accepts(this.address, this.port)) return;
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

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

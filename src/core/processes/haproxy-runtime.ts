import { connect } from "node:net";
import { HAPROXY_BACKENDS, serverOptions, type HaproxyServer, type PatroniCheckTls } from "../generate/haproxy-config.js";

/**
 * HAProxy's runtime API (the admin stats socket, HAProxy 2.6 "Management Guide", section 9.3):
 * routing the direct endpoint to a new primary at once, and adding or deleting a node's servers
 * without a restart, so sessions through HAProxy survive a scale.
 */

/** Sends one command on its own connection and returns HAProxy's answer (empty when it succeeded quietly). */
export function haproxyCommand(socketPath: string, command: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let out = "";
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`HAProxy did not answer "${command}" within ${timeoutMs} ms`));
    });
    socket.on("error", reject);
    socket.on("connect", () => socket.write(`${command}\n`));
    socket.on("data", (d) => (out += d.toString()));
    socket.on("end", () => {
      socket.destroy();
      resolve(out.trim());
    });
  });
}

/** Runs commands in order; any answer other than empty or one of `ok` is an error naming the command. */
async function run(socketPath: string, commands: string[], ok: RegExp = /^$/): Promise<void> {
  for (const command of commands) {
    const answer = await haproxyCommand(socketPath, command);
    if (!ok.test(answer)) throw new Error(`HAProxy refused "${command}": ${answer}`);
  }
}

const backends = Object.values(HAPROXY_BACKENDS);

/**
 * Points the direct endpoint at `primary`: its server leaves maintenance; every other node goes into
 * maintenance and its sessions are cut, so no client keeps writing to a node that is no longer the
 * leader. Idempotent.
 */
export async function routeDirect(socketPath: string, nodes: readonly string[], primary: string): Promise<void> {
  const direct = HAPROXY_BACKENDS.direct;
  const commands = [`set server ${direct}/${primary} state ready`];
  for (const n of nodes) {
    if (n !== primary) commands.push(`set server ${direct}/${n} state maint`, `shutdown sessions server ${direct}/${n}`);
  }
  await run(socketPath, commands);
}

/**
 * Adds a node to every backend (a server added at run time starts in maintenance). In the read-only
 * backends it starts unhealthy, so it serves nothing until its own check has passed `rise` times;
 * in `direct` it stays in maintenance until it becomes the primary.
 */
export async function addServer(socketPath: string, node: HaproxyServer, rest?: PatroniCheckTls): Promise<void> {
  for (const b of backends) {
    const checked = b !== HAPROXY_BACKENDS.direct;
    await run(socketPath, [`add server ${b}/${node.name} ${serverOptions(node, checked, rest)}`], /^New server registered\.$/);
    // Leaving maintenance makes a server UP at once; forcing it down after that lets the check decide.
    if (checked) await run(socketPath, [`enable health ${b}/${node.name}`, `set server ${b}/${node.name} state ready`, `set server ${b}/${node.name} health down`]);
  }
}

/**
 * Takes a node out of every backend: maintenance, its sessions cut, then deleted once it has none.
 * A node that was never added (a replica that did not come up) is skipped.
 */
export async function removeServer(socketPath: string, name: string, timeoutMs = 5000): Promise<void> {
  for (const b of backends) {
    const answer = await haproxyCommand(socketPath, `set server ${b}/${name} state maint`);
    if (/^No such server/.test(answer)) continue;
    if (answer !== "") throw new Error(`HAProxy refused "set server ${b}/${name} state maint": ${answer}`);
    await run(socketPath, [`shutdown sessions server ${b}/${name}`]);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = await haproxyCommand(socketPath, `del server ${b}/${name}`);
      if (answer === "Server deleted.") break;
      // A cut session is released asynchronously: "Server still has connections attached to it".
      if (Date.now() > deadline) throw new Error(`HAProxy refused "del server ${b}/${name}": ${answer}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Replaces a certificate HAProxy loaded from `file` (the client certificate of its Patroni checks)
 * with `pem` at run time, as a transaction committed at once: no restart, no session cut.
 */
export async function replaceCertificate(socketPath: string, file: string, pem: string): Promise<void> {
  const set = await haproxyCommand(socketPath, `set ssl cert ${file} <<\n${pem.trimEnd()}\n`);
  if (!/Transaction (created|updated)/.test(set)) throw new Error(`HAProxy refused the new certificate for ${file}: ${set}`);
  const commit = await haproxyCommand(socketPath, `commit ssl cert ${file}`, 5000);
  if (!/Success/.test(commit)) throw new Error(`HAProxy did not commit the new certificate for ${file}: ${commit}`);
}

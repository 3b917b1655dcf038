import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { nodePaths } from "../../src/core/cluster/nodes.js";
import { StatePaths } from "../../src/core/state-dir.js";
import type { HostTokenResult } from "../../src/core/supervisor/host-tokens.js";
import { runCli } from "./cli.js";
import type { TestHost } from "./netns.js";
import type { TestCluster } from "./test-cluster.js";

/** A command on a test host; its standard output (its standard error is in the error when it fails). */
export const onHost = (host: TestHost, ...command: string[]): string =>
  execFileSync(host.via[0]!, [...host.via.slice(1), ...command], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });

/** Where a host's node is asked: the cluster's PostgreSQL port and the application's database. */
export interface NodeAt {
  port: number;
  database: string;
}

/** SQL as the superuser on a host's own node, over its Unix socket (peer authentication as the postgres OS user); psql's unaligned output. */
export function nodeSql(host: TestHost, stateDir: string, node: string, at: NodeAt, text: string): string {
  const np = nodePaths(new StatePaths(stateDir), node);
  return onHost(host, "runuser", "-u", "postgres", "--", "psql", "-h", np.socketDir, "-p", String(at.port), "-d", at.database, "-v", "ON_ERROR_STOP=1", "-At", "-c", text).trim();
}

/** Whether a host's node is in recovery; undefined while it does not answer. */
export function nodeInRecovery(host: TestHost, stateDir: string, node: string, at: NodeAt): boolean | undefined {
  try {
    return nodeSql(host, stateDir, node, at, "SELECT pg_is_in_recovery()") === "t";
  } catch {
    return undefined;
  }
}

/**
 * The end of a multi-host test: the joined hosts' state (`tusk destroy` on each, in the order given),
 * then the first host's cluster, then `rest` (what the test made around them: its network), which
 * runs even when the cluster's destroy fails (that failure is the after hook's).
 */
export async function tearDownHosts(third: [TestHost | undefined, string], second: [TestHost | undefined, string], cluster: TestCluster | undefined, rest: () => Promise<void>): Promise<void> {
  try {
    for (const [host, dir] of [third, second]) if (host) await runCli(["--state-dir", dir, "destroy", "--yes"], { via: host.via }).catch(() => undefined);
    await cluster?.destroy();
  } finally {
    await rest();
  }
}

/** A join token made on the cluster's first host (`address` converts the cluster on the first token). */
export async function joinToken(cluster: TestCluster, role: "data" | "witness", address?: string): Promise<string> {
  const made = await cluster.cli("host", "token", "--role", role, ...(address ? ["--address", address] : []), "--json");
  assert.equal(made.code, 0, made.stderr);
  return (JSON.parse(made.stdout) as HostTokenResult).token;
}

import pg from "pg";
import type { Cluster } from "../cluster/cluster.js";
import { connectionStrings } from "../cluster/connection-strings.js";
import { TuskError } from "../errors.js";
import type { Progress } from "../progress.js";
import { sleep } from "../processes/pid-file.js";
import type { SupervisorStatus } from "../supervisor/status.js";
import { freezeNode } from "./faults.js";
import { primaryOf } from "../supervisor/replication.js";
import { Writer } from "./writer.js";

export type FailoverDrillKind = "switchover" | "primary-loss";

export interface FailoverDrillResult {
  kind: FailoverDrillKind;
  from: string;
  to: string;
  /** The longest time between two acknowledged commits of the synthetic writer. */
  outageMs: number;
  acknowledged: number;
  /** Of those, the commits acknowledged after the new primary took over: writes resumed. */
  acknowledgedAfter: number;
  /** Acknowledged commits not found on the new primary afterwards: must be 0. */
  lost: number;
  clientErrors: number;
  /** The distinct errors the writer saw, with how often each occurred. */
  errorKinds: { message: string; count: number }[];
  ok: boolean;
}

async function waitFor(cluster: Cluster, what: string, check: (s: SupervisorStatus) => boolean, timeoutMs: number): Promise<SupervisorStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await cluster.status().catch(() => undefined);
    if (s && check(s)) return s;
    if (Date.now() > deadline) throw new TuskError("Timeout", `${what} did not happen within ${timeoutMs / 1000} s.`, { hint: "`tusk status` shows each node; the supervisor log says what it saw." });
    await sleep(500);
  }
}

/** Until the writer has acknowledged `n` commits in all, or `timeoutMs` passed (a slow machine commits fewer per second). */
async function untilCommits(writer: Writer, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (writer.commits < n && Date.now() < deadline) await sleep(100);
}

function countDistinct(messages: string[]): { message: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const m of messages) counts.set(m, (counts.get(m) ?? 0) + 1);
  return [...counts].map(([message, count]) => ({ message, count }));
}

async function exec(url: string, sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}

/**
 * `tusk drill failover`: a synthetic writer commits a row every 10 ms through the pooled connection
 * string while the primary is switched over (planned) or lost (its Patroni and PostgreSQL frozen,
 * as if the node stopped answering, then thawed to rejoin). Reports the outage the writer saw and
 * whether any acknowledged commit is missing on the new primary. The writer runs until it has 100
 * commits before the change and 100 after it (or 30 s), so a slow machine measures the same thing;
 * a drill after which no write succeeds fails. The drill's table is dropped.
 */
export async function runFailoverDrill(cluster: Cluster, kind: FailoverDrillKind, progress: Progress): Promise<FailoverDrillResult> {
  const before = await cluster.status();
  const replicas = before.replication.nodes.filter((n) => n.role !== "primary");
  if (replicas.length === 0) throw new TuskError("IncompatibleState", "A failover drill needs at least one replica.", { hint: "Add one with `tusk scale --replicas 1`." });
  // In synchronous mode Patroni promotes only the synchronous standby: without one named, a lost
  // primary is not replaced.
  const candidate = (n: SupervisorStatus["replication"]["nodes"][number]) =>
    (cluster.config.replication_mode === "async" ? n.role !== "primary" : n.role === "sync standby") && n.state === "running" && (n.lagBytes ?? 1) === 0;
  const healthy = (s: SupervisorStatus) => primaryOf(s.replication)?.state === "running" && s.replication.nodes.some(candidate);
  // Right after a role change Patroni takes a moment to name a synchronous standby again.
  const ready = healthy(before) ? before : await waitFor(cluster, "a caught-up failover candidate", healthy, 30_000).catch(() => undefined);
  if (!ready)
    throw new TuskError("IncompatibleState", "No replica is a running, caught-up failover candidate (in synchronous mode: the synchronous standby), so a failover now would find none.", {
      hint: "`tusk status` shows each replica's role, state and lag.",
    });
  const from = primaryOf(ready.replication)!.name;
  const urls = connectionStrings(cluster.config, cluster.paths);
  const table = `tusk_failover_drill_${Date.now()}`;
  // The owner role through the pooler: it reaches whichever node is primary.
  const owner = urls.migrations.replace(`:${cluster.config.ports.direct}/`, `:${cluster.config.ports.pooler}/`);
  await exec(owner, `CREATE TABLE ${table} (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())`);
  try {
    let step = progress.step("Writing a row every 10 ms through the pooled connection string");
    // A switchover pauses clients rather than failing them, so the writer waits as long as an
    // application reasonably would (15 s); for a lost primary it gives up after 5 s and reconnects.
    const writer = new Writer(urls.pooled, table, kind === "switchover" ? 15_000 : 5_000);
    await sleep(2000);
    await untilCommits(writer, 100, 30_000);
    step.done();
    let to: string;
    if (kind === "switchover") {
      step = progress.step(`Switching over from ${from}`);
      to = (await cluster.api.switchover(undefined)).to;
      step.done();
    } else {
      step = progress.step(`Freezing ${from} (Patroni and PostgreSQL stop answering) until a replica takes over`);
      const thaw = freezeNode(cluster.paths.root, from);
      try {
        const after = await waitFor(
          cluster,
          "a replica taking over",
          (s) => {
            const p = primaryOf(s.replication);
            return p !== undefined && p.name !== from && p.state === "running";
          },
          120_000,
        );
        to = primaryOf(after.replication)!.name;
        await sleep(2000);
      } finally {
        thaw();
      }
      step.done();
      step = progress.step(`Waiting for ${from} to rejoin as a replica`);
      await waitFor(
        cluster,
        `${from} rejoining`,
        (s) => {
          const n = s.replication.nodes.find((x) => x.name === from);
          return n !== undefined && n.role !== "primary" && n.state === "running";
        },
        180_000,
      );
      step.done();
    }
    const atChange = writer.commits;
    await sleep(2000);
    await untilCommits(writer, atChange + 100, 30_000);
    const acknowledgedAfter = writer.commits - atChange;
    const report = await writer.stop();
    const found = await exec(urls.pooled, `SELECT count(*)::int AS n FROM ${table} WHERE id = ANY($1)`, [report.acked]);
    const lost = report.acked.length - Number(found.rows[0]?.n ?? 0);
    return {
      kind,
      from,
      to,
      outageMs: report.maxGapMs,
      acknowledged: report.acked.length,
      acknowledgedAfter,
      lost,
      clientErrors: report.errors.length,
      errorKinds: countDistinct(report.errors),
      ok: lost === 0 && acknowledgedAfter > 0,
    };
  } finally {
    await exec(owner, `DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
  }
}

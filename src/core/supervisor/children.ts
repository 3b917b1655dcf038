import { TuskError } from "../errors.js";
import { asRecord } from "../config/effective-settings.js";
import { FIRST_NODE, nodePaths, type NodeInfo } from "../cluster/nodes.js";
import { isJoinedDataHost } from "../network/host-network.js";
import { etcdSpec } from "../processes/etcd.js";
import { haproxySpec } from "../processes/haproxy.js";
import { ManagedProcess, type ProcessSpec } from "../processes/managed-process.js";
import { isServiceOf } from "../processes/leftovers.js";
import { pgbouncerSpec } from "../processes/pgbouncer.js";
import { pgbackrestServerSpec } from "../processes/pgbackrest-server.js";
import { runsBackupServer } from "./node-setup.js";
import { patroniNode, patroniSpec } from "../processes/patroni.js";
import { livePidFromFile, processArgs, sleep, stopEscalating } from "../processes/pid-file.js";
import type { SupervisorContext } from "./context.js";
import { lastLogLines } from "./postgres-log.js";

/** "etcd", "pgbouncer", "haproxy", and one Patroni per node: "patroni" for pg1, "patroni-pgN" for the others. */
export type ChildName = string;

export const patroniChild = (node: string): ChildName => (node === FIRST_NODE ? "patroni" : `patroni-${node}`);
export const nodeOfChild = (child: ChildName): string => (child === "patroni" ? FIRST_NODE : child.slice("patroni-".length));

const MAX_BACKOFF_MS = 30_000;
/** A new replica copies the whole database first. */
const REPLICA_TIMEOUT_MS = 600_000;

/** A supervised child as one observation sees it. */
export interface ChildObservation {
  name: ChildName;
  running: boolean;
  restarts: number;
  /** When its back-off ends; null when it may be restarted at once. */
  restartAfter: number | null;
}

/**
 * The supervised processes: etcd, one Patroni per node (which runs PostgreSQL), PgBouncer and
 * HAProxy. Starting, restarting with exponential back-off, retiring and stopping them.
 */
export class Children {
  private readonly map = new Map<ChildName, ManagedProcess>();
  private readonly restartAfter = new Map<ChildName, number>();
  /** Set once every child is being stopped: nothing is restarted any more. */
  private closing = false;

  constructor(private readonly ctx: SupervisorContext) {}

  /**
   * Start order: etcd, the primary's Patroni, the replicas', PgBouncer, HAProxy, and on a converted
   * cluster's data hosts pgBackRest's TLS server (stop order is the reverse).
   */
  order(): ChildName[] {
    if (this.ctx.network?.role === "witness") return ["etcd"]; // a witness host runs etcd alone
    const backupServer: ChildName[] = runsBackupServer(this.ctx) ? ["pgbackrest-server"] : [];
    if (isJoinedDataHost(this.ctx.network)) return ["etcd", patroniChild(this.ctx.nodes.primary), "pgbouncer", "haproxy", ...backupServer]; // a joined data host: etcd, its node, the endpoints
    return ["etcd", patroniChild(this.ctx.nodes.primary), ...this.ctx.nodes.replicas.map((n) => patroniChild(n.name)), "pgbouncer", "haproxy", ...backupServer];
  }

  get(name: ChildName): ManagedProcess | undefined {
    return this.map.get(name);
  }

  running(name: ChildName): boolean {
    return this.map.get(name)?.running ?? false;
  }

  /** Started at least once and not retired. */
  supervised(name: ChildName): boolean {
    return this.map.has(name);
  }

  observe(): ChildObservation[] {
    return this.order()
      .filter((n) => this.map.has(n))
      .map((name) => ({ name, running: this.running(name), restarts: this.map.get(name)!.restarts, restartAfter: this.restartAfter.get(name) ?? null }));
  }

  specFor(name: ChildName): ProcessSpec {
    const { config, paths, pgUser, etcdOsUser, settings, network } = this.ctx;
    if (name === "etcd") return etcdSpec(config, paths, etcdOsUser, network);
    if (name === "haproxy") return haproxySpec(paths, pgUser);
    if (name === "pgbouncer") return pgbouncerSpec(paths, pgUser, Number(asRecord(settings.pgbouncer).max_client_conn ?? 2000));
    if (name === "pgbackrest-server") return pgbackrestServerSpec(paths, pgUser);
    return patroniSpec(nodePaths(paths, nodeOfChild(name)), pgUser, name);
  }

  /** Starts a child and returns it without waiting for it to be ready. */
  launch(name: ChildName): ManagedProcess {
    const child = new ManagedProcess(this.specFor(name));
    this.map.set(name, child);
    child.onExit((code, signal) => this.ctx.log(`${name} exited (code ${code}, signal ${signal})`));
    child.start();
    return child;
  }

  /** Starts a child and waits until `ready` says so; one that exits or stays unready fails the start. */
  async start(name: ChildName, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const child = this.launch(name);
    const log = this.ctx.paths.log(name);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!child.running) {
        throw new TuskError("ProcessFailed", `${name} exited during start-up (code ${child.lastExit?.code}).`, { detail: lastLogLines("", log), hint: `See ${log}.` });
      }
      if (await ready()) return;
      await sleep(250);
    }
    throw new TuskError("Timeout", `${name} did not become ready within ${timeoutMs / 1000} s.`, { hint: `See ${log}.` });
  }

  /** Starts a replica's Patroni; a new one first copies the primary (pg_basebackup). */
  async startReplica(node: NodeInfo): Promise<void> {
    await this.start(
      patroniChild(node.name),
      async () => {
        const st = await patroniNode(node.ports.patroni);
        return st?.state === "running" && st.role === "replica";
      },
      REPLICA_TIMEOUT_MS,
    );
  }

  /** Restarts a child that exited; the next restart waits twice as long, up to 30 s. */
  restart(name: ChildName, now = Date.now()): void {
    const child = this.map.get(name);
    if (!child || child.running || this.closing) return;
    const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(child.restarts, 5));
    this.restartAfter.set(name, now + backoff);
    child.restarts += 1;
    this.ctx.log(`restarting ${name} (restart ${child.restarts}; next back-off ${backoff} ms)`);
    child.start();
  }

  /**
   * Stops a child for good. It leaves the supervised set first: otherwise the one-second watch sees
   * it down while it stops and restarts it, and that process is then nobody's (seen with HAProxy,
   * whose SO_REUSEPORT let two of them share the port).
   */
  async retire(name: ChildName): Promise<void> {
    const child = this.map.get(name);
    this.map.delete(name);
    this.restartAfter.delete(name);
    await child?.stop((st) => this.ctx.log(`  ${name}: ${st.signal}, waiting up to ${st.waitMs} ms`));
  }

  /** Stops every child in reverse start order, each escalating on its own clock. */
  async stopAll(): Promise<void> {
    this.closing = true;
    // Replicas stop before the primary: a primary stopping first would hand its lock to a replica.
    for (const name of this.order().reverse()) {
      const child = this.map.get(name);
      if (!child) continue;
      this.ctx.log(`stopping ${name}`);
      await child.stop((s) => this.ctx.log(`  ${name}: ${s.signal}, waiting up to ${s.waitMs} ms`));
    }
  }

  /** The children whose PID file names a live process: what a previous supervisor left running. */
  leftRunning(): ChildName[] {
    return this.order().filter((name) => !this.running(name) && livePidFromFile(this.specFor(name).pidFile) !== undefined);
  }

  /**
   * Takes over what a previous supervisor left running (it was killed, or handed over on SIGUSR2):
   * a child whose PID file names a live process with the recorded start time, whose command line is
   * this service's for this state directory, and which `serves` (answers on its port or API), is
   * adopted as it runs. One of ours that does not answer is stopped, to be started afresh. A PID
   * file naming someone else's process (a PID reused after a reboot) is left alone and never
   * signalled.
   */
  async adoptRunning(serves: (name: ChildName) => Promise<boolean>): Promise<{ adopted: ChildName[]; stopped: ChildName[] }> {
    const adopted: ChildName[] = [];
    const stopped: ChildName[] = [];
    for (const name of this.order()) {
      const spec = this.specFor(name);
      const pid = livePidFromFile(spec.pidFile);
      if (pid === undefined || this.map.get(name)?.running) continue;
      if (!isServiceOf(spec.command, pid, this.ctx.paths.root)) {
        this.ctx.log(`${name}: ${spec.pidFile} names pid ${pid}, which is not this cluster's ${name} (${processArgs(pid).join(" ").slice(0, 80)}): not adopted, not signalled`);
        continue;
      }
      if (await serves(name)) {
        const child = new ManagedProcess(spec);
        child.adopt(pid);
        child.onExit((code, signal) => this.ctx.log(`${name} exited (code ${code}, signal ${signal})`));
        this.map.set(name, child);
        adopted.push(name);
        this.ctx.log(`adopted ${name} (pid ${pid}), left running by a previous supervisor`);
      } else {
        this.ctx.log(`stopping ${name} (pid ${pid}), left by a previous supervisor: it does not answer`);
        await stopEscalating(pid, spec.stopSteps, (st) => this.ctx.log(`  ${name}: ${st.signal}, waiting up to ${st.waitMs} ms`));
        stopped.push(name);
      }
    }
    return { adopted, stopped };
  }
}

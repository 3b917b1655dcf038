import { TuskError } from "../errors.js";
import { EtcdMembers } from "../network/etcd-members.js";
import { etcdReady } from "../processes/etcd.js";
import { sleep } from "../processes/pid-file.js";
import type { Children } from "./children.js";
import type { SupervisorContext } from "./context.js";
import { decideWitness, type Decision, type WitnessState } from "./decide.js";
import { ensureDir } from "../state-dir.js";
import { adoptLeftRunning } from "./adoption.js";

/** How long a new member may take to receive the cluster's log. */
const CATCH_UP_MS = 60_000;

/**
 * A witness host: it runs etcd alone, a member of the cluster's etcd (a learner first), so that
 * with three hosts etcd keeps a majority when any one is lost. Its start-up starts etcd and waits
 * until it has the cluster's log; its watch restarts etcd when it exits.
 */
export class Witness {
  private readonly etcd: EtcdMembers;

  constructor(
    private readonly ctx: SupervisorContext,
    private readonly children: Children,
  ) {
    this.etcd = EtcdMembers.local(ctx.config.ports.etcd_client);
  }

  async start(step: <T>(label: string, work: () => Promise<T>) => Promise<T>): Promise<void> {
    const { ctx, children } = this;
    ensureDir(ctx.paths.runDir, 0o755);
    ensureDir(ctx.paths.logDir, 0o755);
    ensureDir(ctx.paths.etcdDataDir, 0o700, { uid: ctx.etcdOsUser.uid, gid: ctx.etcdOsUser.gid });
    const first = ctx.network!.hosts[0]!;
    const left = children.leftRunning();
    if (left.length > 0) await step(`Adopting the processes a previous supervisor left running (${left.join(", ")})`, () => adoptLeftRunning(ctx, children, undefined));
    if (!children.running("etcd")) await step(`Starting etcd, a member of the cluster of ${first.name} (${first.address})`, () => children.start("etcd", () => etcdReady(ctx.config), 30_000));
    await step("Receiving the cluster's etcd log", () => this.caughtUp());
  }

  private caughtUp(): Promise<void> {
    return etcdCaughtUp(this.ctx, this.etcd);
  }

  async observe(): Promise<WitnessState> {
    return { at: Date.now(), children: this.children.observe(), etcd: await etcdSelf(this.etcd) };
  }

  async decide(): Promise<Decision[]> {
    return decideWitness(await this.observe());
  }
}

/** Until this host's etcd member knows the leader and has applied every entry it knows of (a host that joined). */
export async function etcdCaughtUp(ctx: SupervisorContext, etcd: EtcdMembers): Promise<void> {
  const deadline = Date.now() + CATCH_UP_MS;
  for (;;) {
    const s = await etcd.status().catch(() => undefined);
    if (s && s.leader !== "0" && s.raftIndex > 0 && s.raftAppliedIndex >= s.raftIndex) return;
    if (Date.now() > deadline) {
      throw new TuskError("Unreachable", `etcd here has not received the cluster's log within ${CATCH_UP_MS / 1000} s.`, {
        hint: `Check that the other hosts reach this one on port ${ctx.config.ports.etcd_peer} and it reaches them; see ${ctx.paths.log("etcd")}.`,
      });
    }
    await sleep(500);
  }
}

/** This host's etcd member as it sees itself; undefined when it does not answer. */
export async function etcdSelf(etcd: EtcdMembers): Promise<WitnessState["etcd"]> {
  const s = await etcd.status().catch(() => undefined);
  return s && { learner: s.isLearner, leaderKnown: s.leader !== "0" };
}

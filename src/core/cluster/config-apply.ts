import { TuskError } from "../errors.js";
import type { ChangePlan } from "../config/config-change.js";
import { sleep } from "../processes/pid-file.js";
import type { Progress } from "../progress.js";
import type { SettingsChangeResult } from "../supervisor/settings-change.js";
import type { ApiClient } from "../supervisor/api-client.js";

/** What applying needs of a cluster: its validated tusk.yaml (reading it throws its problems) and its API. */
interface Target {
  readonly config: unknown;
  readonly api: ApiClient;
}

/** The plan as lines: one per change, how it is made. */
export function describePlan(plan: ChangePlan): string[] {
  const label = { reload: "reload", restart: "rolling restart", refused: "refused" } as const;
  return plan.changes.map((c) => `  [${label[c.how]}] ${c.sentence}`);
}

/**
 * Applies tusk.yaml to a running cluster (`tusk config apply`, and `tusk up` on a running cluster):
 * shows what will change, refuses as a whole if a change cannot be made live, then follows the
 * supervisor's settings operation as progress. `dryRun` shows the plan only.
 */
export async function applyConfigLive(cluster: Target, progress: Progress, dryRun = false): Promise<{ plan: ChangePlan; result: SettingsChangeResult | null }> {
  void cluster.config; // tusk.yaml is valid, or this throws its problems (exit 3)
  const plan = await cluster.api.configPlan();
  if (plan.changes.length === 0) return { plan, result: null };
  progress.info(`tusk.yaml differs from what the cluster runs:\n${describePlan(plan).join("\n")}`);
  if (plan.refused) {
    throw new TuskError("IncompatibleState", "tusk.yaml changes what cannot change on the running cluster, so nothing was applied.", {
      hint: "Put the refused keys back as they were to apply the rest now, or follow what each refused line says.",
    });
  }
  if (dryRun) return { plan, result: null };
  const step = progress.step(plan.restart ? "Applying tusk.yaml (reload, then a rolling restart one node at a time)" : "Applying tusk.yaml (reload)");
  let done = false;
  let shown = "";
  const follow = (async () => {
    // The operation's progress, as the supervisor's queue reports it, until the answer comes.
    for (let i = 0; i < 3600 && !done; i++) {
      await sleep(500);
      const op = await cluster.api
        .status()
        .then((s) => s.operations.running.find((o) => o.kind === "settings"))
        .catch(() => undefined);
      if (op?.progress && op.progress !== shown) {
        shown = op.progress;
        step.update(shown);
      }
    }
  })();
  try {
    const result = await cluster.api.applyConfig();
    step.done(result.restarted.length ? `restarted ${result.restarted.join(", ")}${result.switchedOver ? `; primary now ${result.switchedOver.to}` : ""}` : undefined);
    return { plan, result };
  } catch (e) {
    step.fail();
    throw e;
  } finally {
    done = true;
    await follow;
  }
}

import type { Command } from "commander";
import { describePlan, ensureInstalled, planInstall } from "../../core/install/installer.js";
import { isRoot } from "../../core/os-user.js";
import { INSTALL_LOG, TEST_PACKAGES } from "../../core/install/components.js";
import { terminalProgress } from "../terminal-progress.js";

export function registerInstall(program: Command): void {
  program
    .command("install")
    .description("install what tusk needs and is missing (Debian packages; pgvector and PgBouncer built from Debian's next-release source packages), without starting anything")
    .option("--check", "only report what is missing; exit 5 if something is")
    .option("--test-tools", "also what the test suite needs: Prometheus and Chromium (Debian packages)")
    .action(async (opts: { check?: boolean; testTools?: boolean }) => {
      const extra = opts.testTools ? TEST_PACKAGES : [];
      if (opts.check) {
        const plan = await planInstall(extra);
        const missing = describePlan(plan);
        console.log(missing ? `Missing: ${missing}` : "Everything tusk needs is installed.");
        if (missing) process.exitCode = 5;
        return;
      }
      const started = Date.now();
      const plan = await ensureInstalled(terminalProgress(), INSTALL_LOG, isRoot(), extra);
      const what = describePlan(plan);
      console.log(what ? `Installed ${what} in ${((Date.now() - started) / 1000).toFixed(1)} s.` : "Everything tusk needs is already installed.");
    });
}

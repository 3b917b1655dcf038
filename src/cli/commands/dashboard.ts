import type { Command } from "commander";
import { createToken, listTokens, revokeToken } from "../../core/api-tokens.js";
import { clusterFor } from "../context.js";

/** The dashboard's own token: replaced each time, so one link works at a time. */
const DASHBOARD_TOKEN = "dashboard";

export function registerDashboard(program: Command): void {
  program
    .command("dashboard")
    .description("print the web dashboard's address with a fresh sign-in token (the previous dashboard link stops working)")
    .option("--json", "print the URL and token as JSON")
    .action(async (opts: { json?: boolean }, command: Command) => {
      const cluster = clusterFor(command);
      await cluster.status();
      if (listTokens(cluster.paths).some((t) => t.name === DASHBOARD_TOKEN)) revokeToken(cluster.paths, DASHBOARD_TOKEN);
      const token = createToken(cluster.paths, DASHBOARD_TOKEN);
      const url = `http://127.0.0.1:${cluster.config.ports.api}/`;
      if (opts.json) return void console.log(JSON.stringify({ url, token }));
      console.log(`Dashboard: ${url}#token=${token}`);
      console.log(`Sign-in token: ${token}`);
      console.log(`It listens on 127.0.0.1 only; from another machine, tunnel it: ssh -L ${cluster.config.ports.api}:127.0.0.1:${cluster.config.ports.api} <this host>`);
    });
}

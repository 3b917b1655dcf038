import type { Command } from "commander";
import { createToken, listTokens, revokeToken } from "../../core/api-tokens.js";
import { clusterFor } from "../context.js";
import { table, when } from "../format.js";

export function registerToken(program: Command): void {
  const token = program.command("token").description("API tokens (stored hashed; a token is shown once, when made)");
  token
    .command("create <name>")
    .description("make a token for the HTTP API, the dashboard or Prometheus")
    .action((name: string, _opts: unknown, command: Command) => {
      const value = createToken(clusterFor(command).paths, name);
      console.log(value);
      console.error(`Token "${name}" made. It is shown only now; tusk keeps its SHA-256. Send it as: Authorization: Bearer <token>`);
    });
  token
    .command("list")
    .description("the tokens' names and when they were made")
    .action((_opts: unknown, command: Command) => {
      const tokens = listTokens(clusterFor(command).paths);
      console.log(
        tokens.length
          ? table(
              tokens.map((t) => [t.name, when(t.createdAt)]),
              ["NAME", "CREATED"],
            )
          : "No token yet (tusk token create NAME).",
      );
    });
  token
    .command("revoke <name>")
    .description("revoke a token at once")
    .action((name: string, _opts: unknown, command: Command) => {
      revokeToken(clusterFor(command).paths, name);
      console.log(`Token "${name}" revoked.`);
    });
}

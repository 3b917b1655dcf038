import { existsSync } from "node:fs";
import type { Command } from "commander";
import { TuskError } from "../../core/errors.js";
import { caCertificate, clusterCa } from "../../core/tls/cluster-ca.js";
import { clusterFor } from "../context.js";

export function registerCa(program: Command): void {
  program
    .command("ca")
    .description("print the cluster's CA certificate (PEM): give it to clients for sslmode=verify-full (sslrootcert)")
    .action((_opts: unknown, command: Command) => {
      const { paths } = clusterFor(command);
      if (!existsSync(clusterCa(paths).cert)) {
        throw new TuskError("NotRunning", `The cluster in ${paths.root} has no CA yet: it is made when the cluster starts.`, { hint: "Run tusk up." });
      }
      process.stdout.write(caCertificate(paths));
    });
}

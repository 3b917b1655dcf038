import type { Command } from "commander";
import type { CertificateFact } from "../../core/tls/certificate-facts.js";
import { clusterFor } from "../context.js";
import { terminalProgress } from "../terminal-progress.js";
import { table, when } from "../format.js";

const formatCertificates = (certs: CertificateFact[]): string =>
  table(
    certs.map((c) => [c.host, c.certificate, when(c.expiresAt), `${Math.floor((Date.parse(c.expiresAt) - Date.now()) / 86_400_000)} d`, c.serial ?? "(recorded when issued)"]),
    ["HOST", "CERTIFICATE", "ENDS", "LEFT", "SERIAL"],
  );

export function registerCerts(program: Command): void {
  const certs = program
    .command("certs")
    .description("this host's certificates (the CA's, the server's, etcd's) and those the cluster issued its other hosts, with when each ends")
    .option("--json", "print them as JSON")
    .action(async (opts: { json?: boolean }, command: Command) => {
      const list = await clusterFor(command).api.certificates();
      console.log(opts.json ? JSON.stringify(list, null, 2) : formatCertificates(list));
    });
  certs
    .command("renew")
    .description(
      "renew this host's certificates now (tusk does it by itself 45 days before the first ends): the first host issues its own, another host asks the first host; every process takes them up without a database restart",
    )
    .option("--json", "print the result as JSON")
    .action(async (_opts: unknown, command: Command) => {
      // `certs` takes --json too, and commander gives it the flag wherever it is written.
      const opts = command.optsWithGlobals<{ json?: boolean }>();
      const cluster = clusterFor(command);
      const step = terminalProgress().step("Renewing this host's certificates");
      try {
        const r = await cluster.api.renewCertificates();
        step.done();
        console.log(opts.json ? JSON.stringify(r, null, 2) : `${formatCertificates(r.certificates)}\n\n${r.applied.map((a) => `- ${a}`).join("\n")}`);
      } catch (e) {
        step.fail();
        throw e;
      }
    });
}

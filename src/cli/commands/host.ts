import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { parseDuration } from "../../core/config/units.js";
import { HOST_ROLES, type HostRole } from "../../core/network/join-tokens.js";
import { TOKEN_TTL_MS, type HostTokenResult } from "../../core/supervisor/host-tokens.js";
import type { HostVersions } from "../../core/supervisor/host-versions.js";
import { clusterFor } from "../context.js";
import { formatAcrossHosts, formatHostNodes, table, when } from "../format.js";
import { connectionStrings } from "../../core/cluster/connection-strings.js";
import { terminalProgress } from "../terminal-progress.js";

function parseRole(value: string): HostRole {
  if (!HOST_ROLES.includes(value as HostRole)) throw new InvalidArgumentError(`must be one of ${HOST_ROLES.join(", ")}, not "${value}".`);
  return value as HostRole;
}

function parseTtl(value: string): number {
  const ms = parseDuration(value, "s");
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError(`must be a duration such as 30min, 1h or 2d, not "${value}".`);
  if (ms < TOKEN_TTL_MS.min || ms > TOKEN_TTL_MS.max) throw new InvalidArgumentError(`must be between 1 minute and 7 days, not ${value}.`);
  return Math.round(ms / 1000);
}

/** The conversion's steps with their time and what clients saw, then the token. */
export function formatHostToken(r: HostTokenResult): string[] {
  const lines: string[] = [];
  if (r.conversion) {
    lines.push(`Converted for the network on ${r.conversion.address} in ${(r.conversion.totalMs / 1000).toFixed(1)} s:`);
    lines.push(
      table(
        r.conversion.steps.map((s) => [s.step, `${(s.ms / 1000).toFixed(1)} s`, s.clients]),
        ["STEP", "TIME", "CLIENTS"],
      ),
    );
    if (r.conversion.switchedOver) lines.push(`The primary moved from ${r.conversion.switchedOver.from} to ${r.conversion.switchedOver.to} for its restart.`);
    lines.push("");
  }
  lines.push(`Join token for a ${r.role} host (single use, valid until ${when(r.expiresAt)}; join endpoint ${r.endpoint}):`, r.token);
  return lines;
}

/** A host's versions in a cell: PostgreSQL's (etcd's on a witness) and tusk's; --json has every engine and extension. */
function formatVersions(v: HostVersions | null): string {
  if (!v) return "-";
  const main = v.engines.postgres ? `PostgreSQL ${v.engines.postgres}` : v.engines.etcd ? `etcd ${v.engines.etcd}` : "";
  return [main, `tusk ${v.tusk}`].filter(Boolean).join(", ");
}

export function registerHost(program: Command): void {
  program
    .command("hosts")
    .description(
      "the cluster's hosts: role, etcd membership (voter or learner), whether each host's etcd answers from here, certificate expiry, its PostgreSQL nodes (role, state, lag), the versions it runs; then the connection strings across hosts",
    )
    .option("--json", "print the hosts as JSON")
    .action(async (opts: { json?: boolean }, command: Command) => {
      const cluster = clusterFor(command);
      const hosts = await cluster.api.hosts();
      if (opts.json) {
        console.log(JSON.stringify(hosts, null, 2));
        return;
      }
      console.log(
        table(
          hosts.map((h) => [
            h.name,
            h.address,
            h.role,
            h.etcd,
            h.reachable ? "yes" : "no",
            h.certificateExpires ? when(h.certificateExpires) : "-",
            formatHostNodes(h.nodes),
            formatVersions(h.versions),
          ]),
          ["NAME", "ADDRESS", "ROLE", "ETCD", "REACHABLE", "CERTIFICATE ENDS", "POSTGRESQL", "VERSIONS"],
        ),
      );
      const across = connectionStrings(cluster.config, cluster.paths).acrossHosts;
      if (across) console.log(`\n${formatAcrossHosts(across).join("\n")}`);
    });
  const host = program.command("host").description("hosts of a cluster over several machines");
  host
    .command("remove <name>")
    .description("remove a host, also a dead one: its etcd member leaves the membership, and it leaves pg_hba and Patroni's etcd list; run tusk destroy on that machine")
    .option("--json", "print the result as JSON")
    .action(async (name: string, opts: { json?: boolean }, command: Command) => {
      const r = await clusterFor(command).api.removeHost(name);
      console.log(
        opts.json
          ? JSON.stringify(r, null, 2)
          : `Host ${r.name} (${r.address}) removed${r.etcdMemberRemoved ? "; its etcd member left the membership" : ""}. If that machine still runs, tusk destroy there.`,
      );
    });
  host
    .command("token")
    .description("make a single-use join token for another host; the first converts the cluster for the network (etcd with mutual TLS, listening on this host's address), with restarts it reports")
    .option("--role <role>", `what the joining host becomes: ${HOST_ROLES.join(", ")}`, parseRole, "data" as HostRole)
    .option("--ttl <duration>", "how long the token stays valid (1 minute to 7 days)", parseTtl, 3600)
    .option("--address <ip>", "this machine's address for the other hosts (first token only; default: tusk.yaml's listen_address)")
    .option("--json", "print the result as JSON")
    .action(async (opts: { role: HostRole; ttl: number; address?: string; json?: boolean }, command: Command) => {
      const cluster = clusterFor(command);
      await cluster.status();
      const step = terminalProgress().step("Making a join token (the first converts the cluster for the network: restarts, a few seconds each)");
      let r: HostTokenResult;
      try {
        r = await cluster.api.hostToken({ role: opts.role, ttlSeconds: opts.ttl, address: opts.address });
        step.done();
      } catch (e) {
        step.fail();
        throw e;
      }
      console.log(opts.json ? JSON.stringify(r, null, 2) : formatHostToken(r).join("\n"));
    });
}

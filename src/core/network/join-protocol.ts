import type { HostRecord } from "./host-network.js";
import type { HostRole } from "./join-tokens.js";

/** What a joining host sends with its token: who it is, what it runs, its clock, and a CSR (its key stays with it). */
export interface JoinRequest {
  secret: string;
  name: string;
  address: string;
  role: HostRole;
  postgresMajor: number;
  /** Extension builds it has: name → version. */
  extensions: Record<string, string>;
  /** Its clock when it sent the request (ms since the epoch). */
  clock: number;
  /** PEM certificate signing request for its certificate. */
  csr: string;
  /** Its state directory (pgBackRest on the other hosts names files in it). */
  stateDir?: string;
}

/** What the cluster answers: its name and ports, the CA, the joiner's certificate, the hosts and etcd's membership. */
export interface JoinAnswer {
  clusterName: string;
  ports: Record<string, number>;
  ca: string;
  cert: string;
  /** Every host, the joiner last. */
  hosts: HostRecord[];
  /**
   * A data host's credentials, the same on every host: PostgreSQL's superuser, replication and
   * rewind passwords (Patroni uses them between hosts), the Patroni API's, and the application,
   * owner and monitoring roles' (the connection strings a data host prints; its PgBouncer reads
   * their verifiers from PostgreSQL).
   */
  secrets?: { superuser: string; replication: string; rewind: string; patroni_rest: string; app?: string; owner?: string; monitor?: string };
  /** A data host's copy of the CA's key (PEM), so that the key survives the loss of the first host. */
  caKey?: string;
  /** A data host's tusk.yaml settings that must match the cluster's: how commits wait for replicas. */
  replicationMode?: string;
  /**
   * The cluster's S3 repository, for a data host: its node archives WAL there itself (and only
   * there when it is the cluster's only repository), with the secret key and the store's CA
   * certificate (PEM), when tusk.yaml names one, in the answer.
   */
  s3?: JoinS3;
}

/** `backups.s3` as a data host receives it: the settings, and the contents of the files they name. */
export interface JoinS3 {
  endpoint: string;
  bucket: string;
  region: string;
  path: string;
  uri_style: "host" | "path";
  access_key_id: string;
  secret_access_key: string;
  ca?: string;
  only: boolean;
}

/** The facts a join is checked against, on the cluster's side. */
export interface JoinFacts {
  postgresMajor: number;
  extensions: Record<string, string>;
  hosts: readonly HostRecord[];
  /** The names of the cluster's PostgreSQL nodes (Patroni's members): a data host's node takes the host's name. */
  nodeNames: readonly string[];
  now: number;
}

/** How far apart two hosts' clocks may be: Patroni's leader lock lives 6 s, and etcd's leases and TLS validity read the clock. */
export const MAX_CLOCK_SKEW_MS = 1000;

const NAME = /^[a-z][a-z0-9-]{0,30}$/;

/**
 * Why a join is refused, each with what to do; empty when it may go on. Pure: the caller spends the
 * token only when this is empty, so a refused join changes nothing.
 */
export function joinProblems(req: JoinRequest, facts: JoinFacts): { problem: string; hint: string }[] {
  const out: { problem: string; hint: string }[] = [];
  if (!NAME.test(req.name))
    out.push({ problem: `The host name "${req.name}" is not a name tusk can use.`, hint: "Use lowercase letters, digits and dashes, starting with a letter (at most 31): --name db2." });
  const taken = facts.hosts.find((h) => h.name === req.name);
  if (taken) out.push({ problem: `A host named ${req.name} is already in the cluster (${taken.address}).`, hint: "Join with another --name, or remove that host first (tusk host remove)." });
  const sameAddress = facts.hosts.find((h) => h.address === req.address);
  if (sameAddress) out.push({ problem: `${req.address} is already the address of host ${sameAddress.name}.`, hint: "Join from another machine, or give this machine's own address with --address." });
  if (req.role === "data" && facts.nodeNames.includes(req.name)) {
    out.push({ problem: `${req.name} is the name of a PostgreSQL node of the cluster; a data host's node takes the host's name.`, hint: "Join with another --name, such as db2." });
  }
  if (req.role === "data" && req.postgresMajor !== facts.postgresMajor) {
    out.push({
      problem: `This host has PostgreSQL ${req.postgresMajor}; the cluster runs PostgreSQL ${facts.postgresMajor}.`,
      hint: `Install PostgreSQL ${facts.postgresMajor} here (tusk install) and join again.`,
    });
  }
  if (req.role === "data") {
    for (const [name, version] of Object.entries(facts.extensions)) {
      if (req.extensions[name] !== version) {
        out.push({
          problem: `Extension ${name}: the cluster has ${version}, this host ${req.extensions[name] ?? "none"}.`,
          hint: "Run tusk install on this host (it builds the same versions), then join again.",
        });
      }
    }
  }
  const skew = req.clock - facts.now;
  if (Math.abs(skew) > MAX_CLOCK_SKEW_MS) {
    out.push({
      problem: `This host's clock is ${(skew / 1000).toFixed(1)} s ${skew > 0 ? "ahead of" : "behind"} the cluster's (at most ${MAX_CLOCK_SKEW_MS / 1000} s is allowed).`,
      hint: "Synchronise the clocks (systemd-timesyncd or chrony on every host), then join again.",
    });
  }
  return out;
}

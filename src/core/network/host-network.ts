import { existsSync, readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { loadConfig, type TuskConfig } from "../config/config-file.js";
import { isLoopback } from "../generate/pg-hba.js";
import { writeAtomic, type StatePaths } from "../state-dir.js";
import type { HostRole } from "./join-tokens.js";

/**
 * A cluster converted for the network (the first `tusk host token`): this host's address, on which
 * etcd (mutual TLS), PostgreSQL, PgBouncer and HAProxy listen beside loopback, and the addresses of
 * the cluster's hosts, the only ones pg_hba admits for replication and pg_rewind. Kept in
 * STATE_DIR/network.json; a cluster without it is a one-machine cluster, as `tusk up` made it.
 */
export interface HostNetwork {
  /** This host's address for the other hosts. */
  address: string;
  /** This host's name among the cluster's hosts (unique; the first host is "host1"). */
  name: string;
  /** What this host runs: data (PostgreSQL and etcd) or witness (etcd only). */
  role: HostRole;
  /** Every host of the cluster, this one included, in the order they joined. */
  hosts: HostRecord[];
  /** When the cluster was converted, or this host joined (ISO 8601). */
  since: string;
}

/** One host of the cluster as every host records it. */
export interface HostRecord {
  name: string;
  address: string;
  role: HostRole;
  /** Its etcd member's name. */
  etcdName: string;
  /** When the certificate the cluster issued it ends (ISO 8601); recorded at its join. */
  certificateExpires?: string;
  /**
   * Its state directory. pgBackRest on one host names files of another: its TLS server reads the
   * options from the file the client names (`repo1-host-config`, `pg1-host-config`), and a backup
   * names the primary's data directory and socket there.
   */
  stateDir?: string;
}

/** The first host: the one `tusk up` made, converted by the first `tusk host token`. */
export const FIRST_HOST = "host1";

/**
 * A data host that joined a cluster (not the first host): it runs etcd and one PostgreSQL node under
 * Patroni, named after the host, which Patroni made a replica of the leader when it first started.
 */
export const isJoinedDataHost = (network: HostNetwork | null): boolean => network !== null && network.role === "data" && network.hosts[0]?.name !== network.name;

/** The etcd member name of a host: the first host keeps the one-machine name. */
export const etcdMemberName = (clusterName: string, host: string): string => (host === FIRST_HOST ? `${clusterName}-etcd1` : `${clusterName}-${host}`);

/**
 * The common name of a joined host's certificate (its key is made on the host at the join): what
 * pgBackRest's TLS server authorizes (`tls-server-auth`) for the cluster's stanza.
 */
export const hostCertificateName = (host: string): string => `${host} etcd`;

/** An address as the host part of a URL (IPv6 in brackets). */
export const urlHost = (address: string): string => (address.includes(":") ? `[${address}]` : address);

export const networkFile = (paths: StatePaths): string => join(paths.root, "network.json");

export function readHostNetwork(paths: StatePaths): HostNetwork | null {
  const file = networkFile(paths);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as HostNetwork) : null;
}

export function writeHostNetwork(paths: StatePaths, network: HostNetwork): void {
  writeAtomic(networkFile(paths), `${JSON.stringify(network, null, 2)}\n`, 0o644);
}

/**
 * tusk.yaml as a converted cluster runs it: it listens on the host's address too. tusk.yaml's own
 * `listen_address` is either loopback or that same address (conversion refuses anything else).
 */
export function networkedConfig(config: TuskConfig, network: HostNetwork | null): TuskConfig {
  return network ? { ...config, listen_address: network.address } : config;
}

/** tusk.yaml of a state directory, as the cluster runs it. */
export function loadEffectiveConfig(paths: StatePaths): TuskConfig {
  return networkedConfig(loadConfig(paths.configFile), readHostNetwork(paths));
}

/** The IPv4 and IPv6 addresses of this machine's interfaces (what an address to convert on must be one of). */
export function localAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .map((a) => a.address);
}

/**
 * The address a cluster is converted on, or the reason it cannot be: the one given, else tusk.yaml's
 * non-loopback `listen_address`; it must be a single address of this machine, not loopback or a
 * wildcard (other hosts must reach it by name in certificates and pg_hba).
 */
export function conversionAddress(given: string | undefined, config: TuskConfig, local: readonly string[]): { address: string } | { problem: string; hint: string } {
  const configured = isLoopback(config.listen_address) ? undefined : config.listen_address;
  const address = given ?? configured;
  if (address === undefined) {
    return {
      problem: "The cluster listens on loopback only, and no address was given for the other hosts to reach it on.",
      hint: `Give this machine's address: --address ADDRESS (one of: ${external(local).join(", ") || "none found"}).`,
    };
  }
  if (address === "*" || address === "0.0.0.0" || address === "::" || isLoopback(address)) {
    return { problem: `--address ${address} is not one address other hosts can reach.`, hint: `Give one of this machine's addresses: ${external(local).join(", ") || "none found"}.` };
  }
  if (configured !== undefined && configured !== address) {
    return { problem: `tusk.yaml's listen_address is ${configured}, not ${address}.`, hint: `Use --address ${configured}, or change listen_address in tusk.yaml (tusk down, tusk up) first.` };
  }
  if (!local.includes(address)) {
    return { problem: `${address} is not an address of this machine.`, hint: `Use one of: ${external(local).join(", ") || "none found"}.` };
  }
  return { address };
}

function external(local: readonly string[]): string[] {
  return local.filter((a) => !isLoopback(a) && !a.startsWith("fe80:"));
}

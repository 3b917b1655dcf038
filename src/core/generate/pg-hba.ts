import { ROLES } from "../endpoints.js";

/** Roles never admitted from beyond loopback on a single host (first match wins: these reject first). */
const LOOPBACK_ONLY = [ROLES.superuser, ROLES.replication, ROLES.rewind];

/**
 * Client authentication rules (PostgreSQL docs 21.1, pg_hba.conf). No `trust` anywhere: local
 * connections of the postgres OS user use peer (Patroni's own maintenance), everything else SCRAM.
 * A non-loopback listen address gets hostssl rules only: a crossed network means TLS, and the
 * superuser, replication and rewind roles are rejected from there (replicas and pg_rewind connect
 * over loopback; nothing needs them from the network).
 * A cluster converted for the network admits, from each of its hosts' addresses only and over TLS,
 * the replication role (streaming replicas) and the rewind role (pg_rewind, which is an ordinary
 * connection, not a replication one); those rules come before the rejections.
 */
export function pgHbaRules(listenAddress: string, hosts: readonly string[] = []): string[] {
  const rules = [
    `local all ${ROLES.superuser} peer`,
    "local all all scram-sha-256",
    `host replication ${ROLES.replication} 127.0.0.1/32 scram-sha-256`,
    `host replication ${ROLES.replication} ::1/128 scram-sha-256`,
    "host all all 127.0.0.1/32 scram-sha-256",
    "host all all ::1/128 scram-sha-256",
  ];
  for (const host of hosts) {
    const cidr = `${host}/${host.includes(":") ? 128 : 32}`;
    rules.push(`hostssl replication ${ROLES.replication} ${cidr} scram-sha-256`, `hostssl all ${ROLES.rewind} ${cidr} scram-sha-256`);
  }
  if (!isLoopback(listenAddress)) {
    for (const role of LOOPBACK_ONLY) rules.push(`host all ${role} 0.0.0.0/0 reject`, `host all ${role} ::/0 reject`);
    rules.push("hostssl all all 0.0.0.0/0 scram-sha-256", "hostssl all all ::/0 scram-sha-256");
  }
  return rules;
}

export function isLoopback(address: string): boolean {
  return address === "localhost" || address === "::1" || address.startsWith("127.");
}

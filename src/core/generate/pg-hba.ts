import { ROLES } from "../endpoints.js";

/**
 * Client authentication rules (PostgreSQL docs 21.1, pg_hba.conf). No `trust` anywhere: local
 * connections of the postgres OS user use peer (Patroni's own maintenance), everything else SCRAM.
 * A non-loopback listen address gets hostssl rules only: a crossed network means TLS.
 */
export function pgHbaRules(listenAddress: string): string[] {
  const rules = [
    `local all ${ROLES.superuser} peer`,
    "local all all scram-sha-256",
    `host replication ${ROLES.replication} 127.0.0.1/32 scram-sha-256`,
    `host replication ${ROLES.replication} ::1/128 scram-sha-256`,
    "host all all 127.0.0.1/32 scram-sha-256",
    "host all all ::1/128 scram-sha-256",
  ];
  if (!isLoopback(listenAddress)) {
    rules.push(`hostssl replication ${ROLES.replication} 0.0.0.0/0 scram-sha-256`);
    rules.push("hostssl all all 0.0.0.0/0 scram-sha-256", "hostssl all all ::/0 scram-sha-256");
  }
  return rules;
}

export function isLoopback(address: string): boolean {
  return address === "localhost" || address === "::1" || address.startsWith("127.");
}

import { createServer } from "node:net";
import type { PortName } from "../endpoints.js";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1" }, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Distinct free loopback ports, one for every service of a cluster (clones, tests, benchmarks). */
export async function freePortSet(): Promise<Record<PortName, number>> {
  const names: PortName[] = ["postgres", "pooler", "patroni", "etcd_client", "etcd_peer", "api"];
  const ports = new Set<number>();
  while (ports.size < names.length) ports.add(await freePort());
  const list = [...ports];
  return Object.fromEntries(names.map((n, i) => [n, list[i]!])) as Record<PortName, number>;
}

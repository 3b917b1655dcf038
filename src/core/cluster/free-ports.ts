import { createServer } from "node:net";
import { DEFAULT_PORTS, type PortName } from "../endpoints.js";

/**
 * Below Linux's ephemeral range (32768–60999 by default): a port chosen there could be taken as the
 * local port of some outgoing connection between the choice and the bind.
 */
const FIRST = 20_000;
const LAST = 32_000;

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Distinct free loopback ports, one for every service of a cluster (clones, tests, benchmarks),
 * none of them in `exclude` (ports already handed out and not yet bound).
 */
export async function freePortSet(exclude: Iterable<number> = []): Promise<Record<PortName, number>> {
  const taken = new Set(exclude);
  const names = Object.keys(DEFAULT_PORTS) as PortName[];
  const ports: number[] = [];
  // A random start spreads concurrent callers (test files run two at a time) apart.
  let port = FIRST + Math.floor(Math.random() * (LAST - FIRST));
  for (let tried = 0; ports.length < names.length && tried < LAST - FIRST; tried++, port = port + 1 > LAST ? FIRST : port + 1) {
    if (!taken.has(port) && (await canBind(port))) ports.push(port);
  }
  if (ports.length < names.length) throw new Error(`fewer than ${names.length} free ports between ${FIRST} and ${LAST}`);
  return Object.fromEntries(names.map((n, i) => [n, ports[i]!])) as Record<PortName, number>;
}

import { createServer } from "node:net";
import { TuskError } from "../errors.js";
import type { TuskConfig } from "../config/config-file.js";
import type { HostFacts } from "../config/host-facts.js";
import { GiB } from "../config/units.js";

/** Below these, tusk refuses to start rather than run a database that will fail under load. */
export const MIN_FREE_DISK_BYTES = 1 * GiB;
export const MIN_MEMORY_BYTES = 1 * GiB;

const gib = (n: number) => `${(n / GiB).toFixed(1)} GiB`;

/** Pure check of the host against the minimums. */
export function checkResources(host: HostFacts, stateDir: string): void {
  if (host.memoryBytes < MIN_MEMORY_BYTES) {
    throw new TuskError("InsufficientResources", `This machine has ${gib(host.memoryBytes)} of memory; tusk needs at least ${gib(MIN_MEMORY_BYTES)}.`, {
      hint: "Run tusk on a machine with more memory.",
    });
  }
  if (host.diskFreeBytes < MIN_FREE_DISK_BYTES) {
    throw new TuskError("InsufficientResources", `Only ${gib(host.diskFreeBytes)} is free on the filesystem of ${stateDir}; tusk needs at least ${gib(MIN_FREE_DISK_BYTES)}.`, {
      hint: "Free some space, or choose a state directory on a larger filesystem with --state-dir.",
    });
  }
}

function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Refuses to start when any configured port is taken, naming the port and its setting. */
export async function checkPorts(config: TuskConfig, configFile: string): Promise<void> {
  for (const [name, port] of Object.entries(config.ports)) {
    if (!(await portFree(port, "127.0.0.1"))) {
      throw new TuskError("PortInUse", `Port ${port} (ports.${name}) is already in use on 127.0.0.1.`, {
        hint: `Stop whatever listens there (\`ss -ltnp 'sport = :${port}'\` shows it${name === "postgres" ? "; Debian's own cluster shows in `pg_lsclusters`" : ""}) or set another port under ports: in ${configFile}.`,
      });
    }
  }
}

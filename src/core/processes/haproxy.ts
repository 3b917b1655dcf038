import { HAPROXY_BIN } from "../install/components.js";
import { haproxyCommand } from "./haproxy-runtime.js";
import type { OsUser } from "../os-user.js";
import type { StatePaths } from "../state-dir.js";
import type { ProcessSpec } from "./managed-process.js";

/**
 * HAProxy 2.6 (Debian) in the foreground (`-db`), serving the read-only and direct endpoints. Stop: SIGTERM is
 * a hard stop (read-only and direct clients reconnect), then SIGKILL.
 */
export function haproxySpec(paths: StatePaths, user: OsUser): ProcessSpec {
  return {
    name: "haproxy",
    command: HAPROXY_BIN,
    args: ["-db", "-f", paths.haproxyConfig],
    uid: user.uid,
    gid: user.gid,
    env: { PATH: "/usr/bin:/bin", HOME: user.home },
    cwd: paths.haproxyDir,
    logFile: paths.log("haproxy"),
    pidFile: paths.pidFile("haproxy"),
    stopSteps: [{ signal: "SIGTERM", waitMs: 5_000 }],
    maxOpenFiles: 8192,
  };
}

/**
 * The nodes the read-only endpoint sends new sessions to, from HAProxy's `show stat`: the replicas
 * whose check passes, or else the primary. Undefined when HAProxy does not answer.
 */
export function readOnlyServers(socketPath: string, timeoutMs = 1000): Promise<Set<string> | undefined> {
  return haproxyCommand(socketPath, "show stat", timeoutMs).then(parseServersUp, () => undefined);
}

export function parseServersUp(csv: string): Set<string> | undefined {
  const lines = csv.split("\n").filter((l) => l.trim());
  const header = lines[0]?.replace(/^# /, "").split(",");
  const status = header?.indexOf("status") ?? -1;
  if (!header || status < 0) return undefined;
  const up = { replicas: new Set<string>(), primary: new Set<string>() };
  for (const line of lines.slice(1)) {
    const f = line.split(",");
    const backend = f[0] as keyof typeof up;
    if ((backend === "replicas" || backend === "primary") && !["BACKEND", "FRONTEND"].includes(f[1]!) && f[status]!.startsWith("UP")) up[backend].add(f[1]!);
  }
  return up.replicas.size > 0 ? up.replicas : up.primary;
}

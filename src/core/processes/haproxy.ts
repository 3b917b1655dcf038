import { HAPROXY_BIN } from "../install/components.js";
import { connect } from "node:net";
import type { OsUser } from "../os-user.js";
import type { StatePaths } from "../state-dir.js";
import type { ProcessSpec } from "./managed-process.js";

/**
 * HAProxy 2.6 (Debian) in the foreground (`-db`), serving the read-only endpoint. Stop: SIGTERM is
 * a hard stop (read-only clients reconnect), then SIGKILL.
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
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    let out = "";
    const finish = (v: Set<string> | undefined) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(timeoutMs, () => finish(undefined));
    socket.on("error", () => finish(undefined));
    socket.on("connect", () => socket.write("show stat\n"));
    socket.on("data", (d) => (out += d.toString()));
    socket.on("end", () => finish(parseServersUp(out)));
  });
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

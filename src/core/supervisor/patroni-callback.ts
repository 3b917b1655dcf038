import { request } from "node:http";

/**
 * Run by Patroni (as postgres) on a role change: `patroni-callback.js SOCKET ACTION ROLE SCOPE`.
 * Tells the supervisor and returns at once; if the supervisor is not listening, its next one-second
 * poll sees the change anyway.
 */
const [socketPath, action = "", role = "", scope = ""] = process.argv.slice(2);
if (socketPath) {
  const req = request({ socketPath, path: "/", method: "POST", timeout: 2000 }, (res) => res.resume());
  req.on("error", () => undefined);
  req.on("timeout", () => req.destroy());
  req.end(`${action} ${role} ${scope}`);
}

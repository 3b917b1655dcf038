import { ROUTES } from "../endpoints.js";
import type { TuskConfig } from "../config/config-file.js";
import { httpRequest } from "../processes/http-probe.js";
import { readSecret } from "../secrets.js";
import type { StatePaths } from "../state-dir.js";
import type { SupervisorStatus } from "./status.js";

/** The CLI's client for the supervisor API (loopback, bearer token from the state directory). */
export class ApiClient {
  constructor(private readonly config: TuskConfig, private readonly paths: StatePaths) {}

  private url(route: string): string {
    return `http://127.0.0.1:${this.config.ports.api}${route}`;
  }

  async status(): Promise<SupervisorStatus> {
    const r = await httpRequest(this.url(ROUTES.status), { token: readSecret(this.paths, "api_token"), timeoutMs: 10_000 });
    if (r.status !== 200) throw new Error(`supervisor API answered ${r.status}: ${r.body}`);
    return JSON.parse(r.body) as SupervisorStatus;
  }

  async shutdown(): Promise<void> {
    await httpRequest(this.url(ROUTES.shutdown), { method: "POST", body: {}, token: readSecret(this.paths, "api_token") });
  }
}

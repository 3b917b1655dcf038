import { ROUTES, routeTo } from "../endpoints.js";
import type { TuskConfig } from "../config/config-file.js";
import { httpRequest } from "../processes/http-probe.js";
import { readSecret } from "../secrets.js";
import type { StatePaths } from "../state-dir.js";
import type { SupervisorStatus } from "./status.js";
import type { ReplicationStatus } from "./replication.js";
import type { SwitchoverResult } from "./switchover.js";
import type { SettingsChangeResult } from "./settings-change.js";
import type { ChangePlan } from "../config/config-change.js";
import { ExitCode, exitCodeName, TuskError } from "../errors.js";
import type { HostRole } from "../network/join-tokens.js";
import type { HostTokenResult } from "./host-tokens.js";
import type { HostView } from "./hosts-view.js";
import type { CertificateFact } from "../tls/certificate-facts.js";
import type { CertificateRenewal } from "./certificate-renewal.js";
import type { HostRemoval } from "./host-remove.js";

export type { SwitchoverResult };

/** The CLI's client for the supervisor API (loopback, bearer token from the state directory). */
export class ApiClient {
  constructor(
    private readonly config: TuskConfig,
    private readonly paths: StatePaths,
  ) {}

  private url(route: string): string {
    return `http://127.0.0.1:${this.config.ports.api}${route}`;
  }

  async status(): Promise<SupervisorStatus> {
    const r = await httpRequest(this.url(ROUTES.status), { token: readSecret(this.paths, "api_token"), timeoutMs: 10_000 });
    if (r.status !== 200) throw new Error(`supervisor API answered ${r.status}: ${r.body}`);
    return JSON.parse(r.body) as SupervisorStatus;
  }

  /** GETs a route with a query string; an error answer becomes the TuskError the supervisor raised. */
  async get<T>(route: string, query: Record<string, string | number | boolean | undefined> = {}, timeoutMs = 30_000): Promise<T> {
    const q = new URLSearchParams(
      Object.entries(query)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    ).toString();
    const r = await httpRequest(this.url(q ? `${route}?${q}` : route), { token: readSecret(this.paths, "api_token"), timeoutMs });
    return this.answer<T>(r);
  }

  /** POSTs to a route; an error answer becomes the TuskError the supervisor raised. */
  post<T>(route: string, body: unknown, timeoutMs: number): Promise<T> {
    return this.request(route, "POST", timeoutMs, body);
  }

  private async request<T>(route: string, method: string, timeoutMs: number, body?: unknown): Promise<T> {
    const r = await httpRequest(this.url(route), { method, body, token: readSecret(this.paths, "api_token"), timeoutMs });
    return this.answer<T>(r);
  }

  private answer<T>(r: { status: number; body: string }): T {
    if (r.status >= 300) {
      let e: { error?: string; hint?: string; exitCode?: number } = {};
      try {
        e = JSON.parse(r.body);
      } catch {
        /* not JSON */
      }
      throw new TuskError(exitCodeName(e.exitCode ?? ExitCode.Internal), e.error ?? `supervisor API answered ${r.status}`, { hint: e.hint || undefined });
    }
    return JSON.parse(r.body) as T;
  }

  scale(replicas: number): Promise<ReplicationStatus> {
    return this.post(ROUTES.scale, { replicas }, 900_000);
  }

  removeHost(name: string): Promise<HostRemoval> {
    return this.request(routeTo(ROUTES.host, { name }), "DELETE", 120_000);
  }

  async hosts(): Promise<HostView[]> {
    return (await this.get<{ hosts: HostView[] }>(ROUTES.hosts)).hosts;
  }

  async certificates(): Promise<CertificateFact[]> {
    return (await this.get<{ certificates: CertificateFact[] }>(ROUTES.certificates)).certificates;
  }

  renewCertificates(): Promise<CertificateRenewal> {
    return this.post(ROUTES.certificatesRenew, {}, 300_000);
  }

  /** A join token; the first one converts the cluster for the network (minutes, with restarts). */
  hostToken(req: { role: HostRole; ttlSeconds: number; address?: string }): Promise<HostTokenResult> {
    return this.post(ROUTES.hostTokens, req, 1_800_000);
  }

  switchover(to: string | undefined): Promise<SwitchoverResult> {
    return this.post(ROUTES.switchover, to === undefined ? {} : { to }, 120_000);
  }

  /** What applying tusk.yaml now would change on the running cluster. */
  configPlan(): Promise<ChangePlan> {
    return this.get(ROUTES.config);
  }

  /** Applies tusk.yaml to the running cluster; a rolling restart can take minutes. */
  applyConfig(): Promise<SettingsChangeResult> {
    return this.post(ROUTES.config, {}, 1_800_000);
  }

  async shutdown(): Promise<void> {
    await httpRequest(this.url(ROUTES.shutdown), { method: "POST", body: {}, token: readSecret(this.paths, "api_token") });
  }
}

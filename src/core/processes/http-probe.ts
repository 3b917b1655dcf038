import { request as httpsRequestRaw } from "node:https";
import { connect as tlsConnect } from "node:tls";
/** Small HTTP helpers for probing and driving local services (etcd, Patroni). */
export interface HttpResult {
  status: number;
  body: string;
}

export async function httpRequest(url: string, init: { method?: string; body?: unknown; auth?: { user: string; password: string }; token?: string; timeoutMs?: number } = {}): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers["content-type"] = "application/json";
  if (init.auth) headers.authorization = `Basic ${Buffer.from(`${init.auth.user}:${init.auth.password}`).toString("base64")}`;
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(url, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(init.timeoutMs ?? 3000),
  });
  return { status: res.status, body: await res.text() };
}

/** GET a JSON document; undefined when the service does not answer. */
export async function getJson<T>(url: string, timeoutMs = 2000): Promise<{ status: number; json: T } | undefined> {
  try {
    const r = await httpRequest(url, { timeoutMs });
    return { status: r.status, json: JSON.parse(r.body) as T };
  } catch {
    return undefined;
  }
}

/**
 * One HTTPS request with options fetch cannot take (a client certificate, a CA of the cluster's own,
 * or, only to fetch a CA that is then checked by fingerprint, no verification). Rejects when the
 * server cannot be reached or does not answer within `timeoutMs`.
 */
export function httpsRequest(options: {
  host: string;
  port: number;
  path: string;
  method?: string;
  body?: unknown;
  auth?: { user: string; password: string };
  tls: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; rejectUnauthorized?: boolean };
  timeoutMs: number;
}): Promise<HttpResult> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string | number> = payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {};
  if (options.auth) headers.authorization = `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString("base64")}`;
  return new Promise((resolve, reject) => {
    const req = httpsRequestRaw(
      {
        host: options.host,
        port: options.port,
        path: options.path,
        method: options.method ?? (payload ? "POST" : "GET"),
        headers,
        ...options.tls,
        timeout: options.timeoutMs,
      },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${options.timeoutMs / 1000} s`)));
    req.on("error", reject);
    req.end(payload);
  });
}

/** The serial number (hex, as openssl prints it) of the certificate a TLS server presents; undefined when it does not answer within `timeoutMs`. */
export function servedCertificateSerial(options: {
  host: string;
  port: number;
  tls: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
  timeoutMs: number;
}): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: options.host, port: options.port, ...options.tls, rejectUnauthorized: false, timeout: options.timeoutMs }, () => {
      const serial = socket.getPeerCertificate()?.serialNumber;
      socket.destroy();
      resolve(serial);
    });
    socket.on("timeout", () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.on("error", () => resolve(undefined));
  });
}

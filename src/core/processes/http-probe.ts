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

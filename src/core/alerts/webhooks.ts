/** What a webhook receives: one alert changing state. */
export interface WebhookPayload {
  status: "firing" | "resolved";
  cluster: string;
  rule: string;
  title: string;
  severity: string;
  labels: Record<string, string>;
  value: number | null;
  summary: string;
  startedAt: string;
  firedAt: string | null;
  resolvedAt: string | null;
  /** What to do, from the rule's doc. */
  action: string;
}

/**
 * POSTs one payload as JSON to one URL: 5 s timeout, three attempts 1 s and 2 s apart. Returns the
 * error of the last attempt, if all failed.
 */
export async function deliver(url: string, payload: WebhookPayload): Promise<string | undefined> {
  let error = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 1000 * attempt));
    try {
      const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json", "user-agent": "tusk-alerts" }, body: JSON.stringify(payload), signal: AbortSignal.timeout(5000) });
      if (r.ok) return undefined;
      error = `HTTP ${r.status}`;
    } catch (e) {
      error = (e as Error).message;
    }
  }
  return error;
}

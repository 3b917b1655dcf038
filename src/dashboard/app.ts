/// <reference lib="dom" />
import { formatWallClock, readWallClock, rfc3339Local } from "../core/time/wall-clock.js";
/**
 * tusk's web dashboard: a small single-page app over the HTTP API (the same routes the CLI uses),
 * served by the supervisor. The API token comes from the link `tusk dashboard` prints (#token=…)
 * or the sign-in dialog, and stays in this tab's sessionStorage. Charts are inline SVG. Moments are
 * shown in the browser's time zone with their offset, and typed ones are read in it (wall-clock.ts,
 * the same module the CLI uses, served as it is).
 */

import { ROUTES, routeTo } from "../core/endpoints.js";
import type { AlertView, Silence } from "../core/alerts/alert-log.js";
import type { BackupCatalog } from "../core/backup/catalog.js";
import type { DrillResult } from "../core/backup/drill.js";
import type { RoleChange } from "../core/cluster/history.js";
import type { Series, TopQuery } from "../core/metrics/store.js";
import type { IndexRow, TableRow } from "../core/metrics/views.js";
import type { SupervisorStatus as Status } from "../core/supervisor/status.js";

// The API's shapes are the core's own types (type-only imports: nothing of them reaches the page).
type Labels = Record<string, string>;

const TOKEN_KEY = "tusk-token";
const PALETTE = ["var(--c0)", "var(--c1)", "var(--c2)", "var(--c3)", "var(--c4)", "var(--c5)"];
const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;

// ---------- API ----------

function token(): string | null {
  const m = /#token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]!));
    history.replaceState(null, "", `${location.pathname}#/overview`);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

class Unauthorized extends Error {}

async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${token() ?? ""}` };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(path, { method: init.method ?? "GET", headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  if (r.status === 401) throw new Unauthorized("sign in");
  const data = (await r.json()) as T & { error?: string; hint?: string };
  if (!r.ok) throw new Error(`${data.error ?? r.statusText}${data.hint ? ` — ${data.hint}` : ""}`);
  return data;
}

const rangeSeconds = () => Number(($("#range") as HTMLSelectElement).value);
const fromTo = () => `from=${new Date(Date.now() - rangeSeconds() * 1000).toISOString()}&to=${new Date().toISOString()}`;
const series = (name: string, opts: { rate?: boolean; match?: string } = {}) =>
  api<{ series: Series[] }>(`${ROUTES.series}?name=${name}&${fromTo()}${opts.rate ? "&rate=true" : ""}${opts.match ? `&match=${encodeURIComponent(opts.match)}` : ""}`).then((r) => r.series);

// ---------- formatting ----------

function esc(s: unknown): string {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function bytes(n: number | null): string {
  if (n === null || n === undefined) return "-";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function num(v: number, digits = 1): string {
  if (!Number.isFinite(v)) return "-";
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(digits)}M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(digits)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 1 ? 3 : digits);
}

function ago(iso: string | null): string {
  if (!iso) return "-";
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (s < 90) return `${Math.round(s)} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h ago`;
  return `${(s / 86_400).toFixed(1)} d ago`;
}

const pill = (text: string, kind: "ok" | "bad" | "warn" | "" = "") => `<span class="pill ${kind}">${esc(text)}</span>`;

// ---------- charts ----------

interface ChartLine {
  label: string;
  points: { t: number; v: number }[];
}
type Unit = "num" | "pct" | "s" | "ms" | "bytes";

const UNITS: Record<Unit, (v: number) => string> = {
  num: (v) => num(v),
  pct: (v) => `${v.toFixed(0)} %`,
  s: (v) => (v >= 10 ? `${v.toFixed(0)} s` : `${v.toFixed(2)} s`),
  ms: (v) => `${num(v, 2)} ms`,
  bytes: (v) => bytes(v),
};

/** A placeholder drawn once it is laid out (drawCharts), at its real width so text stays crisp. */
function chart(lines: ChartLine[], unit: Unit = "num"): string {
  // A series with no point in the range (a dropped database, a rate over one sample) is left out.
  const drawn = lines.filter((l) => l.points.length > 0);
  if (drawn.length === 0) return `<div class="empty">No data in this range yet.</div>`;
  return `<div class="chart-box" data-unit="${unit}" data-lines="${esc(JSON.stringify(drawn))}"></div>`;
}

let measurer: CanvasRenderingContext2D | null | undefined;

/** The rendered width of an axis label, so the y-axis margin fits the longest one. */
function labelWidth(text: string, box: HTMLElement): number {
  measurer ??= document.createElement("canvas").getContext("2d");
  if (!measurer) return text.length * 7;
  const probe = box.querySelector("svg text.axis") ?? box;
  const style = getComputedStyle(probe);
  measurer.font = `${style.fontSize || "10px"} ${style.fontFamily || "sans-serif"}`;
  return measurer.measureText(text).width;
}

/** A line chart in SVG: time on x, value on y, a legend, and a tooltip that follows the pointer. */
function drawChart(box: HTMLElement): void {
  const lines = (JSON.parse(box.dataset.lines ?? "[]") as ChartLine[]).filter((l) => l.points.length > 0);
  const unit = UNITS[(box.dataset.unit as Unit) ?? "num"] ?? UNITS.num;
  const all = lines.flatMap((l) => l.points);
  if (all.length === 0) {
    box.innerHTML = `<div class="empty">No data in this range yet.</div>`;
    return;
  }
  const t0 = Math.min(...all.map((p) => p.t)),
    t1 = Math.max(...all.map((p) => p.t));
  const vmax = Math.max(...all.map((p) => p.v), 0),
    vmin = Math.min(...all.map((p) => p.v), 0);
  const span = vmax - vmin || 1;
  const ticks = [0, 0.5, 1].map((f) => vmin + f * span);
  // The left margin fits the widest y label (at the axis font, measured), with room for the gap.
  const W = Math.max(200, Math.round(box.clientWidth)),
    H = 170,
    R = 10,
    T = 10,
    B = 22;
  const L = Math.ceil(Math.max(40, ...ticks.map((v) => labelWidth(unit(v), box) + 12)));
  const x = (t: number) => L + ((t - t0) / (t1 - t0 || 1)) * (W - L - R);
  const y = (v: number) => T + (1 - (v - vmin) / span) * (H - T - B);
  const grid = ticks
    .map((v) => `<line class="grid-line" x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}"/><text class="axis" x="${L - 6}" y="${y(v) + 3}" text-anchor="end">${esc(unit(v))}</text>`)
    .join("");
  const time = (t: number) => new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const xaxis = `<text class="axis" x="${L}" y="${H - 6}">${time(t0)}</text><text class="axis" x="${W - R}" y="${H - 6}" text-anchor="end">${time(t1)}</text>`;
  const base = y(Math.max(vmin, 0));
  const paths = lines
    .map((l, i) => {
      const color = PALETTE[i % PALETTE.length];
      const pts = l.points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
      if (l.points.length === 1) return `<circle cx="${x(l.points[0]!.t)}" cy="${y(l.points[0]!.v)}" r="3" fill="${color}"/><polyline class="series" stroke="${color}" points="${pts}"/>`;
      return `<polygon class="area" fill="${color}" points="${x(l.points[0]!.t)},${base} ${pts} ${x(l.points[l.points.length - 1]!.t)},${base}"/><polyline class="series" stroke="${color}" points="${pts}"/>`;
    })
    .join("");
  const legend = lines.some((l) => l.label) ? `<div class="legend">${lines.map((l, i) => `<span><i style="background:${PALETTE[i % PALETTE.length]}"></i>${esc(l.label)}</span>`).join("")}</div>` : "";
  box.innerHTML = `<svg class="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${grid}${xaxis}${paths}<line class="hover-line" x1="0" x2="0" y1="${T}" y2="${H - B}" visibility="hidden"/></svg>${legend}`;
  const svg = box.querySelector("svg")!;
  const hover = svg.querySelector<SVGLineElement>(".hover-line")!;
  tooltip ??= Object.assign(document.createElement("div"), { className: "tooltip", hidden: true });
  if (!tooltip.isConnected) document.body.append(tooltip);
  svg.addEventListener("mousemove", (e) => {
    const fx = e.clientX - svg.getBoundingClientRect().left;
    const t = t0 + ((fx - L) / (W - L - R)) * (t1 - t0);
    const rows = lines.map((l) => ({ label: l.label, p: l.points.reduce((best, q) => (Math.abs(q.t - t) < Math.abs(best.t - t) ? q : best), l.points[0] ?? { t, v: NaN }) }));
    hover.setAttribute("x1", String(fx));
    hover.setAttribute("x2", String(fx));
    hover.setAttribute("visibility", "visible");
    tooltip!.innerHTML = `${esc(new Date(rows[0]?.p.t ?? t).toLocaleString())}<br>${rows.map((r) => `${esc(r.label || "value")}: ${esc(unit(r.p.v))}`).join("<br>")}`;
    tooltip!.style.left = `${e.clientX + 12}px`;
    tooltip!.style.top = `${e.clientY + 12}px`;
    tooltip!.hidden = false;
  });
  svg.addEventListener("mouseleave", () => {
    hover.setAttribute("visibility", "hidden");
    tooltip!.hidden = true;
  });
}

let tooltip: HTMLDivElement | undefined;

/** Draws every chart; one that cannot be drawn says so and never takes the others down. */
function drawCharts(root: HTMLElement): void {
  for (const box of root.querySelectorAll<HTMLElement>(".chart-box")) {
    try {
      drawChart(box);
    } catch (e) {
      box.innerHTML = `<div class="empty">This chart could not be drawn (${esc((e as Error).message)}).</div>`;
    }
  }
}

function toLines(s: Series[], label: (l: Labels) => string, scale = 1): ChartLine[] {
  return s.map((x) => ({ label: label(x.labels), points: x.points.map((p) => ({ t: Date.parse(p.at), v: p.value * scale })) }));
}

function tableHtml(header: { label: string; num?: boolean; key?: string }[], rows: string[][], opts: { sorted?: string; rowAttrs?: (i: number) => string } = {}): string {
  if (rows.length === 0) return `<div class="empty">Nothing to show.</div>`;
  const th = header
    .map((h) => `<th class="${h.num ? "num" : ""} ${h.key ? "sortable" : ""} ${h.key && h.key === opts.sorted ? "sorted" : ""}" ${h.key ? `data-sort="${h.key}"` : ""}>${esc(h.label)}</th>`)
    .join("");
  const body = rows.map((r, i) => `<tr ${opts.rowAttrs?.(i) ?? ""}>${r.map((c, j) => `<td class="${header[j]?.num ? "num" : ""}">${c}</td>`).join("")}</tr>`).join("");
  return `<div class="table-wrap"><table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table></div>`;
}

/** The browser's zone and its offset now, for form labels. */
const zoneLabel = () => `${Intl.DateTimeFormat().resolvedOptions().timeZone} ${formatWallClock(Date.now()).slice(-6)}`;

/**
 * A form's datetime-local value as the API takes it (RFC 3339 with the offset), undefined when empty
 * (the latest state), or null after showing why a time that happened twice or never is refused.
 */
function momentOf(local: string, field: string): string | undefined | null {
  if (!local) return undefined;
  const reading = readWallClock(local, field);
  if (!reading.ok) {
    showError(new Error(reading.problem));
    return null;
  }
  return rfc3339Local(reading.at);
}

// ---------- pages ----------

async function overview(page: HTMLElement): Promise<void> {
  const [status, conns, tps, hit, disk, lag] = await Promise.all([
    api<Status>(ROUTES.status),
    series("pg_connections"),
    series("pg_xact_commit_total", { rate: true }),
    series("pg_cache_hit_ratio"),
    series("disk_used_ratio"),
    series("pg_replication_lag_seconds"),
  ]);
  const firing = status.monitoring.alerts.filter((a) => a.state === "firing");
  const b = status.backups;
  const procs = status.processes.map((p) => [
    esc(p.name),
    p.up ? pill("up", "ok") : pill("down", "bad"),
    esc(p.ports.join(", ") || "-"),
    esc(p.version ?? "-"),
    p.restarts ? pill(`${p.restarts} restarts`, "warn") : "",
  ]);
  const connLines = toLines(
    conns.filter((s) => s.points.some((p) => p.value > 0)),
    (l) => l.state ?? "",
  );
  page.innerHTML = `
    <h1>Overview <span class="muted">${esc(status.phase)}</span></h1>
    <div class="grid">
      <div class="card"><h2>Health</h2><div class="big ${status.phase === "ready" ? "ok" : "warn"}">${esc(status.phase)}</div><p class="muted">${esc(status.decision)}</p></div>
      <div class="card"><h2>Firing alerts</h2><div class="big ${firing.length ? "bad" : "ok"}">${firing.length}</div>${firing.map((a) => `<p>${pill(a.severity, a.severity === "critical" ? "bad" : "warn")} ${esc(a.summary)}</p>`).join("") || `<p class="muted">None.</p>`}</div>
      <div class="card"><h2>Backups</h2><div class="big">${esc(b?.lastBackup ? ago(b.lastBackup.endedAt) : "none")}</div><p class="muted">Last backup ${esc(b?.lastBackup?.label ?? "-")} (${esc(b?.lastBackup?.type ?? "-")}). Restore drill: ${b?.lastDrill ? `${b.lastDrill.ok ? pill("passed", "ok") : pill("FAILED", "bad")} ${esc(ago(b.lastDrill.startedAt))}` : "never run"}</p></div>
    </div>
    <div class="grid">
      <div class="card"><h2>Transactions per second</h2>${chart(toLines(tps, (l) => l.database ?? ""))}</div>
      <div class="card"><h2>Connections by state</h2>${chart(connLines)}</div>
      <div class="card"><h2>Cache hit ratio</h2>${chart(
        toLines(hit, (l) => l.kind ?? "", 100),
        "pct",
      )}</div>
      <div class="card"><h2>Disk used</h2>${chart(
        toLines(disk, (l) => l.disk ?? "", 100),
        "pct",
      )}</div>
      ${
        lag.length
          ? `<div class="card"><h2>Replication lag</h2>${chart(
              toLines(lag, (l) => l.node ?? ""),
              "s",
            )}</div>`
          : ""
      }
    </div>
    <div class="card wide"><h2>Processes</h2>${tableHtml([{ label: "Process" }, { label: "State" }, { label: "Port" }, { label: "Version" }, { label: "" }], procs)}</div>
    <div class="card wide" id="operations" style="margin-top:16px"><h2>Operations</h2>${tableHtml([{ label: "Operation" }, { label: "State" }, { label: "Started" }, { label: "Ended" }, { label: "Progress or note" }], operationRows(status))}</div>`;
}

/** Long operations as `tusk status` lists them: running first, then the latest ended. */
function operationRows(status: Status): string[][] {
  const kind = { running: "warn", done: "ok", failed: "bad", interrupted: "bad" } as const;
  return [...status.operations.running, ...status.operations.recent].map((o) => [
    esc(o.detail),
    pill(o.state, kind[o.state]),
    esc(formatWallClock(o.startedAt)),
    esc(o.endedAt ? formatWallClock(o.endedAt) : "-"),
    esc((o.state === "running" ? o.progress : o.note) ?? ""),
  ]);
}

let queryOrder = "total";
let selectedQuery: string | null = null;
const queryFilter = { database: "", role: "" };

type QueryRow = TopQuery;
/** A statement is one queryid in one database for one role: pg_stat_statements' own key. */
const queryKey = (x: QueryRow) => `${x.queryid}/${x.dbname}/${x.username}`;

async function queries(page: HTMLElement): Promise<void> {
  const filter = `${queryFilter.database ? `&database=${encodeURIComponent(queryFilter.database)}` : ""}${queryFilter.role ? `&role=${encodeURIComponent(queryFilter.role)}` : ""}`;
  const r = await api<{ databases: string[]; roles: string[]; queries: QueryRow[] }>(`${ROUTES.queries}?${fromTo()}&order=${queryOrder}&limit=50${filter}`);
  const q = r.queries;
  const rows = q.map((x) => [
    num(x.calls, 0),
    num(x.totalMs),
    num(x.meanMs, 2),
    num(x.stddevMs, 2),
    num(x.maxMs, 2),
    num(x.rows, 0),
    x.hitRatio === null ? "-" : `${(x.hitRatio * 100).toFixed(1)} %`,
    esc(x.dbname),
    esc(x.username),
    `<span class="sql" title="${esc(x.query)}">${esc(x.query.replace(/\s+/g, " "))}</span>`,
  ]);
  const chosen = q.find((x) => queryKey(x) === selectedQuery) ?? q[0];
  let detail = "";
  if (chosen) {
    const s = await api<{ points: { at: string; calls: number; meanMs: number }[] }>(
      `${routeTo(ROUTES.querySeries, { queryid: chosen.queryid })}?${fromTo()}&database=${encodeURIComponent(chosen.dbname)}&role=${encodeURIComponent(chosen.username)}`,
    );
    detail = `<div class="grid"><div class="card"><h2>Calls per collection</h2>${chart([{ label: "calls", points: s.points.map((p) => ({ t: Date.parse(p.at), v: p.calls })) }])}</div><div class="card"><h2>Mean time (ms)</h2>${chart([{ label: "mean ms", points: s.points.map((p) => ({ t: Date.parse(p.at), v: p.meanMs })) }], "ms")}</div></div><p class="muted sqltext">${esc(chosen.query)}</p><p class="muted">In database ${esc(chosen.dbname)}, run by ${esc(chosen.username)}.</p>`;
  }
  const options = (all: string[], current: string, what: string) =>
    `<option value="">All ${what}</option>${[...new Set([...all, ...(current ? [current] : [])])].map((v) => `<option value="${esc(v)}" ${v === current ? "selected" : ""}>${esc(v)}</option>`).join("")}`;
  page.innerHTML = `<h1>Queries</h1><p class="muted">pg_stat_statements, as collected, over the chosen range. Click a column to sort, a row for its chart.</p>
    <div class="actions filters"><label>Database <select id="query-database">${options(r.databases, queryFilter.database, "databases")}</select></label><label>Role <select id="query-role">${options(r.roles, queryFilter.role, "roles")}</select></label></div>
    <div class="card wide">${tableHtml(
      [
        { label: "Calls", num: true, key: "calls" },
        { label: "Total ms", num: true, key: "total" },
        { label: "Mean ms", num: true, key: "mean" },
        { label: "Stddev ms", num: true, key: "stddev" },
        { label: "Max ms", num: true, key: "max" },
        { label: "Rows", num: true },
        { label: "Hit", num: true },
        { label: "Database" },
        { label: "Role" },
        { label: "Query" },
      ],
      rows,
      { sorted: queryOrder, rowAttrs: (i) => `class="clickable ${chosen && queryKey(q[i]!) === queryKey(chosen) ? "selected" : ""}" data-query="${esc(queryKey(q[i]!))}"` },
    )}</div>${detail}`;
  for (const th of page.querySelectorAll<HTMLElement>("th[data-sort]")) {
    th.onclick = () => {
      queryOrder = th.dataset.sort!;
      void render();
    };
  }
  for (const tr of page.querySelectorAll<HTMLElement>("tr[data-query]")) {
    tr.onclick = () => {
      selectedQuery = tr.dataset.query!;
      void render();
    };
  }
  for (const [id, key] of [
    ["#query-database", "database"],
    ["#query-role", "role"],
  ] as const) {
    const select = page.querySelector<HTMLSelectElement>(id)!;
    select.onchange = () => {
      queryFilter[key] = select.value;
      selectedQuery = null;
      void render();
    };
  }
}

async function tables(page: HTMLElement): Promise<void> {
  const [t, i] = await Promise.all([api<{ at: string | null; tables: TableRow[] }>(ROUTES.tables), api<{ indexes: IndexRow[] }>(ROUTES.indexes)]);
  const vac = (s: number | null) => (s === null ? "-" : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);
  page.innerHTML = `<h1>Tables &amp; indexes</h1><p class="muted">As of ${esc(ago(t.at))}.</p>
    <div class="card wide"><h2>Tables</h2>${tableHtml(
      [
        { label: "Table" },
        { label: "Size", num: true },
        { label: "Live rows", num: true },
        { label: "Dead rows", num: true },
        { label: "Dead", num: true },
        { label: "Writes", num: true },
        { label: "Seq scans", num: true },
        { label: "Since vacuum", num: true },
      ],
      t.tables.map((x) => [
        esc(`${x.schema}.${x.table}`),
        bytes(x.sizeBytes),
        num(x.liveTuples, 0),
        num(x.deadTuples, 0),
        `<span class="${x.deadPercent > 20 ? "bad" : ""}">${x.deadPercent.toFixed(0)} %</span>`,
        num(x.writes, 0),
        num(x.seqScans, 0),
        vac(x.vacuumAgeSeconds),
      ]),
    )}</div>
    <div class="card wide" style="margin-top:16px"><h2>Indexes</h2>${tableHtml(
      [{ label: "Index" }, { label: "Table" }, { label: "Size", num: true }, { label: "Scans", num: true }, { label: "" }],
      i.indexes.map((x) => [esc(x.index), esc(`${x.schema}.${x.table}`), bytes(x.sizeBytes), num(x.scans, 0), x.unused ? pill("unused", "warn") : x.unique ? pill("unique") : ""]),
    )}</div>`;
}

async function replication(page: HTMLElement): Promise<void> {
  const [status, history, lag] = await Promise.all([api<Status>(ROUTES.status), api<{ history: RoleChange[] }>(ROUTES.history), series("pg_replication_lag_seconds")]);
  const r = status.replication;
  page.innerHTML = `<h1>Replication <span class="muted">${esc(r.mode)}; primary ${esc(r.primary)}</span></h1>
    <div class="card wide">${tableHtml(
      [
        { label: "Node" },
        { label: "Role" },
        { label: "State" },
        { label: "Timeline", num: true },
        { label: "Port", num: true },
        { label: "Lag", num: true },
        { label: "Lag time", num: true },
        { label: "Sync" },
        { label: "Serves reads" },
      ],
      r.nodes.map((n) => [
        esc(n.name),
        esc(n.role),
        n.state === "running" || n.state === "streaming" ? pill(n.state, "ok") : pill(n.state, "bad"),
        esc(n.timeline ?? "-"),
        esc(n.postgresPort),
        bytes(n.lagBytes),
        n.lagSeconds === null ? "-" : `${n.lagSeconds.toFixed(1)} s`,
        esc(n.syncState ?? "-"),
        n.servesReads === null ? "-" : n.servesReads ? "yes" : "no",
      ]),
    )}</div>
    ${
      r.nodes.length > 1
        ? `<div class="card wide" style="margin-top:16px"><h2>Lag (seconds)</h2>${chart(
            toLines(lag, (l) => l.node ?? ""),
            "s",
          )}</div>`
        : `<p class="muted">One node: add replicas with <code>tusk scale --replicas N</code>.</p>`
    }
    <div class="card wide" style="margin-top:16px"><h2>Switchovers and failovers</h2>${tableHtml(
      [{ label: "When" }, { label: "Kind" }, { label: "From" }, { label: "To" }, { label: "Timeline", num: true }, { label: "Outage", num: true }],
      history.history.map((h) => [esc(formatWallClock(h.at)), esc(h.kind), esc(h.from), esc(h.to), esc(h.timeline ?? "-"), h.outageMs === null ? "-" : `${(h.outageMs / 1000).toFixed(1)} s`]),
    )}</div>`;
}

async function backups(page: HTMLElement): Promise<void> {
  const [b, d] = await Promise.all([api<BackupCatalog>(ROUTES.backups), api<{ drills: DrillResult[] }>(ROUTES.drillHistory)]);
  page.innerHTML = `<h1>Backups</h1>
    <div class="actions"><button id="do-backup">Take a backup now</button><button class="secondary" id="do-drill">Run a restore drill</button></div>
    <div class="grid"><div class="card"><h2>Restorable window</h2><p>${esc(b.window.from ? formatWallClock(b.window.from) : "-")}<br>to ${esc(b.window.to ? formatWallClock(b.window.to) : "-")}</p>
      <form id="clone-form" class="clone"><h2>Clone to a point in time</h2>
        <p class="muted">A new, separate cluster with its own ports, restored from these backups; this one keeps running. (Restoring this cluster in place is done with <code>tusk restore --yes</code>.)</p>
        <label>Name <input id="clone-name" required pattern="[a-z][a-z0-9_]*" placeholder="reporting_copy"></label>
        <label>Moment (your time zone, ${esc(zoneLabel())}; empty: the latest) <input id="clone-time" type="datetime-local" step="1"></label>
        <button>Create clone</button><p id="clone-result" class="muted"></p>
      </form>
      <form id="restore-form" class="clone"><h2>Restore this cluster in place</h2>
        <p class="muted">Replaces all of this cluster's data with the state at that moment, behind the same connection strings. The cluster stops while it restores; the data it replaces is kept until the restored cluster serves the application.</p>
        <label>Moment (your time zone, ${esc(zoneLabel())}; empty: the latest) <input id="restore-time" type="datetime-local" step="1"></label>
        <button class="secondary">Restore in place…</button><p id="restore-result" class="muted"></p>
      </form></div>
    <div class="card"><h2>Size over time</h2>${chart([{ label: "in repository", points: b.backups.map((x) => ({ t: Date.parse(x.endedAt), v: x.repositoryBytes })) }], "bytes")}</div></div>
    <div class="card wide">${tableHtml(
      [{ label: "Backup" }, { label: "Repo" }, { label: "Type" }, { label: "Ended" }, { label: "Took", num: true }, { label: "Data", num: true }, { label: "Stored", num: true }],
      [...b.backups]
        .reverse()
        .map((x) => [esc(x.label), x.repo === 1 ? "local" : "S3", esc(x.type), esc(formatWallClock(x.endedAt)), `${x.durationSeconds} s`, bytes(x.originalBytes), bytes(x.repositoryBytes)]),
    )}</div>
    <div class="card wide" style="margin-top:16px"><h2>Restore drills</h2>${tableHtml(
      [{ label: "When" }, { label: "Result" }, { label: "Backup" }, { label: "Restore took", num: true }, { label: "Failed checks" }],
      [...d.drills].reverse().map((x) => [
        esc(formatWallClock(x.startedAt)),
        x.ok ? pill("passed", "ok") : pill("failed", "bad"),
        esc(x.backupLabel ?? "-"),
        x.restoreSeconds === null ? "-" : `${x.restoreSeconds.toFixed(1)} s`,
        esc(
          x.checks
            .filter((c) => !c.ok)
            .map((c) => c.name)
            .join(", "),
        ),
      ]),
    )}</div>`;
  const act = (id: string, question: string, run: () => Promise<unknown>) => {
    const button = page.querySelector<HTMLButtonElement>(`#${id}`)!;
    button.onclick = async () => {
      if (!confirm(question)) return;
      button.disabled = true;
      button.textContent = "Working…";
      try {
        await run();
      } catch (e) {
        showError(e);
      }
      void render();
    };
  };
  const form = page.querySelector<HTMLFormElement>("#clone-form")!;
  form.onsubmit = async (e) => {
    e.preventDefault();
    const name = form.querySelector<HTMLInputElement>("#clone-name")!.value.trim();
    const time = momentOf(form.querySelector<HTMLInputElement>("#clone-time")!.value, "Moment");
    if (time === null) return;
    if (!confirm(`Create clone "${name}" restored to ${time ? formatWallClock(time) : "the latest state"}? It starts a second cluster on this machine.`)) return;
    const result = form.querySelector<HTMLElement>("#clone-result")!;
    const button = form.querySelector<HTMLButtonElement>("button")!;
    button.disabled = true;
    result.textContent = "Restoring… (this takes a while)";
    try {
      const c = await api<{ name: string; stateDir: string; ports: Record<string, number> }>(ROUTES.clones, { method: "POST", body: time ? { name, time } : { name } });
      result.textContent = `Clone "${c.name}" is running: PgBouncer on port ${c.ports.pooler}, PostgreSQL on ${c.ports.postgres}. Its connection strings: tusk --state-dir ${c.stateDir} up`;
    } catch (err) {
      result.textContent = "";
      showError(err);
    } finally {
      button.disabled = false;
    }
  };
  const restoreForm = page.querySelector<HTMLFormElement>("#restore-form")!;
  restoreForm.onsubmit = async (e) => {
    e.preventDefault();
    const time = momentOf(restoreForm.querySelector<HTMLInputElement>("#restore-time")!.value, "Moment");
    if (time === null) return;
    const typed = prompt(`This replaces ALL data of this cluster with its state at ${time ? formatWallClock(time) : "the latest moment"}. Type "replace all data" to go on.`);
    if (typed !== "replace all data") return;
    const result = restoreForm.querySelector<HTMLElement>("#restore-result")!;
    try {
      const r = await api<{ log: string }>(ROUTES.restore, { method: "POST", body: time ? { confirm: typed, time } : { confirm: typed } });
      result.textContent = `Restoring; progress is written to ${r.log}. This page comes back when the cluster does.`;
    } catch (err) {
      showError(err);
    }
  };
  act("do-backup", "Take an incremental backup now?", () => api(ROUTES.backups, { method: "POST", body: { type: "incr" } }));
  act("do-drill", "Run a restore drill now? It restores the latest backup into a scratch instance and checks it.", () => api(ROUTES.drills, { method: "POST" }));
}

async function alerts(page: HTMLElement): Promise<void> {
  const a = await api<{ open: AlertView[]; recent: AlertView[]; silences: Silence[] }>(`${ROUTES.alerts}?limit=50`);
  const row = (x: AlertView, i: number, open: boolean) => [
    x.state === "firing" ? pill(x.silenced ? "firing (silenced)" : "firing", "bad") : x.state === "pending" ? pill("pending", "warn") : pill("resolved", "ok"),
    pill(x.severity, x.severity === "critical" ? "bad" : "warn"),
    esc(x.rule),
    esc(x.summary),
    esc(ago(x.firedAt ?? x.startedAt)),
    open ? `<button class="secondary" data-silence="${i}">Silence 1 h</button>` : esc(ago(x.resolvedAt)),
  ];
  page.innerHTML = `<h1>Alerts</h1>
    <div class="card wide"><h2>Open</h2>${tableHtml(
      [{ label: "State" }, { label: "Severity" }, { label: "Rule" }, { label: "Summary" }, { label: "Since" }, { label: "" }],
      a.open.map((x, i) => row(x, i, true)),
    )}</div>
    <div class="card wide" style="margin-top:16px"><h2>Resolved</h2>${tableHtml(
      [{ label: "State" }, { label: "Severity" }, { label: "Rule" }, { label: "Summary" }, { label: "Fired" }, { label: "Resolved" }],
      a.recent.map((x, i) => row(x, i, false)),
    )}</div>
    <div class="card wide" style="margin-top:16px"><h2>Silences</h2>${tableHtml(
      [{ label: "Rule" }, { label: "Labels" }, { label: "Until" }, { label: "Comment" }],
      a.silences.map((s) => [
        esc(s.rule),
        esc(
          Object.entries(s.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(", ") || "all",
        ),
        esc(formatWallClock(s.until)),
        esc(s.comment),
      ]),
    )}</div>`;
  for (const b of page.querySelectorAll<HTMLButtonElement>("button[data-silence]")) {
    b.onclick = async () => {
      const x = a.open[Number(b.dataset.silence)]!;
      if (
        !confirm(
          `Silence ${x.rule} (${
            Object.entries(x.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(", ") || "all series"
          }) for one hour?`,
        )
      )
        return;
      await api(ROUTES.silences, { method: "POST", body: { rule: x.rule, labels: x.labels, seconds: 3600, comment: "from the dashboard" } }).catch(showError);
      void render();
    };
  }
}

// ---------- shell ----------

const PAGES: Record<string, (page: HTMLElement) => Promise<void>> = { overview, queries, tables, replication, backups, alerts };

function showError(e: unknown): void {
  const banner = $("#banner");
  banner.textContent = (e as Error).message;
  banner.hidden = false;
}

let rendering = false;
let again = false;

/** Renders the page the address names; a request while one renders runs right after it. */
async function render(): Promise<void> {
  if (rendering) {
    again = true;
    return;
  }
  rendering = true;
  again = false;
  const name = (/^#\/(\w+)/.exec(location.hash)?.[1] ?? "overview") as keyof typeof PAGES;
  for (const a of document.querySelectorAll<HTMLAnchorElement>("nav a")) a.classList.toggle("active", a.getAttribute("href") === `#/${name}`);
  const page = $("#page");
  try {
    if (!token()) throw new Unauthorized("sign in");
    const next = document.createElement("div");
    await (PAGES[name] ?? overview)(next);
    page.replaceChildren(...next.childNodes);
    page.dataset.page = name;
    drawCharts(page);
    $("#banner").hidden = true;
  } catch (e) {
    if (e instanceof Unauthorized) {
      sessionStorage.removeItem(TOKEN_KEY);
      const dialog = $("#login") as HTMLDialogElement;
      if (!dialog.open) dialog.showModal();
    } else showError(e);
  } finally {
    rendering = false;
    if (again) void render();
  }
}

($("#login") as HTMLDialogElement).addEventListener("close", () => {
  sessionStorage.setItem(TOKEN_KEY, ($("#token") as HTMLInputElement).value.trim());
  void render();
});
$("#range").addEventListener("change", () => void render());
let resizeTimer: number | undefined;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => drawCharts($("#page")), 150);
});
window.addEventListener("hashchange", () => void render());
/** Whether the user is filling in one of the page's forms: a refresh would re-render it and lose what was typed. */
function editing(): boolean {
  const active = document.activeElement;
  if (active instanceof HTMLElement && active.closest("#page form")) return true;
  return [...document.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>("#page form input, #page form textarea")].some((el) => el.value !== el.defaultValue);
}
setInterval(() => {
  if (!document.hidden && !document.querySelector("dialog[open]") && !editing()) void render();
}, 15_000);
void render();

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { CHROMIUM_BIN } from "../../src/core/install/components.js";
import { TestCluster } from "../helpers/test-cluster.js";

/**
 * The web dashboard in real headless Chromium (Debian's, driven by playwright-core) against a live
 * two-node cluster with a little traffic: every page renders the cluster's data, charts have
 * points, nothing is logged to the console as an error, and each page is saved as a screenshot in
 * test-artifacts/dashboard/ at a laptop's width.
 */
let cluster: TestCluster;
let browser: Browser;
let page: Page;
let url = "";
const problems: string[] = [];
const ARTIFACTS = join(process.cwd(), "test-artifacts", "dashboard");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  cluster = await TestCluster.start("dashboard", { replicas: 1, monitoring: { interval_seconds: 1 } });
  const owner = cluster.pool("direct", "owner", 2);
  await owner.query("CREATE TABLE orders (id serial PRIMARY KEY, customer int NOT NULL, total numeric NOT NULL)");
  await owner.query("CREATE INDEX orders_customer ON orders (customer)");
  await owner.query("CREATE INDEX orders_total ON orders (total)");
  // A few seconds of traffic through the pooler, so charts have points; the owner role runs one of
  // the same statements, so the Queries page has one statement under two roles.
  const app = cluster.pool("pooled", "app", 4);
  const until = Date.now() + 6000;
  while (Date.now() < until) {
    await Promise.all([
      app.query("INSERT INTO orders (customer, total) SELECT (random() * 100)::int, random() * 1000 FROM generate_series(1, 50)"),
      app.query("SELECT count(*) FROM orders WHERE customer = $1", [Math.floor(Math.random() * 100)]),
      owner.query("SELECT count(*) FROM orders WHERE customer = $1", [Math.floor(Math.random() * 100)]),
    ]);
    await sleep(50);
  }
  await app.end();
  await owner.end();
  const d = await cluster.cli("dashboard", "--json");
  assert.equal(d.code, 0, d.stderr);
  const { url: base, token } = JSON.parse(d.stdout) as { url: string; token: string };
  url = `${base}#token=${token}`;
  browser = await chromium.launch({ executablePath: CHROMIUM_BIN, args: ["--no-sandbox"] });
  // A zone with daylight saving: the page shows and reads moments in the browser's zone.
  page = await browser.newPage({ viewport: { width: 1366, height: 900 }, timezoneId: "Europe/Berlin" });
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await cluster?.destroy();
});

async function show(name: string): Promise<void> {
  await page.evaluate((n) => (location.hash = `#/${n}`), name);
  await page.waitForSelector(`#page[data-page="${name}"]`, { timeout: 30_000 }).catch(async (e: Error) => {
    throw new Error(`${e.message}\nbanner: ${await page.textContent("#banner")}`);
  });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Axis labels that start left of their chart, i.e. are cut off. */
const clippedLabels = () => page.$$eval("svg.chart text.axis", (texts) => texts.filter((t) => (t as SVGTextElement).getBBox().x < 0).map((t) => t.textContent));

const chartPoints = () => page.$$eval("svg.chart polyline", (lines) => lines.map((l) => (l.getAttribute("points") ?? "").trim().split(/\s+/).filter(Boolean).length));

test("without a token the dashboard asks to sign in, and shows no data", async () => {
  const fresh = await browser.newPage();
  await fresh.goto(url.split("#")[0]!);
  await fresh.waitForSelector("dialog#login[open]");
  assert.equal(await fresh.$("svg.chart"), null);
  await fresh.fill("#token", "tusk_wrong");
  await fresh.click("dialog#login button");
  await fresh.waitForSelector("dialog#login[open]");
  await fresh.close();
});

test("overview: health, alerts, backups, and charts with points", async () => {
  await page.goto(url);
  await page.waitForSelector('#page[data-page="overview"]');
  // The first page load happens right after the traffic: wait for the rate chart to have points.
  for (let i = 0; i < 20 && (await chartPoints()).filter((n) => n > 1).length < 2; i++) {
    await sleep(1000);
    await show("overview");
  }
  await show("overview");
  const text = await page.textContent("#page");
  assert.match(text!, /Health[^]*ready[^]*Firing alerts[^]*Backups[^]*Transactions per second[^]*Connections by state/);
  const points = await chartPoints();
  assert.ok(points.filter((n) => n > 1).length >= 2, `charts with points: ${points.join(", ")}`);
  assert.match(text!, /patroni-pg2/, "every process, replicas included");
});

test("overview: a series with no point or one point draws as no data and never takes the other charts down", async () => {
  // The API answers as it does for a database the collector saw once and that was dropped since:
  // its rate series has no point; a chart whose every series is empty says so.
  await page.route("**/v1/metrics/series?name=pg_xact_commit_total*", async (route) => {
    const response = await route.fetch();
    const json = (await response.json()) as { series: { labels: Record<string, string>; points: { at: string; value: number }[] }[] };
    json.series.unshift({ labels: { database: "dropped" }, points: [] }, { labels: { database: "seen_once" }, points: [{ at: new Date().toISOString(), value: 3 }] });
    await route.fulfill({ response, json });
  });
  await page.route("**/v1/metrics/series?name=pg_cache_hit_ratio*", async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, json: { series: [{ labels: { kind: "heap" }, points: [] }] } });
  });
  try {
    const before = problems.length;
    await show("alerts"); // leave the overview, so that showing it renders anew through the routes above
    await show("overview");
    const cards = await page.$$eval(".card", (cs) => cs.map((c) => ({ title: c.querySelector("h2")?.textContent ?? "", chart: !!c.querySelector("svg.chart"), text: c.textContent ?? "" })));
    const tps = cards.find((c) => c.title === "Transactions per second")!;
    assert.ok(tps.chart, "the rate chart still draws its other series");
    assert.match(tps.text, /seen_once/);
    assert.doesNotMatch(tps.text, /dropped/);
    assert.match(cards.find((c) => c.title === "Cache hit ratio")!.text, /No data in this range yet/);
    assert.ok(cards.find((c) => c.title === "Connections by state")!.chart, "the other charts draw");
    assert.deepEqual(problems.slice(before), []);
    await page.screenshot({ path: join(ARTIFACTS, "overview-empty-series.png"), fullPage: true });
  } finally {
    await page.unrouteAll();
  }
});

test("charts: no y-axis label is cut off at a laptop's width", async () => {
  await show("overview");
  assert.deepEqual(await clippedLabels(), []);
  await show("queries");
  assert.deepEqual(await clippedLabels(), []);
});

test("queries: one row per statement, database and role, with columns and filters for both", async () => {
  await show("queries");
  const headers = await page.$$eval("thead th", (ths) => ths.map((t) => t.textContent));
  assert.ok(headers.includes("Database") && headers.includes("Role"), headers.join(", "));
  const rows = () => page.$$eval("tr[data-query]", (trs) => trs.map((tr) => Array.from(tr.querySelectorAll("td")).map((td) => td.textContent ?? "")));
  const roleCol = headers.indexOf("Role");
  const dbCol = headers.indexOf("Database");
  const counts = (await rows()).filter((r) => /SELECT count\(\*\) FROM orders/.test(r.at(-1)!));
  assert.deepEqual(counts.map((r) => r[roleCol]).sort(), ["app", "app_owner"], "the same statement under two roles, told apart");
  assert.ok(counts.every((r) => r[dbCol] === "app"));
  await page.selectOption("#query-role", "app_owner");
  await page.waitForFunction(() => Array.from(document.querySelectorAll("tr[data-query]")).every((tr) => tr.getAttribute("data-query")!.endsWith("/app_owner")));
  assert.ok((await rows()).every((r) => r[roleCol] === "app_owner"));
  assert.match((await page.textContent("#page"))!, /run by app_owner/);
  await page.selectOption("#query-role", "");
  await page.waitForFunction(() => Array.from(document.querySelectorAll("tr[data-query]")).some((tr) => tr.getAttribute("data-query")!.endsWith("/app")));
});

test("queries: the statements table, sortable, with a chart for the chosen one", async () => {
  await show("queries");
  assert.match((await page.textContent("#page"))!, /INSERT INTO orders/);
  await page.click('th[data-sort="calls"]');
  await page.waitForSelector('th.sorted[data-sort="calls"]');
  const first = await page.$$eval("tr[data-query] td", (tds) => tds.map((t) => t.textContent));
  assert.ok(Number(first[0]) >= 1);
  assert.ok(
    (await chartPoints()).some((n) => n >= 1),
    "the chosen statement's chart",
  );
  await page.screenshot({ path: join(ARTIFACTS, "queries-by-calls.png"), fullPage: true });
});

test("tables and indexes: sizes, dead rows, unused indexes flagged", async () => {
  await show("tables");
  const text = (await page.textContent("#page"))!;
  assert.match(text, /public\.orders/);
  assert.match(text, /orders_total[^]*unused/);
});

test("replication: both nodes with roles and lag", async () => {
  await show("replication");
  const text = (await page.textContent("#page"))!;
  assert.match(text, /pg1[^]*primary/);
  assert.match(text, /pg2[^]*(sync standby|replica)/);
});

test("backups: the list, the restorable window, drills; a backup taken from the page after confirming", async () => {
  await show("backups");
  assert.match((await page.textContent("#page"))!, /Restorable window[^]*full/);
  const before = await page.$$eval("tbody tr", (r) => r.length);
  page.once("dialog", (d) => void d.accept());
  await page.click("#do-backup");
  await page.waitForFunction((n) => document.querySelectorAll("tbody tr").length > n, before, { timeout: 60_000 });
  assert.match((await page.textContent("#page"))!, /incr/);
  await page.screenshot({ path: join(ARTIFACTS, "backups-after.png"), fullPage: true });
  // The backup is an operation of the cluster's queue, listed on the overview as `tusk status` lists it.
  // The list shows the backup once pgBackRest has written it; the operation ends a moment later
  // (retention runs after it), so the overview is rendered again until it says done (30 s at most).
  let operations = "";
  const deadline = Date.now() + 30_000;
  for (;;) {
    await show("overview");
    operations = (await page.textContent("#operations")) ?? "";
    if (/incr backup \(API\)\s*done/.test(operations) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 1000));
    await show("alerts"); // away and back: the overview renders afresh
  }
  assert.match(operations, /incr backup \(API\)\s*done/);
});

test("backups: moments show in the browser's zone with its offset; a form time that happened twice or never is refused", async () => {
  await show("backups");
  const window = (await page.textContent(".card"))!;
  assert.match(window, /Restorable window\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0[12]:00\s*to \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0[12]:00/);
  assert.match((await page.textContent("#clone-form"))!, /your time zone, Europe\/Berlin \+0[12]:00/);
  let dialogs = 0;
  const count = () => void dialogs++;
  page.on("dialog", count);
  try {
    await page.fill("#clone-name", "never_made");
    await page.fill("#clone-time", "2026-10-25T02:30:00");
    await page.click("#clone-form button");
    await page.waitForSelector("#banner:not([hidden])");
    assert.match((await page.textContent("#banner"))!, /2026-10-25 02:30(?::00)? happened twice in Europe\/Berlin \(the clocks went back\): 2026-10-25T02:30:00\+02:00 and 2026-10-25T02:30:00\+01:00/);
    await page.fill("#restore-time", "2026-03-29T02:30:00");
    await page.click("#restore-form button");
    await page.waitForFunction(() => /did not happen/.test(document.querySelector("#banner")?.textContent ?? ""));
    assert.match((await page.textContent("#banner"))!, /2026-03-29 02:30(?::00)? did not happen in Europe\/Berlin: the clocks went forward from \+01:00 to \+02:00/);
    assert.equal(dialogs, 0, "refused before any confirmation");
  } finally {
    page.off("dialog", count);
  }
});

test("alerts: open, resolved and silences render", async () => {
  await show("alerts");
  assert.match((await page.textContent("#page"))!, /Open[^]*Resolved[^]*Silences/);
});

test("no console errors on any page", () => {
  assert.deepEqual(problems, []);
});

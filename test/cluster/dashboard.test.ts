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
  await owner.end();
  // A few seconds of traffic through the pooler, so charts have points.
  const app = cluster.pool("pooled", "app", 4);
  const until = Date.now() + 6000;
  while (Date.now() < until) {
    await Promise.all([
      app.query("INSERT INTO orders (customer, total) SELECT (random() * 100)::int, random() * 1000 FROM generate_series(1, 50)"),
      app.query("SELECT count(*) FROM orders WHERE customer = $1", [Math.floor(Math.random() * 100)]),
    ]);
    await sleep(50);
  }
  await app.end();
  const d = await cluster.cli("dashboard", "--json");
  assert.equal(d.code, 0, d.stderr);
  const { url: base, token } = JSON.parse(d.stdout) as { url: string; token: string };
  url = `${base}#token=${token}`;
  browser = await chromium.launch({ executablePath: CHROMIUM_BIN, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
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

test("queries: the statements table, sortable, with a chart for the chosen one", async () => {
  await show("queries");
  assert.match((await page.textContent("#page"))!, /INSERT INTO orders/);
  await page.click('th[data-sort="calls"]');
  await page.waitForSelector('th.sorted[data-sort="calls"]');
  const first = await page.$$eval("tr[data-query] td", (tds) => tds.map((t) => t.textContent));
  assert.ok(Number(first[0]) >= 1);
  assert.ok((await chartPoints()).some((n) => n >= 1), "the chosen statement's chart");
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
});

test("alerts: open, resolved and silences render", async () => {
  await show("alerts");
  assert.match((await page.textContent("#page"))!, /Open[^]*Resolved[^]*Silences/);
});

test("no console errors on any page", () => {
  assert.deepEqual(problems, []);
});

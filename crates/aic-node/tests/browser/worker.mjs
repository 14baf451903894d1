// Drives a worker's own page in headless Chromium; run by crates/aic/tests/worker_page.rs
// against a worker it started, mining through a node's pool with an AI job running. Checks
// what a person would see and saves screenshots to AIC_SCREENSHOTS. Exits non-zero on the
// first failure.
//
// Then the node's Devices page shows the worker as a provider with its devices and a link to
// its page.
//
// Environment: AIC_WORKER_URL (the worker's listen address), AIC_NODE_URL (the node the worker
// announces itself to), AIC_CHROMIUM (the browser),
// AIC_SCREENSHOTS, AIC_JOB (the id of the job running on the worker), AIC_DEVICE (the device
// the switcher drives).

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const BASE = env("AIC_WORKER_URL");
const NODE = env("AIC_NODE_URL");
const SHOTS = env("AIC_SCREENSHOTS");
const JOB = env("AIC_JOB");
const DEVICE = env("AIC_DEVICE");
mkdirSync(SHOTS, { recursive: true });

const log = (...a) => console.log("[worker page]", ...a);
function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
  log("ok:", what);
}

const browser = await chromium.launch({
  executablePath: env("AIC_CHROMIUM"),
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const problems = [];
// Requests of the worker's state endpoints: the page must get its state from the event stream.
const polls = [];
let streams = 0;
// Requests of the node's provider list: the Devices page reads it once, then follows events.
let providerLists = 0;
const origin = new URL(BASE).origin;
const nodeOrigin = new URL(NODE).origin;

async function open(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("request", (r) => {
    const u = new URL(r.url());
    const api = u.origin === origin ? "/api/v1/worker/" : u.origin === nodeOrigin ? "/api/v1/" : null;
    const allowed = api && (u.pathname === "/" || u.pathname.startsWith(api) || u.pathname.startsWith("/dashboard/"));
    if (!allowed) problems.push(`request outside the worker's or the node's API: ${r.url()}`);
    if (u.origin === origin && /^\/api\/v1\/worker\/(status|switcher|jobs)$/.test(u.pathname)) polls.push(u.pathname);
    if (u.origin === origin && u.pathname === "/api/v1/worker/events") streams++;
    if (u.origin === nodeOrigin && u.pathname === "/api/v1/providers") providerLists++;
  });
  return page;
}

async function shot(page, name) {
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  log("screenshot", path);
}

const count = (page, sel) => page.locator(sel).count();

try {
  const page = await open();
  await page.goto(BASE + "/");
  await page.waitForSelector(`#devices tr[data-device="${DEVICE}"]`);
  check(true, `the devices table lists ${DEVICE}`);
  await page.evaluate(() => { window.__notReloaded = true; });

  // While the job runs, the timeline shows mining and AI segments side by side.
  await page.waitForFunction(() =>
    document.querySelector('#timeline rect.seg[data-task="mining"]') &&
    document.querySelector('#timeline rect.seg[data-task="ai_job"]'), null, { timeout: 30_000 });
  check(await page.locator("#current-job").first().textContent() === JOB, `the jobs panel shows ${JOB} running`);
  check(await count(page, '#timeline rect.seg[data-task="mining"]') >= 1, "the timeline has a mining segment");
  check(await count(page, '#timeline rect.seg[data-task="ai_job"]') >= 1, "the timeline has an AI job segment");
  check(await count(page, "#timeline line.switch") >= 1, "the hand-overs are marked on the timeline");
  check(/µs|ms/.test(await page.locator("#switches").innerText()), "the hand-over latencies are listed");

  // Live: utilization, and the AI segment grows without a reload.
  const util = await page.locator(`#devices tr[data-device="${DEVICE}"] td[data-label="Utilization"]`).innerText();
  check(/\d+ %/.test(util), `the device's utilization is shown (${util.trim()})`);
  // Live: each snapshot moves the timeline's end (the switcher's clock) on, without a reload.
  // (The AI segment's own width may pause: fill-gaps mining takes the device while the job
  // waits for data.)
  const now = () => page.evaluate(() => Number(document.getElementById("timeline").dataset.now));
  const t1 = await now();
  await page.waitForFunction((t) => Number(document.getElementById("timeline").dataset.now) >= t + 2, t1, { timeout: 15_000 });
  check(await page.evaluate(() => window.__notReloaded === true), "the timeline moves on live, without a reload");
  check(await page.locator("#live[data-state=live]").count() === 1, "the live indicator says live");
  check(streams === 1 && polls.length === 0, `updates come from one event stream, no polling (${streams} stream, ${polls.length} polls)`);

  // Earnings per device: mining shares accepted by the pool, AI time.
  await page.waitForSelector(`#earnings tr[data-device="${DEVICE}"]`);
  const earned = await page.locator(`#earnings tr[data-device="${DEVICE}"]`).innerText();
  check(/[1-9][\d,]* shares accepted/.test(earned), `earnings show accepted shares (${earned.replace(/\s+/g, " ").trim()})`);
  check(/computing/.test(earned), "earnings show the AI work");
  // Mining in AIC: the blocks the device found, as the node says the chain paid them.
  await page.waitForSelector('#mined-blocks tr[data-state="main"]', { timeout: 30_000 });
  const mined = await page.locator(`#earnings tr[data-device="${DEVICE}"] .mined`).innerText();
  check(/[\d.,]+ AIC · [1-9][\d,]* blocks? in chain/.test(mined), `earnings show the AIC its blocks earned (${mined.replace(/\s+/g, " ").trim()})`);
  const paid = Number(await page.locator(`#earnings tr[data-device="${DEVICE}"]`).getAttribute("data-paid-units"));
  check(paid > 0, `the device has earned AIC (${paid} base units)`);
  await page.waitForSelector("#utilization svg path.line");
  await shot(page, "worker");

  // A phone: readable, no horizontal scroll.
  const phone = await open({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await phone.goto(BASE + "/");
  await phone.waitForSelector('#timeline rect.seg[data-task="ai_job"]');
  await phone.waitForTimeout(300);
  const sw = await phone.evaluate(() => document.documentElement.scrollWidth);
  check(sw <= 390, `phone: no horizontal scroll (${sw} px wide on a 390 px screen)`);
  await shot(phone, "phone-worker");

  // The node's Devices page: the worker as a provider, its devices, a link to its page.
  await page.goto(NODE + "/#/devices");
  await page.waitForSelector(`section[data-provider] tr[data-device="${DEVICE}"]`);
  check(true, `the node's Devices page lists ${DEVICE} under the worker's provider`);
  check(await page.locator("section[data-provider] .badge.ok").count() >= 1, "the provider is online");
  const link = await page.locator("section[data-provider] a.worker-page").first().getAttribute("href");
  check(link === BASE, `it links the worker's page (${link})`);
  // The worker's next heartbeat (or job report) reaches the page on the node's event stream.
  const lists = providerLists;
  await page.waitForFunction(() => Number(document.getElementById("providers").dataset.updates) >= 1, null, { timeout: 25_000 });
  check(providerLists === lists, `the Devices page follows presence on the event stream, without polling (${providerLists - lists} more reads of /api/v1/providers)`);
  await shot(page, "devices");
  check(problems.length === 0, "no console errors and no request outside the worker's or the node's API" + (problems.length ? ":\n  " + problems.join("\n  ") : ""));
  log("all checks passed");
} catch (e) {
  console.error("[worker page] FAILED:", e.message);
  if (problems.length) console.error("[worker page] also seen:\n  " + problems.join("\n  "));
  process.exitCode = 1;
} finally {
  await browser.close();
}

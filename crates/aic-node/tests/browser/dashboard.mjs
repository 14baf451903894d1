// Drives the node's dashboard in headless Chromium; run by crates/aic-node/tests/dashboard.rs
// against a node it started. Every step checks what a person would see, and screenshots go to
// AIC_SCREENSHOTS. Exits non-zero on the first failure.
//
// Environment: AIC_URL (the node's API), AIC_CHROMIUM (the browser), AIC_SCREENSHOTS,
// AIC_TRANSFER_HEX and AIC_TRANSFER_TXID (a signed transfer to submit), AIC_SENDER and
// AIC_RECIPIENT (its accounts), AIC_WORKER (a connected Stratum worker's name), AIC_MARKET
// (JSON: two jobs' ids, models, dataset, users, and the signed posts, bids, results and
// verdicts to submit, one of each per job).

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const BASE = env("AIC_URL");
const SHOTS = env("AIC_SCREENSHOTS");
const TX_HEX = env("AIC_TRANSFER_HEX");
const TXID = env("AIC_TRANSFER_TXID");
const SENDER = env("AIC_SENDER");
const RECIPIENT = env("AIC_RECIPIENT");
const WORKER = env("AIC_WORKER");
const MARKET = JSON.parse(env("AIC_MARKET"));
mkdirSync(SHOTS, { recursive: true });

const log = (...a) => console.log("[dashboard]", ...a);
const api = async (path, init) => {
  const r = await fetch(BASE + "/api/v1" + path, init);
  const body = await r.json();
  if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(body)}`);
  return body;
};
function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
  log("ok:", what);
}

const browser = await chromium.launch({
  executablePath: env("AIC_CHROMIUM"),
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const problems = [];
/** Requests meant to fail (a search that names nothing). */
const expectedFailures = ["/api/v1/search?q=no-such-thing"];
const origin = new URL(BASE).origin;

/** A page that records console errors and every request it makes. */
async function open(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  // Failed requests are judged by their responses below (the browser also logs them).
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console: ${m.text()}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400 && !expectedFailures.some((f) => r.url().includes(f))) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("request", (r) => {
    const u = new URL(r.url());
    const allowed = u.origin === origin && (u.pathname === "/" || u.pathname.startsWith("/api/v1/") || u.pathname.startsWith("/dashboard/"));
    if (!allowed) problems.push(`request outside the public API: ${r.url()}`);
  });
  return page;
}

async function shot(page, name) {
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  log("screenshot", path);
}

const text = (page, sel) => page.locator(sel).first().innerText();
const num = (s) => Number(String(s).replace(/[^0-9.]/g, ""));
const submit = (hex) => api("/txs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ hex }) });
/** The text of a table row's cells (textContent: badges are shown in capitals). */
const rowCells = (page, sel) => page.locator(sel).first().locator("td").allTextContents();
const content = (page, sel) => page.locator(sel).first().textContent();
/** Waits until the job page's status badge says `status`. */
const statusIs = (page, status, timeout = 60_000) =>
  page.waitForFunction((s) => document.querySelector("#job-status")?.textContent === s, status, { timeout });

try {
  // 1. The explorer shows blocks arriving, without a reload.
  const page = await open();
  await page.goto(BASE + "/");
  await page.waitForSelector("#tip-height");
  await page.waitForSelector("#view tr[data-height]");
  await page.evaluate(() => { window.__notReloaded = true; });
  const firstHeight = num(await page.locator("tr[data-height]").first().getAttribute("data-height"));
  await page.waitForFunction((h) => Number(document.querySelector("tr[data-height]")?.dataset.height) > h + 1, firstHeight, { timeout: 30_000 });
  const later = num(await page.locator("tr[data-height]").first().getAttribute("data-height"));
  check(await page.evaluate(() => window.__notReloaded === true), `blocks advanced live from ${firstHeight} to ${later} without a reload`);
  check(num(await text(page, "#tip-height")) >= later, "the tip card follows the newest block");
  check(await page.locator("#live[data-state=live]").count() === 1, "the event stream indicator says live");
  await page.waitForSelector("#chart-hashrate svg path.line");
  await page.waitForSelector("#chart-difficulty svg path.line");
  check(true, "hash-rate and difficulty charts are drawn");
  await shot(page, "explorer");

  // 2. A block page renders the block the API has.
  const b1 = await api("/blocks/1");
  await page.goto(BASE + "/#/block/1");
  await page.waitForSelector("#block-hash");
  check(await text(page, "#block-hash") === b1.hash, "block 1's page shows its hash");
  check(await page.locator(`tr[data-txid="${b1.txs[0].txid}"]`).count() === 1, "block 1's page lists its coinbase");
  check(num(await text(page, "#confirmations")) >= 2, "block 1 shows its confirmations");
  await shot(page, "block");

  // 3. A transfer made now appears on the recipient's account page, then is confirmed.
  await page.goto(BASE + "/#/account/" + RECIPIENT);
  await page.waitForSelector("#balance");
  check((await text(page, "#balance")).startsWith("0 "), "the recipient starts with nothing");
  const submitted = await api("/txs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ hex: TX_HEX }) });
  check(submitted.txid === TXID, "the transfer is accepted through the REST API");
  await page.waitForSelector(`#view tr[data-txid="${TXID}"]`);
  check(true, "the transfer appears on the account page without a reload");
  await page.waitForSelector(`#history tr[data-txid="${TXID}"] a[href^="#/block/"]`, { timeout: 30_000 });
  await page.waitForFunction(() => document.querySelector("#balance")?.textContent.startsWith("7 "));
  check(true, "it is confirmed in a block and the balance shows 7 AIC");
  await shot(page, "account");
  await page.goto(BASE + "/#/account/" + SENDER);
  await page.waitForSelector(`#history tr[data-txid="${TXID}"] .minus`);
  check(true, "the sender's page shows the transfer as money out");

  // 4. The transaction page.
  await page.goto(BASE + "/#/tx/" + TXID);
  await page.waitForSelector("#tx-amount");
  check((await text(page, "#tx-amount")) === "7 AIC", "the tx page shows the amount");
  check((await text(page, "#view")).includes(RECIPIENT) && (await text(page, "#view")).includes(SENDER), "the tx page shows both accounts");
  check(await page.locator("#tx-status a[href^='#/block/']").count() === 1, "the tx page links its block");
  await shot(page, "tx");

  // 5. The mining page lists the Stratum worker the test connected.
  await page.goto(BASE + "/#/mining");
  const row = page.locator(`tr[data-worker="${WORKER}"]`);
  await row.waitFor();
  const cells = await row.locator("td").allInnerTexts();
  check(cells[1].toLowerCase().includes("online"), `worker ${WORKER} is online`);
  check(num(cells[4]) >= 3 && num(cells[6]) >= 3, "its accepted shares and blocks are shown");
  check(cells[5].includes("low-difficulty"), "its rejected share is shown by reason");
  await shot(page, "mining");

  // 6. Search: height, txid, address, and nonsense.
  const search = async (q) => {
    await page.fill("#search-input", q);
    await page.press("#search-input", "Enter");
  };
  await search("1");
  await page.waitForFunction((h) => location.hash === "#/block/" + h, b1.hash);
  await page.waitForSelector("#block-hash");
  check(true, "searching a height opens its block");
  const b2 = await api("/blocks/2");
  await search(b2.hash);
  await page.waitForFunction((h) => location.hash === "#/block/" + h, b2.hash);
  await page.waitForFunction((h) => document.querySelector("#block-hash")?.textContent === h, b2.hash);
  check(true, "searching a block hash opens the block");
  await search(TXID);
  await page.waitForFunction((t) => location.hash === "#/tx/" + t, TXID);
  check(true, "searching a txid opens the transaction");
  await search(RECIPIENT);
  await page.waitForFunction((a) => location.hash === "#/account/" + a, RECIPIENT);
  check(true, "searching an address opens the account");
  await search("no-such-thing");
  await page.waitForSelector("#search-error");
  check((await text(page, "#search-error")).includes("bad-search"), "a query that names nothing says why");
  await shot(page, "search");
  await page.close();

  // 7. The market: jobs posted now appear on the market page; the first job's page follows it
  // through bids, award, result and verdict to its settlement, live; the models page ranks
  // both models.
  const [jobA, jobB] = MARKET.jobs;
  const [modelA, modelB] = MARKET.models;
  const m = await open();
  await m.goto(BASE + "/#/market");
  await m.waitForSelector(`#providers tr[data-provider="${MARKET.worker}"]`);
  const provider = await rowCells(m, `#providers tr[data-provider="${MARKET.worker}"]`);
  check(provider[1] === "20 AIC" && provider[4] === "100", "the market page lists the provider with its stake and score");
  check(await m.locator(`#providers tr[data-provider="${MARKET.verifier}"]`).count() === 1, "and the other provider");
  await m.evaluate(() => { window.__notReloaded = true; });
  for (const hex of MARKET.txs.posts) await submit(hex);
  await m.waitForSelector(`#open-jobs tr[data-job="${jobA}"]`, { timeout: 30_000 });
  await m.waitForSelector(`#open-jobs tr[data-job="${jobB}"]`);
  const open1 = await rowCells(m, `#open-jobs tr[data-job="${jobA}"]`);
  check(open1[1].includes("keyword-spotting") && open1[2] === "20 AIC" && open1[3] === "10 AIC" && open1[4] === "0",
    `the posted jobs appear open for bids with model, budget, max price and no bid (${open1.join(" | ")})`);
  check(/in \d+ blocks|next block/.test(open1[5]), `with the blocks left to bid (${open1[5]})`);
  await shot(m, "market-open");

  await m.click(`#open-jobs tr[data-job="${jobA}"] a[href="#/job/${jobA}"]`);
  await m.waitForSelector("#job-status");
  check(await m.evaluate(() => location.hash) === "#/job/" + jobA && await content(m, "#job-status") === "open", "the job's page opens at #/job/ID, open");
  check((await text(m, "#view")).includes("epochs=3"), "it shows the spec's hyperparameters");
  for (const hex of MARKET.txs.bids) await submit(hex);
  await m.waitForSelector(`#job-bids tr[data-provider="${MARKET.worker}"]`, { timeout: 30_000 });
  check((await rowCells(m, `#job-bids tr[data-provider="${MARKET.worker}"]`))[1] === "6 AIC", "the bid appears with its price");
  await statusIs(m, "awarded");
  check((await text(m, "#job-award")).includes(MARKET.worker), "when bidding ends the job is awarded to the provider");
  for (const hex of MARKET.txs.results) await submit(hex);
  await statusIs(m, "verifying");
  check(await text(m, "#job-result-id") === MARKET.results[0], "the result commit shows the result id");
  const metrics = await text(m, "#job-metrics");
  check(metrics.includes("accuracy") && metrics.includes("0.875") && metrics.includes("0.29"), `and the scorecard (${metrics})`);
  const drawn = await rowCells(m, `#job-verdicts tr[data-verifier="${MARKET.verifier}"]`);
  check(drawn[1] === "waiting", "the verifier drawn is shown, waiting for its verdict");
  await shot(m, "job-verifying");
  for (const hex of MARKET.txs.verdicts) await submit(hex);
  await m.waitForSelector(`#job-verdicts tr[data-verifier="${MARKET.verifier}"] .badge.ok`, { timeout: 30_000 });
  check(true, "its passing verdict appears");
  await statusIs(m, "settled");
  await m.waitForSelector('#job-payments tr[data-payment="price"]');
  /** Whether the statement has a `kind` payment of `amount` to `to` (its link names the whole address). */
  const pays = async (kind, to, amount) => {
    const row = `#job-payments tr[data-payment="${kind}"]`;
    return (await m.locator(`${row} a[href="#/account/${to}"]`).count()) === 1 && (await rowCells(m, row))[3] === amount;
  };
  check(await pays("price", MARKET.worker, "6 AIC"), "the statement pays the provider its price");
  check(await pays("model-royalty", MARKET.owner, "0.3 AIC"), "the model owner its 5% royalty");
  check(await pays("dataset-royalty", MARKET.owner, "0.12 AIC"), "the dataset owner its 2%");
  check(await pays("verifier-fee", MARKET.verifier, "0.1 AIC"), "the verifier its fee");
  check(await pays("refund", MARKET.consumer, "13.48 AIC"), "and refunds the rest to the consumer");
  check(await m.evaluate(() => window.__notReloaded === true), "the job page settled live, without a reload");
  await shot(m, "job");

  await m.goto(BASE + "/#/market");
  await m.waitForSelector(`#finished-jobs tr[data-job="${jobA}"][data-status="settled"]`);
  await m.waitForSelector(`#finished-jobs tr[data-job="${jobB}"][data-status="settled"]`, { timeout: 30_000 });
  check(true, "the market page lists both jobs as settled");
  check((await rowCells(m, `#providers tr[data-provider="${MARKET.worker}"]`))[5].startsWith("2 /"), "and the provider's two completed jobs");
  await shot(m, "market");

  await m.goto(BASE + "/#/models");
  const board = `.board[data-dataset="${MARKET.dataset}"]`;
  await m.waitForSelector(`${board} tr[data-model="${modelB}"]`);
  const ranked = async () => m.locator(`${board} tbody tr`).evaluateAll((rows) => rows.map((r) => r.dataset.model));
  check(JSON.stringify(await ranked()) === JSON.stringify([modelB, modelA]), "the leaderboard ranks the better accuracy first");
  check((await rowCells(m, `${board} tr[data-model="${modelB}"]`))[2] === "0.9125", "with its value");
  await m.click(`${board} button:text-is("val_loss")`);
  await m.waitForFunction((b) => document.querySelector(`${b} button[aria-pressed="true"]`)?.textContent === "val_loss", board);
  check(JSON.stringify(await ranked()) === JSON.stringify([modelA, modelB]), "by val_loss, the lower loss ranks first");
  check(await m.locator(`#models tr[data-model="${modelA}"]`).count() === 1 && await m.locator(`#datasets tr[data-dataset="${MARKET.dataset}"]`).count() === 1,
    "the registry lists the models and the dataset");
  const schema = (await rowCells(m, `#models tr[data-model="${modelA}"]`))[4];
  check(schema.includes("epochs 1–100 (whole)"), `with the hyperparameter schema (${schema})`);
  await m.click(`${board} button:text-is("accuracy")`);
  await shot(m, "models");
  for (const [who, kind] of [[MARKET.consumer, "post-job"], [MARKET.worker, "bid"]]) {
    const t = (await api(`/accounts/${who}/txs`)).txs.find((x) => x.kind === kind);
    await m.goto(BASE + "/#/tx/" + t.txid);
    await m.waitForSelector(`#view a[href="#/job/${t.job}"]`);
    check(MARKET.jobs.includes(t.job), `a ${kind} transaction's page links its job`);
  }
  await m.close();

  // 8. Dark mode, and a phone: every page fits the width.
  const dark = await open({ colorScheme: "dark" });
  await dark.goto(BASE + "/");
  await dark.waitForSelector("#chart-hashrate svg path.line");
  await shot(dark, "explorer-dark");
  await dark.goto(BASE + "/#/job/" + jobA);
  await dark.waitForSelector('#job-payments tr[data-payment="price"]');
  await shot(dark, "job-dark");
  await dark.close();
  const phone = await open({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const pages = [["phone-explorer", "/", "#tip-height"], ["phone-block", "/#/block/1", "#block-hash"],
    ["phone-account", "/#/account/" + RECIPIENT, "#balance"], ["phone-tx", "/#/tx/" + TXID, "#tx-amount"],
    ["phone-mining", "/#/mining", "tr[data-worker]"], ["phone-market", "/#/market", "#providers tr[data-provider]"],
    ["phone-job", "/#/job/" + jobA, '#job-payments tr[data-payment="price"]'], ["phone-models", "/#/models", ".board tr[data-model]"]];
  for (const [name, path, ready] of pages) {
    await phone.goto(BASE + path);
    await phone.waitForSelector(ready);
    await phone.waitForTimeout(300);
    // A phone widens the layout to fit content that overflows, so compare with the device.
    const sw = await phone.evaluate(() => document.documentElement.scrollWidth);
    check(sw <= 390, `${name}: no horizontal scroll (${sw} px wide on a 390 px screen)`);
    await shot(phone, name);
  }
  await phone.close();
  check(problems.length === 0, "no console errors and no request outside the public API" + (problems.length ? ":\n  " + problems.join("\n  ") : ""));
  log("all checks passed");
} catch (e) {
  console.error("[dashboard] FAILED:", e.message);
  if (problems.length) console.error("[dashboard] also seen:\n  " + problems.join("\n  "));
  process.exitCode = 1;
} finally {
  await browser.close();
}

// The dashboard's shell: navigation, search, the shared event stream and hash routing.
//
// A page is a module whose default export renders into the view:
//   export default async function (view, params, ctx) { ...; return cleanup; }
// `ctx.events.on(type, fn)` subscribes to the event stream (unsubscribed for the page when it
// is left, by `ctx.on`), `ctx.alive()` tells a page still loading whether it is still shown,
// `ctx.onBlocks(fn)` reloads a page's data on each new block and after a resync.
// New pages add a route and, if they are top-level, a NAV entry.

import { Events, get, throttle } from "./api.js";
import { errorBox, fill, h } from "./dom.js";
import home from "./pages/home.js";
import block from "./pages/block.js";
import tx from "./pages/tx.js";
import account from "./pages/account.js";
import mining from "./pages/mining.js";
import search from "./pages/search.js";
import market from "./pages/market.js";
import job from "./pages/job.js";
import models from "./pages/models.js";
import devices from "./pages/devices.js";

/** Top-level pages in the navigation: [hash, label, the routes' first segment]. */
const NAV = [
  ["#/", "Explorer", ""],
  ["#/mining", "Mining", "mining"],
  ["#/market", "Market", "market"],
  ["#/models", "Models", "models"],
  ["#/devices", "Devices", "devices"],
];

/** Routes: first path segment → page. */
const ROUTES = { "": home, block, tx, account, mining, search, market, job, models, devices };

/** The navigation entry a page that is not in NAV belongs to (the rest: the explorer). */
const SECTION = { job: "market" };

const view = document.getElementById("view");
const events = new Events(document.getElementById("live"));
let leave = () => {};
let generation = 0;

function renderNav(section) {
  fill(document.getElementById("nav"), NAV.map(([href, label, seg]) =>
    h("a", { href, "aria-current": seg === section ? "page" : false }, label)));
}

async function route() {
  leave();
  const gen = ++generation;
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const [section = "", ...params] = parts;
  const page = ROUTES[section];
  // Block, transaction, account and search pages belong to the explorer.
  renderNav(SECTION[section] ?? (NAV.some((n) => n[2] === section) ? section : ""));
  const offs = [];
  const ctx = {
    events,
    // A page still loading when it is left subscribes to nothing.
    on: (type, fn) => { if (gen === generation) offs.push(events.on(type, fn)); },
    onBlocks: (fn, ms = 1000) => {
      // A reload that fails keeps what is shown; the next block tries again.
      const run = throttle(() => Promise.resolve(fn()).catch((e) => console.warn("reload failed:", e.message)), ms);
      ctx.on("tip", run);
      ctx.on("resync", run);
      offs.push(run.cancel);
      return run;
    },
    alive: () => gen === generation,
    title: (t) => { document.title = t ? `${t} · AIC` : "AIC node"; },
  };
  let cleanup = () => {};
  leave = () => { offs.forEach((off) => off()); cleanup(); };
  fill(view, h("p", { class: "loading" }, "Loading…"));
  if (!page) {
    fill(view, errorBox(`No page ${location.hash}`, "not-found"));
    return;
  }
  try {
    const c = await page(view, params, ctx);
    if (typeof c === "function") {
      if (gen === generation) cleanup = c; else c();
    }
  } catch (e) {
    if (gen === generation) fill(view, errorBox(e.message, e.code));
  }
}

document.getElementById("search").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = document.getElementById("search-input");
  const q = input.value.trim();
  if (!q) return;
  input.value = "";
  input.blur();
  location.hash = "#/search/" + encodeURIComponent(q);
});

events.on("hello", (hello) => {
  document.getElementById("network").textContent = hello.network;
});
get("/status").then((s) => {
  document.getElementById("network").textContent = s.network;
}).catch(() => {});

window.addEventListener("hashchange", route);
route();

// The worker's own page: its devices (utilization, temperature, power), the switcher's
// timeline with the hand-over latencies, earnings per device, and the jobs. The worker pushes
// its state on its event stream (`/api/v1/worker/events`): a `snapshot` event every second
// (what its status, switcher and jobs endpoints answer) and an `earnings` event every five
// (what its earnings endpoint answers, which asks the node what the chain paid). The page
// never polls.

import { card, fill, h, kv, panel, table } from "./dom.js";
import { aic, ago, int, plural, rate, short, si, bytes } from "./format.js";
import { lineChart } from "./chart.js";
import { latency, timelineSvg, WINDOW } from "./timeline.js";

const view = document.getElementById("view");
const live = document.getElementById("live");
const stateLine = document.getElementById("device-state");

function setLive(state, text) {
  live.dataset.state = state;
  live.querySelector("span").textContent = text;
}

const TASK_NAMES = { mining: "mining", ai_job: "AI job", idle: "idle", paused: "paused" };
const taskBadge = (t) => h("span", { class: `badge task-${t}` }, TASK_NAMES[t] || t);
const none = () => h("span", { class: "muted" }, "not reported");
const secs = (s) => (s >= 120 ? `${(s / 60).toFixed(1)} min` : `${(s ?? 0).toFixed(1)} s`);

function meter(fraction) {
  const bar = h("i");
  bar.style.width = `${Math.round(Math.min(Math.max(fraction, 0), 1) * 100)}%`;
  return h("span", { class: "meter-row" }, h("span", { class: "meter" }, bar),
    h("b", {}, `${(fraction * 100).toFixed(0)} %`));
}

// The page's skeleton, filled on each tick.
const cards = h("div", { class: "grid cards", id: "cards" });
const devicesBox = h("div", { id: "devices" });
const utilBox = h("div", { class: "chart", id: "utilization" });
const timelineBox = h("div", { class: "timeline", id: "timeline" });
const legend = h("div", { class: "legend", id: "timeline-legend" });
const switchesBox = h("div", { id: "switches" });
const earningsBox = h("div", { id: "earnings" });
const jobsBox = h("div", { id: "jobs" });
const title = h("small", {}, "");
let built = false;

function build() {
  fill(view,
    h("h1", {}, "Worker", title),
    cards,
    h("div", { class: "stack" }, panel("Devices", h("span", {}, "live utilization, temperature, power"), devicesBox)),
    h("div", { class: "stack" }, panel("Switcher timeline", h("span", {}, `last ${WINDOW} s`), timelineBox, legend)),
    h("div", { class: "grid two" },
      panel("Earnings per device", h("span", {}, "mining and AI work"), earningsBox),
      panel("Jobs", h("span", {}, "on this device and queued"), jobsBox)),
    h("div", { class: "grid two" },
      panel("Utilization", h("span", {}, "the agent's device"), utilBox),
      panel("Hand-overs", h("span", {}, "latest first"), switchesBox)));
  built = true;
}

let chart = null;
let lastHashes = null;
let hashRate = 0;
let lastSwitcher = null;

function renderCards(status, switcher) {
  const device = switcher?.device;
  const task = switcher?.state?.task || (device && status.tasks?.[device]) || Object.values(status.tasks || {})[0];
  fill(cards,
    card("Holding the device", task ? taskBadge(task) : "—", device ? `device ${device}` : "no switcher"),
    card("Hash rate", switcher ? rate(hashRate) : "—", switcher ? `${si(switcher.hashes)} hashes` : "not mining"),
    card("Shares accepted", switcher ? int(switcher.pool?.accepted) : "—",
      switcher ? `${int(switcher.pool?.rejected)} rejected · ${int(switcher.shares)} found` : ""),
    card("Useful time", switcher ? `${(100 * (switcher.usage?.useful_fraction || 0)).toFixed(1)} %` : "—",
      switcher ? `${int(switcher.switch_count)} hand-overs` : ""));
  stateLine.textContent = task ? `${device || ""} ${TASK_NAMES[task] || task}`.trim() : "";
}

function renderDevices(status) {
  const latest = new Map((status.latest?.devices || []).map((d) => [d.device, d]));
  const cols = [["Device", ""], ["Task", ""], ["Utilization", "wrap"], ["Temperature", "num"],
    ["Power", "num"], ["Memory", "num opt"]];
  const rows = (status.devices || []).map((d) => {
    const s = latest.get(d.id) || {};
    const r = [
      h("span", {}, h("b", {}, d.id), " ", h("span", { class: "muted" }, d.model || d.kind)),
      taskBadge(status.tasks?.[d.id] || s.task || "idle"),
      s.utilization == null ? none() : meter(s.utilization),
      s.temperature_celsius == null ? none() : `${s.temperature_celsius.toFixed(1)} °C`,
      s.power_watts == null ? none() : `${s.power_watts.toFixed(1)} W`,
      s.memory_used_bytes == null ? none()
        : `${bytes(s.memory_used_bytes)}${s.memory_total_bytes ? ` / ${bytes(s.memory_total_bytes)}` : ""}`,
    ];
    r.attrs = { "data-device": d.id };
    return r;
  });
  fill(devicesBox, table(cols, rows, "No devices found.", { stack: true }));
}

function renderUtilization(status, device) {
  if (!chart) {
    chart = lineChart(utilBox, {
      format: (v) => `${v.toFixed(1)} %`, cls: "series-a", label: "utilization",
      xLabel: (x) => new Date(x).toLocaleTimeString(), empty: "waiting for samples…",
    });
  }
  const id = device || status.devices?.[0]?.id;
  const points = (status.history || []).flatMap((s) => {
    const d = s.devices.find((x) => x.device === id);
    return d && d.utilization != null ? [{ x: s.at_ms, y: d.utilization * 100 }] : [];
  });
  chart.update(points);
}

function renderTimeline(switcher) {
  if (!switcher) {
    fill(timelineBox, h("p", { class: "empty" }, "No switcher: this worker only monitors (no pool, no job socket)."));
    fill(legend);
    return;
  }
  lastSwitcher = switcher;
  // The switcher's clock at this snapshot: how far the timeline reaches.
  timelineBox.dataset.now = String(switcher.now_s);
  fill(timelineBox, timelineSvg(switcher, timelineBox.clientWidth || 800));
  const u = switcher.usage || {};
  fill(legend,
    h("span", {}, h("i", { class: "mining" }), "Mining ", h("b", {}, secs(u.mining_s))),
    h("span", {}, h("i", { class: "ai_job" }), "AI job ", h("b", {}, secs(u.ai_s))),
    h("span", {}, h("i", { class: "other" }), "Idle, paused, hand-overs ", h("b", {}, secs(u.lost_s))),
    h("span", {}, "Policy ", h("b", {}, switcher.policy?.sharing || "—")));
  const recent = (switcher.switches || []).slice(-8).reverse();
  const cols = [["Hand-over", ""], ["At", "num"], ["Latency", "num"]];
  fill(switchesBox, table(cols, recent.map((w) => [
    w.kind === "release" ? "mining → released" : "mining resumed",
    `${w.at_s.toFixed(2)} s`,
    latency(w.latency_us),
  ]), "No hand-overs yet: the device has not switched."));
}

function renderJobs(jobs) {
  if (!jobs) {
    fill(jobsBox, h("p", { class: "empty" }, "No job queue on this worker (run it with --jobs DIR)."));
    return;
  }
  const outcomes = (jobs.outcomes || []).slice(-8).reverse();
  fill(jobsBox,
    kv([
      ["Running", jobs.current ? h("b", { id: "current-job" }, jobs.current) : h("span", { class: "muted" }, "none")],
      ["Queued", jobs.queued?.length ? jobs.queued.join(", ") : h("span", { class: "muted" }, "none")],
      jobs.last_error ? ["Last error", h("span", { class: "minus" }, jobs.last_error)] : null,
    ]),
    table([["Job", ""], ["Outcome", ""], ["Took", "num"]], outcomes.map((o) => [
      o.id,
      h("span", { class: `badge ${o.status === "succeeded" ? "ok" : o.status === "failed" ? "job-failed" : ""}` }, o.status),
      secs((o.ended_ms - o.started_ms) / 1000),
    ]), "No job has finished yet."));
}

// What the device's blocks earned: AIC where a node says what the chain paid, else only
// the count found.
function minedText(b, node) {
  if (!node) return `${plural(b.found, "block")} found`;
  return `${aic(b.paid_units)} AIC · ${plural(b.in_chain, "block")} in chain`;
}

const BLOCKS_SHOWN = 8;
const BLOCK_STATES = { main: "ok", side: "job-failed", unknown: "job-failed", unchecked: "" };

// The device's latest blocks; each links to the node's own explorer page for it.
function blocksTable(mined) {
  const link = (hash) => mined.node
    ? h("a", { href: `${mined.node}/#/block/${hash}`, rel: "noopener", class: "mono" }, short(hash, 10, 6))
    : h("span", { class: "mono" }, short(hash, 10, 6));
  const rows = (mined.recent || []).slice(0, BLOCKS_SHOWN).map((b) => {
    const r = [b.height == null ? "—" : int(b.height), link(b.hash),
      h("span", { class: `badge ${BLOCK_STATES[b.state] ?? ""}` }, b.state),
      b.confirmations == null ? "—" : `${int(b.confirmations)}${b.settled ? " ✓" : ""}`,
      b.state === "main" ? `${aic(b.paid_units)} AIC` : "—", ago(b.found_unix_ms / 1000)];
    r.attrs = { "data-block": b.hash, "data-state": b.state };
    return r;
  });
  const cols = [["Height", "num"], ["Block", ""], ["State", ""], ["Conf.", "num opt"], ["Paid", "num"],
    ["Found", "opt"]];
  const note = mined.error ? h("p", { class: "empty" }, `The node did not answer: ${mined.error}`)
    : mined.node ? null
      : h("p", { class: "empty" }, "No node to ask what the chain paid (run the worker with --node URL).");
  return h("div", { id: "mined-blocks" }, h("p", { class: "board-note muted" }, "Latest blocks found"), note,
    table(cols, rows, "No block found yet: blocks are shares that also meet the network's target.", { stack: true }));
}

function renderEarnings(e) {
  if (!e) {
    fill(earningsBox, h("p", { class: "empty" }, "No switcher: nothing earned here."));
    return;
  }
  const cols = [["Device", ""], ["Mining", "wrap"], ["AI work", "wrap"], ["Earned", "num"]];
  const rows = e.devices.map((d) => {
    const m = d.mining, a = d.ai;
    const r = [
      h("b", {}, d.device),
      h("span", { class: "mined" }, minedText(m.blocks, e.mined_blocks?.node),
        h("br"), h("span", { class: "muted" },
          `${int(m.shares_accepted)} shares accepted · ${secs(m.seconds)} hashing${m.share_difficulty ? ` · difficulty ${Number(m.share_difficulty.toPrecision(2))}` : ""}`)),
      h("span", { class: "ai" }, a.paid_units == null ? `${plural(a.succeeded ?? 0, "job")} done` : `${aic(a.paid_units)} AIC paid`,
        h("br"), h("span", { class: "muted" }, `${secs(a.seconds)} computing`)),
      h("b", { class: "earned" }, `${aic(d.paid_units)} AIC`),
    ];
    r.attrs = { "data-device": d.device, "data-paid-units": String(d.paid_units) };
    return r;
  });
  const market = e.market
    ? kv([["Provider", h("span", { class: "mono" }, e.market.address)],
      ["Paid by the market", `${aic(e.market.total_units)} AIC over ${int(e.market.jobs.length)} jobs`]])
    : h("p", { class: "empty" }, e.market_error ? `The node did not answer: ${e.market_error}`
      : "The market agent is off: AI work here is paid outside the chain's market.");
  fill(earningsBox, table(cols, rows, "No devices.", { stack: true }), market, blocksTable(e.mined_blocks || {}));
}

function render({ status, switcher, jobs }) {
  if (!status) throw new Error("the snapshot has no monitor status");
  if (!built) build();
  if (switcher) {
    if (lastHashes) {
      const dt = switcher.now_s - lastHashes.at;
      if (dt > 0) hashRate = Math.max(0, (switcher.hashes - lastHashes.hashes) / dt);
    }
    lastHashes = { at: switcher.now_s, hashes: switcher.hashes };
  }
  title.textContent = `${int(status.devices?.length)} device${status.devices?.length === 1 ? "" : "s"}, sampled every ${status.interval_ms} ms`;
  renderCards(status, switcher);
  renderDevices(status);
  renderTimeline(switcher);
  renderJobs(jobs);
  renderUtilization(status, switcher?.device);
}

function failed(e) {
  setLive("down", "unreachable");
  if (!built) fill(view, h("div", { class: "error", role: "alert" }, h("strong", {}, "The worker did not answer. "), String(e.message || e)));
}

// The browser reconnects a dropped stream by itself; each snapshot is whole, so nothing is
// missed but the seconds it was down.
const events = new EventSource("/api/v1/worker/events");
events.addEventListener("snapshot", (e) => {
  try {
    render(JSON.parse(e.data));
    setLive("live", "live");
  } catch (err) {
    failed(err);
  }
});
events.addEventListener("earnings", (e) => {
  // The box is filled even before the first snapshot builds the page around it.
  try {
    renderEarnings(JSON.parse(e.data));
  } catch (err) {
    fill(earningsBox, h("p", { class: "empty" }, `Earnings unavailable: ${err.message}`));
  }
});
events.onerror = () => failed(new Error("the event stream dropped; reconnecting"));

new ResizeObserver(() => {
  if (lastSwitcher) fill(timelineBox, timelineSvg(lastSwitcher, timelineBox.clientWidth || 800));
}).observe(timelineBox);

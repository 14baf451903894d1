// Devices: every provider's announced devices (presence, soft state kept by this node), their
// latest job reports, and their registration on chain; the live view of one machine is its
// worker's own page (the announced endpoint). Presence and reports follow the event stream's
// `providers` events, registrations each block; the page never polls.

import { get } from "../api.js";
import { card, fill, h, kv, panel, table } from "../dom.js";
import { aic, ago, bytes, int, plural, si } from "../format.js";
import { accountLink } from "./common.js";
import { jobLink } from "./market-common.js";

const REPORTS_SHOWN = 5;
const DEVICE_COLS = [["Device", ""], ["Kind", ""], ["Model", "wrap"], ["Memory", "num opt"], ["Cores", "num opt2"],
  ["Hashing", "num"], ["Matmul", "num opt"]];
const REPORT_COLS = [["Job", ""], ["Outcome", ""], ["Took", "num"], ["Ended", ""]];

function deviceRow(d) {
  const s = d.scores || {};
  const r = [h("b", {}, d.id), h("span", { class: "badge" }, d.kind), d.model || d.vendor || "—",
    d.memory_bytes ? bytes(d.memory_bytes) : "—", d.threads ? `${int(d.cores)} / ${int(d.threads)}` : "—",
    s.sha256d_hashes_per_sec ? si(s.sha256d_hashes_per_sec, "H/s") : "—",
    s.matmul_gflops ? `${s.matmul_gflops.toFixed(1)} GFLOP/s` : "—"];
  r.attrs = { "data-device": d.id };
  return r;
}

function reportRow(r) {
  const id = /^[0-9a-f]{64}$/.test(r.job_id) ? jobLink(r.job_id) : h("span", { class: "mono" }, r.job_id);
  const badge = r.status === "succeeded" ? "ok" : r.status === "failed" ? "job-failed" : "";
  return [id, h("span", { class: `badge ${badge}` }, r.status), `${((r.ended_ms - r.started_ms) / 1000).toFixed(1)} s`,
    ago(r.ended_ms / 1000)];
}

function providerPanel(p, chain, reports) {
  const online = p.online ? h("span", { class: "badge ok" }, "online") : h("span", { class: "badge off" }, "offline");
  const page = p.endpoint && /^https?:\/\//.test(p.endpoint)
    ? h("a", { href: p.endpoint, rel: "noopener", class: "worker-page" }, "worker page ↗") : null;
  return h("section", { class: "panel", "data-provider": p.address },
    h("header", {}, h("h2", {}, accountLink(p.address)), h("span", {}, online, " ", page)),
    kv([
      ["Last seen", `${ago(p.last_seen_ms / 1000)} · ${plural(p.heartbeats, "heartbeat")}`],
      ["On chain", chain ? `${aic(chain.stake_units)} AIC staked · reputation ${int(chain.reputation.score)} · ` +
        `${int(chain.reputation.completed)} completed, ${int(chain.reputation.failed)} failed` : h("span", { class: "muted" }, "not registered")],
      ["Live view", page ? "utilization, temperature, power and the mining/AI timeline are on the worker's page"
        : h("span", { class: "muted" }, "the worker announced no page")],
    ]),
    table(DEVICE_COLS, (p.devices || []).map(deviceRow), "No devices announced.", { stack: true }),
    h("p", { class: "board-note muted" }, "Latest job reports"),
    table(REPORT_COLS, reports.slice(-REPORTS_SHOWN).reverse().map(reportRow), "No job reported yet.", { stack: true }));
}

export default async function devices(view, _params, ctx) {
  ctx.title("Devices");
  // Reports are read again only for a provider whose report count moved.
  const reportsOf = new Map();
  const readReports = (providers) => Promise.all(providers.map(async (p) => {
    const known = reportsOf.get(p.address);
    if (!known || known.count !== p.reports) {
      const reports = await get(`/providers/${p.address}/reports`).then((r) => r.reports).catch(() => []);
      reportsOf.set(p.address, { count: p.reports, reports });
    }
    return reportsOf.get(p.address).reports;
  }));
  let [list, chain] = await Promise.all([get("/providers"), get("/market/providers")]);
  let reports = await readReports(list.providers);
  if (!ctx.alive()) return;
  const cards = h("div", {});
  const box = h("div", { id: "providers", class: "grid stack", "data-updates": "0" });
  fill(view, h("h1", {}, "Devices", h("small", {}, "what workers announce to this node")), cards, box);
  const draw = () => {
    const registered = new Map(chain.map((p) => [p.address, p]));
    const online = list.providers.filter((p) => p.online);
    fill(cards, h("div", { class: "grid cards" },
      card("Providers online", int(online.length), `${int(list.total ?? list.providers.length)} seen`, "online-count"),
      card("Devices online", int(online.reduce((n, p) => n + (p.devices?.length || 0), 0)), "announced"),
      card("Registered", int(chain.length), "on chain, with a stake")));
    fill(box, list.providers.length
      ? list.providers.map((p, i) => providerPanel(p, registered.get(p.address), reports[i]))
      : panel("No worker yet", null, h("p", { class: "empty" }, "Workers appear here when they run with ",
        h("code", {}, "aic worker run --node URL"), ".")));
  };
  draw();
  // Presence comes on the event stream (each announcement, report, and a provider going
  // offline); registrations and stakes change with blocks.
  ctx.on("providers", async (ev) => {
    const fresh = await readReports(ev.providers);
    if (!ctx.alive()) return;
    list = ev;
    reports = fresh;
    box.dataset.updates = String(Number(box.dataset.updates) + 1);
    draw();
  });
  // After a dropped stream or a lag, what was missed is read again.
  ctx.on("resync", async () => {
    const fresh = await get("/providers");
    const freshReports = await readReports(fresh.providers);
    if (!ctx.alive()) return;
    list = fresh;
    reports = freshReports;
    draw();
  });
  ctx.onBlocks(async () => {
    const fresh = await get("/market/providers");
    if (!ctx.alive()) return;
    chain = fresh;
    draw();
  });
}

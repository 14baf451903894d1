// Mining: the node's Stratum workers, their hash rate, shares and blocks, live.

import { get } from "../api.js";
import { card, fill, h, panel, table } from "../dom.js";
import { ago, int, rate, si } from "../format.js";
import { accountLink } from "./common.js";

const COLS = [
  ["Worker", ""], ["Status", ""], ["Hash rate", "num"], ["Difficulty", "num"],
  ["Accepted", "num"], ["Rejected", ""], ["Blocks", "num"], ["Last share", ""],
];

function workerRow(w) {
  const [address, rig] = w.worker.split(".", 2);
  const rejected = Object.entries(w.rejected || {});
  const r = [
    h("span", {}, accountLink(address), rig ? h("span", { class: "muted" }, ` .${rig}`) : null),
    w.connections > 0 ? h("span", { class: "badge ok" }, w.connections > 1 ? `online ×${w.connections}` : "online")
      : h("span", { class: "badge off" }, "offline"),
    rate(w.hash_rate),
    si(w.difficulty),
    int(w.accepted),
    rejected.length ? rejected.map(([why, n]) => h("span", { class: "chip", title: why }, `${why} ${int(n)}`))
      : h("span", { class: "muted" }, "none"),
    int(w.blocks),
    w.last_share ? h("span", { "data-time": w.last_share }, ago(w.last_share)) : h("span", { class: "muted" }, "never"),
  ];
  r.attrs = { "data-worker": w.worker };
  return r;
}

export default async function mining(view, _params, ctx) {
  ctx.title("Mining");
  const workers = await get("/mining/workers");
  if (!ctx.alive()) return;
  const cards = h("div", {});
  const tableBox = h("div", { id: "workers" });
  fill(view,
    h("h1", {}, "Mining", h("small", {}, "Stratum workers connected to this node")),
    cards,
    h("div", { class: "grid" }, panel("Workers", h("span", { id: "workers-updated" }, "live"), tableBox)));
  const draw = (list, total) => {
    const online = list.filter((w) => w.connections > 0);
    const sum = (f) => list.reduce((s, w) => s + f(w), 0);
    const rejected = sum((w) => Object.values(w.rejected || {}).reduce((a, b) => a + b, 0));
    fill(cards, h("div", { class: "grid cards" },
      card("Workers online", int(online.length), `${int(total ?? list.length)} known`, "workers-online"),
      card("Hash rate", rate(sum((w) => w.hash_rate)), "from accepted shares, 10 min"),
      card("Accepted shares", int(sum((w) => w.accepted)), ""),
      card("Rejected shares", int(rejected), ""),
      card("Blocks found", int(sum((w) => w.blocks)), "by Stratum workers")));
    fill(tableBox, table(COLS, list.map(workerRow),
      "No Stratum workers yet. Point a miner at this node's Stratum port (see docs/mining.md).",
      { stack: true }));
  };
  draw(workers);
  ctx.on("mining", (m) => draw(m.workers, m.total));
  ctx.on("resync", async () => {
    const w = await get("/mining/workers");
    if (ctx.alive()) draw(w);
  });
  const ticker = setInterval(() => {
    for (const el of view.querySelectorAll("[data-time]")) el.textContent = ago(Number(el.dataset.time));
  }, 1000);
  return () => clearInterval(ticker);
}

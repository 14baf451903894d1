// Explorer home: the tip, the latest blocks and transactions, hash rate and difficulty.

import { get, throttle } from "../api.js";
import { lineChart } from "../chart.js";
import { card, fill, h, panel, table } from "../dom.js";
import { int, rate, si } from "../format.js";
import { BLOCK_COLS, TX_COLS, blockRow, refreshAges, txRow } from "./common.js";

const BLOCKS = 12;
const TXS = 12;

export default async function home(view, _params, ctx) {
  ctx.title("Explorer");
  const [status, list, txs, series] = await Promise.all([
    get("/status"), get(`/blocks?limit=${BLOCKS}`), get(`/txs?limit=${TXS}`), get("/chain/series?blocks=120"),
  ]);
  if (!ctx.alive()) return;
  const blocksBox = h("div", {});
  const txsBox = h("div", {});
  const hashBox = h("div", { class: "chart", id: "chart-hashrate" });
  const diffBox = h("div", { class: "chart", id: "chart-difficulty" });
  fill(view,
    h("h1", {}, "Explorer", h("small", {}, "live from this node")),
    h("div", { class: "grid cards" },
      card("Height", int(status.height), "", "tip-height"),
      card("Difficulty", si(status.difficulty), `bits ${status.bits}`, "tip-difficulty"),
      card("Hash rate", "—", "network, last 10 blocks", "hash-rate"),
      card("Mempool", int(status.mempool_size), "pending transactions", "mempool-size"),
      card("Last block", "—", "", "last-block")),
    h("div", { class: "grid two" },
      panel("Network hash rate", h("span", {}, "last 120 blocks"), hashBox),
      panel("Difficulty", h("span", {}, "last 120 blocks"), diffBox)),
    h("div", { class: "grid two" },
      panel("Latest blocks", h("a", { href: `#/block/${status.height}` }, "tip →"), blocksBox),
      panel("Latest transactions", null, txsBox)));
  const $ = (id) => view.querySelector("#" + id);
  // Held once: a reload that lands after the page was left writes to detached nodes.
  const el = {
    height: $("tip-height"), difficulty: $("tip-difficulty"), rate: $("hash-rate"),
    mempool: $("mempool-size"), last: $("last-block"),
  };
  const hashChart = lineChart(hashBox, { label: "hash rate", cls: "series-a", format: rate, xLabel: (x) => `#${x}` });
  const diffChart = lineChart(diffBox, { label: "difficulty", cls: "series-b", format: (v) => si(v), xLabel: (x) => `#${x}` });

  let blocks = list.blocks;
  const drawBlocks = (fresh) => fill(blocksBox, table(BLOCK_COLS, blocks.map((b) => blockRow(b, fresh?.has(b.hash))), "No blocks yet."));
  const drawTxs = (list, fresh) => fill(txsBox, table(TX_COLS, list.map((t) => txRow(t, fresh?.has(t.txid))), "No transactions yet."));
  const drawSeries = (s) => {
    hashChart.update(s.points.map((p) => ({ x: p.height, y: p.hash_rate })));
    diffChart.update(s.points.map((p) => ({ x: p.height, y: p.difficulty })));
    const last = s.points[s.points.length - 1];
    if (last) el.rate.textContent = rate(last.hash_rate);
  };
  const setTip = (b) => {
    el.height.textContent = int(b.height);
    el.difficulty.textContent = si(b.difficulty);
    el.difficulty.nextElementSibling.textContent = `bits ${b.bits}`;
    el.last.replaceChildren(h("span", { "data-time": b.time }, ""));
    refreshAges(el.last);
  };
  let txList = txs.txs;
  drawBlocks();
  drawTxs(txList);
  drawSeries(series);
  if (blocks[0]) setTip(blocks[0]);

  const reloadSeries = throttle(async () => {
    const s = await get("/chain/series?blocks=120");
    if (ctx.alive()) drawSeries(s);
  }, 2000);
  const reloadTxs = throttle(async () => {
    const fresh = await get(`/txs?limit=${TXS}`);
    if (!ctx.alive()) return;
    const seen = new Set(txList.map((t) => t.txid + (t.block_height ?? "")));
    const added = new Set(fresh.txs.filter((t) => !seen.has(t.txid + (t.block_height ?? ""))).map((t) => t.txid));
    txList = fresh.txs;
    drawTxs(txList, added);
  }, 1000);
  const reloadStatus = throttle(async () => {
    const s = await get("/status");
    if (ctx.alive()) el.mempool.textContent = int(s.mempool_size);
  }, 1000);
  const reloadAll = throttle(async () => {
    const [s, l] = await Promise.all([get("/status"), get(`/blocks?limit=${BLOCKS}`)]);
    if (!ctx.alive()) return;
    blocks = l.blocks;
    drawBlocks();
    el.mempool.textContent = int(s.mempool_size);
    if (blocks[0]) setTip(blocks[0]);
    reloadTxs();
    reloadSeries();
  }, 1000);

  ctx.on("tip", (b) => {
    if (b.reorg_depth > 0 || (blocks[0] && b.height !== blocks[0].height + 1)) {
      reloadAll();
      return;
    }
    blocks = [b, ...blocks].slice(0, BLOCKS);
    drawBlocks(new Set([b.hash]));
    setTip(b);
    reloadTxs();
    reloadSeries();
    reloadStatus();
  });
  ctx.on("tx", (t) => {
    txList = [t, ...txList.filter((x) => x.txid !== t.txid)].slice(0, TXS);
    drawTxs(txList, new Set([t.txid]));
    el.mempool.textContent = int(Number(el.mempool.textContent.replace(/,/g, "")) + 1);
  });
  ctx.on("resync", reloadAll);
  const ticker = setInterval(() => refreshAges(view), 1000);
  return () => {
    clearInterval(ticker);
    hashChart.dispose();
    diffChart.dispose();
    reloadSeries.cancel();
    reloadTxs.cancel();
    reloadAll.cancel();
    reloadStatus.cancel();
  };
}

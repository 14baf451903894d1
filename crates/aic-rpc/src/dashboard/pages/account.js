// An account: balance, nonce, and its transactions (pending first), paged back in time.

import { get, throttle } from "../api.js";
import { fill, h, kv, panel, table } from "../dom.js";
import { aic, int, short, signedAic } from "../format.js";
import { kindBadge, statusCell, txLink } from "./common.js";

const COLS = [["Txid", ""], ["Kind", "opt2"], ["Change", "num"], ["Counterparty", "opt"], ["Block", "num"]];
const PAGE = 25;

function historyRow(address, t) {
  const other = t.from === address ? t.to : t.from;
  const r = [
    txLink(t.txid),
    kindBadge(t.kind),
    h("span", { class: t.delta_units >= 0 ? "plus" : "minus" }, `${signedAic(t.delta_units)} AIC`),
    t.kind === "coinbase" ? h("span", { class: "muted" }, "block reward")
      : other === address ? h("span", { class: "muted" }, "itself")
      : h("a", { href: `#/account/${other}`, class: "mono" }, short(other, 10, 6)),
    statusCell(t),
  ];
  r.attrs = { "data-txid": t.txid };
  return r;
}

export default async function account(view, [address], ctx) {
  ctx.title("Account");
  const path = `/accounts/${encodeURIComponent(address ?? "")}`;
  const [acct, first] = await Promise.all([get(path), get(`${path}/txs?limit=${PAGE}`)]);
  if (!ctx.alive()) return;
  const me = acct.address;
  const summary = h("div", {});
  const pendingBox = h("div", { id: "pending" });
  const historyBox = h("div", { id: "history" });
  const more = h("button", { class: "button", type: "button", id: "load-older" }, "Load older");
  // Confirmed rows shown, newest block first; `next` pages on below the oldest page loaded.
  let rows = [];
  let pending = first.pending;
  let next = first.next_before;
  let pagedBack = false;
  let top = first.scanned_from;
  const merge = (txs) => {
    const seen = new Set(txs.map((t) => t.txid));
    rows = [...txs, ...rows.filter((t) => !seen.has(t.txid))];
    rows.sort((a, b) => b.block_height - a.block_height);
  };
  merge(first.txs);

  const drawSummary = (a) => fill(summary, h("div", { class: "grid cards" },
    h("div", { class: "panel card" },
      h("div", { class: "label" }, "Balance"),
      h("div", { class: "value big", id: "balance" }, `${aic(a.balance_units)} AIC`),
      h("div", { class: "sub" }, `${int(a.balance_units)} base units`)),
    h("div", { class: "panel card" }, kv([
      ["Nonce", h("span", { id: "nonce" }, int(a.nonce))],
      ["Next nonce", int(a.next_nonce)],
    ]))));
  const drawHistory = () => {
    fill(pendingBox, pending.length
      ? h("div", { class: "grid" }, panel("Pending", h("span", {}, "in the mempool"),
          table(COLS, pending.map((t) => historyRow(me, t)))))
      : null);
    const range = next === undefined ? `blocks ${int(top)} → genesis` : `blocks ${int(top)} → ${int(next)}`;
    fill(historyBox, panel("Transactions", h("span", {}, range),
      table(COLS, rows.map((t) => historyRow(me, t)), "No transactions in the blocks scanned."),
      next !== undefined ? h("div", { class: "card" }, more) : null));
  };
  fill(view,
    h("h1", {}, "Account", h("small", { class: "mono", id: "address" }, me)),
    summary, pendingBox, h("div", { class: "grid" }, historyBox));
  drawSummary(acct);
  drawHistory();

  more.addEventListener("click", async () => {
    more.disabled = true;
    const page = await get(`${path}/txs?limit=${PAGE}&before=${next}`);
    if (!ctx.alive()) return;
    merge(page.txs);
    next = page.next_before;
    pagedBack = true;
    more.disabled = false;
    drawHistory();
  });
  const reload = throttle(async () => {
    const [a, page] = await Promise.all([get(path), get(`${path}/txs?limit=${PAGE}`)]);
    if (!ctx.alive()) return;
    merge(page.txs);
    pending = page.pending;
    top = page.scanned_from;
    if (!pagedBack) next = page.next_before;
    drawSummary(a);
    drawHistory();
  }, 1000);
  const touches = (t) => t.from === me || t.to === me || (t.payouts || []).some((p) => p.to === me);
  ctx.on("tx", (t) => { if (touches(t)) reload(); });
  // A new block matters if it mines a pending transaction, pays this account, or holds one of
  // its transactions: one block read per tip rather than a history scan.
  ctx.on("tip", async (b) => {
    if (pending.length || b.miner === me || b.reorg_depth > 0) { reload(); return; }
    if (b.tx_count <= 1) return;
    const block = await get(`/blocks/${b.hash}`).catch(() => null);
    if (block && block.txs.some(touches)) reload();
  });
  ctx.on("resync", reload);
  return () => reload.cancel();
}

// Pieces several pages share: links and table rows for blocks and transactions.

import { h } from "../dom.js";
import { aic, ago, int, short } from "../format.js";

export const blockLink = (idOrHeight, text) => h("a", { href: `#/block/${idOrHeight}` }, text ?? String(idOrHeight));
export const txLink = (txid, text) => h("a", { href: `#/tx/${txid}`, class: "mono" }, text ?? short(txid));
export const accountLink = (addr, text) =>
  addr ? h("a", { href: `#/account/${addr}`, class: "mono" }, text ?? short(addr, 10, 6)) : h("span", { class: "muted" }, "—");

export const BLOCK_COLS = [["Height", ""], ["Hash", "opt"], ["Age", ""], ["Txs", "num"], ["Miner", "opt2"]];

/** A block summary as a table row. */
export function blockRow(b, fresh) {
  const r = [
    blockLink(b.height, int(b.height)),
    blockLink(b.hash, h("span", { class: "mono" }, short(b.hash, 8, 6))),
    h("span", { "data-time": b.time }, ago(b.time)),
    int(b.tx_count),
    accountLink(b.miner, short(b.miner, 9, 4)),
  ];
  r.attrs = { "data-height": b.height, class: fresh ? "fresh" : undefined };
  return r;
}

export const TX_COLS = [["Txid", ""], ["Kind", "opt2"], ["Amount", "num"], ["To", "opt"], ["Block", "num"]];

/** The amount a transaction moves: a transfer's amount, a coinbase's payouts. */
export function txAmount(t) {
  if (t.kind === "coinbase") return (t.payouts || []).reduce((s, p) => s + p.amount_units, 0);
  return t.amount_units ?? 0;
}

/** A transaction's kind; market actions (post-job, bid, ...) share one colour. */
export function kindBadge(kind) {
  const cls = kind === "coinbase" || kind === "transfer" ? kind : "market";
  return h("span", { class: `badge ${cls}` }, kind);
}

export function statusCell(t) {
  return t.block_height === undefined
    ? h("span", { class: "badge pending" }, "pending")
    : blockLink(t.block_height, int(t.block_height));
}

/** A transaction as a table row. */
export function txRow(t, fresh) {
  const to = t.kind === "coinbase" ? t.payouts?.[0]?.to : t.to;
  const r = [
    txLink(t.txid),
    kindBadge(t.kind),
    aic(txAmount(t)) + " AIC",
    accountLink(to, short(to, 9, 4)),
    statusCell(t),
  ];
  r.attrs = { "data-txid": t.txid, class: fresh ? "fresh" : undefined };
  return r;
}

/** Refreshes every "… ago" cell under `root` (they carry data-time). */
export function refreshAges(root) {
  for (const el of root.querySelectorAll("[data-time]")) el.textContent = ago(Number(el.dataset.time));
}

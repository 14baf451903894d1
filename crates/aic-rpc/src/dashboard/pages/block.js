// One block: its header, its place in the chain and its transactions.

import { get } from "../api.js";
import { fill, h, kv, panel, table } from "../dom.js";
import { ago, bytes, int, when } from "../format.js";
import { TX_COLS, accountLink, blockLink, txRow } from "./common.js";

export default async function block(view, [id], ctx) {
  const b = await get(`/blocks/${encodeURIComponent(id ?? "")}`);
  if (!ctx.alive()) return;
  ctx.title(`Block ${b.height}`);
  const confirmations = h("span", { id: "confirmations" });
  const setTip = (height) => {
    confirmations.textContent = b.main_chain ? int(height - b.height + 1) : "not on the main chain";
    // "next" appears once there is a next block.
    view.querySelector("#next-block")?.toggleAttribute("hidden", !(b.main_chain && height > b.height));
  };
  const coinbase = b.txs[0];
  fill(view,
    h("h1", {}, `Block ${int(b.height)}`, h("small", { class: "mono" }, b.hash)),
    h("div", { class: "nav-row" },
      b.height > 0 ? h("a", { class: "button", href: `#/block/${b.height - 1}` }, "← previous") : null,
      h("a", { class: "button", href: `#/block/${b.height + 1}`, id: "next-block", hidden: true }, "next →")),
    h("div", { class: "grid stack" },
      panel("Header", null, kv([
        ["Hash", h("span", { class: "mono", id: "block-hash" }, b.hash)],
        ["Height", int(b.height)],
        ["Confirmations", confirmations],
        ["Time", `${when(b.time)} (${ago(b.time)})`],
        ["Previous", b.height > 0 ? blockLink(b.prev_hash, h("span", { class: "mono" }, b.prev_hash)) : "none (genesis)"],
        ["Merkle root", h("span", { class: "mono" }, b.merkle_root)],
        ["Bits", h("span", { class: "mono" }, b.bits)],
        ["Nonce", int(b.nonce)],
        ["Version", `0x${(b.version >>> 0).toString(16).padStart(8, "0")}`],
        ["Size", bytes(b.size)],
        ["Miner", accountLink(coinbase?.payouts?.[0]?.to, coinbase?.payouts?.[0]?.to)],
      ])),
      panel(`Transactions (${b.txs.length})`, null, table(TX_COLS, b.txs.map((t) => txRow(t))))));
  const status = await get("/status");
  setTip(status.height);
  ctx.on("tip", (t) => setTip(t.height));
}

// One transaction: what it moves, between whom, and where it was mined.

import { get } from "../api.js";
import { fill, h, kv, panel, table } from "../dom.js";
import { aic, int } from "../format.js";
import { accountLink, kindBadge, statusCell } from "./common.js";
import { jobLink } from "./market-common.js";

export default async function tx(view, [txid], ctx) {
  ctx.title("Transaction");
  const draw = (t) => {
    const pairs = [
      ["Txid", h("span", { class: "mono", id: "txid" }, t.txid)],
      ["Kind", kindBadge(t.kind)],
      ["Status", h("span", { id: "tx-status" }, statusCell(t))],
      t.block_hash ? ["Block hash", h("a", { href: `#/block/${t.block_hash}`, class: "mono" }, t.block_hash)] : null,
    ];
    // Transfers and market actions (whose amount is what they moved out of the balance).
    if (t.kind !== "coinbase") {
      pairs.push(
        t.job ? ["Job", jobLink(t.job, t.job)] : null,
        ["From", accountLink(t.from, t.from)],
        t.to ? ["To", accountLink(t.to, t.to)] : null,
        ["Amount", h("span", { id: "tx-amount" }, `${aic(t.amount_units)} AIC`)],
        ["Fee", `${aic(t.fee_units)} AIC`],
        ["Nonce", int(t.nonce)]);
    }
    pairs.push(["Size", `${t.hex.length / 2} bytes`]);
    fill(view,
      h("h1", {}, "Transaction", h("small", { class: "mono" }, t.txid)),
      panel("Details", null, kv(pairs)),
      t.kind === "coinbase"
        ? h("div", { class: "grid" }, panel("Payouts", null, table([["To", ""], ["Amount", "num"]],
            t.payouts.map((p) => [accountLink(p.to, p.to), `${aic(p.amount_units)} AIC`]))))
        : null,
      h("details", { class: "panel card" }, h("summary", {}, "Raw bytes"),
        h("p", { class: "mono" }, h("code", { class: "raw" }, t.hex))));
  };
  let t = await get(`/txs/${encodeURIComponent(txid ?? "")}`);
  if (!ctx.alive()) return;
  draw(t);
  // A pending transaction is looked up again when a block arrives.
  ctx.on("tip", async () => {
    if (t.block_height !== undefined) return;
    const fresh = await get(`/txs/${t.txid}`).catch(() => null);
    if (fresh && ctx.alive() && fresh.block_height !== undefined) { t = fresh; draw(t); }
  });
}

// Search: resolves a height, block hash, txid or address with /api/v1/search and goes there.

import { get } from "../api.js";
import { fill, h } from "../dom.js";

const PAGE_OF = { block: "block", tx: "tx", account: "account" };

export default async function search(view, params, ctx) {
  const q = params.join("/");
  ctx.title("Search");
  try {
    const r = await get(`/search?q=${encodeURIComponent(q)}`);
    if (!ctx.alive()) return;
    location.replace(`#/${PAGE_OF[r.kind]}/${r.id}`);
  } catch (e) {
    if (!ctx.alive()) return;
    fill(view,
      h("h1", {}, "Search", h("small", { class: "mono" }, q)),
      h("div", { class: "error", id: "search-error", role: "alert" },
        h("strong", {}, e.status === 404 ? "Nothing found. " : "Not a search this node understands. "),
        e.message, " ", h("code", {}, e.code),
        h("p", { class: "muted" },
          "Search takes a block height (", h("code", {}, "42"), "), a block hash or txid (64 hex digits), or an address (",
          h("code", {}, "daic1…"), ").")));
  }
}

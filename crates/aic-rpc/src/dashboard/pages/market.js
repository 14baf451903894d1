// The market: open jobs, jobs at work and in verification, finished jobs, and the providers
// with their stakes and reputations. Reloaded with every block (every market change is one).

import { get } from "../api.js";
import { card, fill, h, panel, table } from "../dom.js";
import { aic, int, plural } from "../format.js";
import { accountLink, blockLink } from "./common.js";
import { ACTIVE, FINISHED, byId, devices, jobLink, modelCell, refreshCountdowns, statusBadge, until } from "./market-common.js";

/** Finished jobs shown, newest first. */
const FINISHED_SHOWN = 50;

const OPEN_COLS = [["Job", ""], ["Model", ""], ["Budget", "num"], ["Max price", "num"], ["Bids", "num"],
  ["Bidding ends", ""], ["Consumer", "opt"]];
const AWARDED_COLS = [["Job", ""], ["Model", ""], ["Provider", ""], ["Price", "num"], ["Result due", ""]];
const VERIFYING_COLS = [["Job", ""], ["Model", ""], ["Provider", "opt"], ["Price", "num"], ["Verdicts", ""],
  ["Challenge ends", ""]];
const FINISHED_COLS = [["Job", ""], ["Status", ""], ["Model", ""], ["Price", "num"], ["Refund", "num"], ["Ended", ""]];
const PROVIDER_COLS = [["Provider", ""], ["Stake", "num"], ["Unbonding", "num"], ["Devices", ""], ["Score", "num"],
  ["Done / failed / missed", "num"], ["Active jobs", "num"]];

const units = (n) => `${aic(n)} AIC`;
const sum = (list, f) => list.reduce((s, x) => s + f(x), 0);

function rowOf(cells, attrs) {
  cells.attrs = attrs;
  return cells;
}

function jobRows(jobs, models, tip) {
  const open = [], awarded = [], verifying = [];
  for (const j of jobs) {
    const attrs = { "data-job": j.id };
    if (j.status === "open") {
      open.push(rowOf([jobLink(j.id), modelCell(models, j.model), units(j.budget_units), units(j.max_price_units),
        int(j.bids.length), until(j.window_end_height, tip), accountLink(j.consumer)], attrs));
    } else if (j.status === "awarded") {
      awarded.push(rowOf([jobLink(j.id), modelCell(models, j.model), accountLink(j.award?.provider),
        units(j.award?.price_units), until(j.award?.deadline_height, tip)], attrs));
    } else if (j.status === "verifying") {
      const v = j.verification;
      const said = v.verdicts.filter((x) => x.round === v.round);
      const fails = said.filter((x) => !x.pass).length;
      verifying.push(rowOf([jobLink(j.id), modelCell(models, j.model), accountLink(j.award?.provider),
        units(j.award?.price_units),
        h("span", {}, `${said.length} of ${v.verifiers.length}`, fails ? h("span", { class: "chip" }, `${fails} fail`) : null,
          v.round > 0 ? h("span", { class: "muted" }, " · round 2") : null),
        until(v.challenge_end_height, tip)], attrs));
    }
  }
  return { open, awarded, verifying };
}

function finishedRow(j, models) {
  const refund = sum(j.payments.filter((p) => p.kind === "refund"), (p) => p.amount_units);
  const ended = Math.max(j.posted_height, ...j.payments.map((p) => p.height));
  return rowOf([jobLink(j.id), statusBadge(j.status), modelCell(models, j.model),
    j.award ? units(j.award.price_units) : h("span", { class: "muted" }, "—"), units(refund),
    blockLink(ended, `#${int(ended)}`)], { "data-job": j.id, "data-status": j.status });
}

function providerRow(p) {
  const r = p.reputation;
  return rowOf([accountLink(p.address), units(p.stake_units), units(p.unbonding_units), devices(p), int(r.score),
    `${int(r.completed)} / ${int(r.failed)} / ${int(r.missed)}`, int(p.active_jobs)], { "data-provider": p.address });
}

export default async function market(view, _params, ctx) {
  ctx.title("Market");
  const load = () => Promise.all([
    get("/status"),
    get(`/market/jobs?status=${ACTIVE.join(",")}`),
    get(`/market/jobs?status=${FINISHED.join(",")}&limit=${FINISHED_SHOWN}`),
    get("/market/providers"),
    get("/market/models"),
  ]);
  const first = await load();
  if (!ctx.alive()) return;
  const box = (id) => h("div", { id });
  const count = () => h("span", {});
  const parts = {
    cards: h("div", {}), open: box("open-jobs"), awarded: box("awarded-jobs"), verifying: box("verifying-jobs"),
    finished: box("finished-jobs"), providers: box("providers"),
    nOpen: count(), nAwarded: count(), nVerifying: count(), nFinished: count(), nProviders: count(),
  };
  fill(view,
    h("h1", {}, "Market", h("small", {}, "jobs, bids and providers on chain, live")),
    parts.cards,
    h("div", { class: "grid stack" },
      panel("Open for bids", parts.nOpen, parts.open),
      panel("At work", parts.nAwarded, parts.awarded),
      panel("In verification", parts.nVerifying, parts.verifying),
      panel("Finished", parts.nFinished, parts.finished),
      panel("Providers", parts.nProviders, parts.providers)));
  const draw = ([status, active, finished, providers, modelList]) => {
    const models = byId(modelList);
    const rows = jobRows(active, models, status.height);
    const settled = finished.filter((j) => j.status === "settled").length;
    fill(parts.cards, h("div", { class: "grid cards" },
      card("Open jobs", int(rows.open.length), "taking bids", "open-count"),
      card("At work", int(rows.awarded.length), "awarded, result due"),
      card("Verifying", int(rows.verifying.length), "results being checked"),
      card("Settled", int(settled), finished.length ? `of the latest ${int(finished.length)} finished` : "none finished yet"),
      card("In escrow", aic(sum(active, (j) => j.escrow_units)), "AIC held for active jobs"),
      card("Providers", int(providers.length), `${aic(sum(providers, (p) => p.stake_units))} AIC staked`)));
    const stack = { stack: true };
    fill(parts.open, table(OPEN_COLS, rows.open, ["No job is taking bids. Post one with ", h("code", {}, "aic job post"), "."], stack));
    fill(parts.awarded, table(AWARDED_COLS, rows.awarded, "No job is at work.", stack));
    fill(parts.verifying, table(VERIFYING_COLS, rows.verifying, "No result is being verified.", stack));
    fill(parts.finished, table(FINISHED_COLS, finished.map((j) => finishedRow(j, models)), "No job has finished yet.", stack));
    fill(parts.providers, table(PROVIDER_COLS, providers.map(providerRow),
      ["No provider is registered. Register with ", h("code", {}, "aic provider register"), "."], stack));
    parts.nOpen.textContent = plural(rows.open.length, "job");
    parts.nAwarded.textContent = plural(rows.awarded.length, "job");
    parts.nVerifying.textContent = plural(rows.verifying.length, "job");
    parts.nFinished.textContent = `latest ${int(finished.length)}`;
    parts.nProviders.textContent = `${int(providers.length)} registered`;
    refreshCountdowns(view, status.height);
  };
  draw(first);
  ctx.onBlocks(async () => {
    const fresh = await load();
    if (ctx.alive()) draw(fresh);
  });
}

// One job, shareable as #/job/ID: its spec, escrow and terms, bids, award, result and
// scorecard, the verifiers drawn and their verdicts, and the statement of who was paid what.
// Reloaded with every block, so it follows the job from bidding to settlement.

import { get } from "../api.js";
import { fill, h, kv, panel, table } from "../dom.js";
import { aic, bytes, int, plural } from "../format.js";
import { accountLink, blockLink } from "./common.js";
import { ACTIVE, idText, metricChips, modelLink, paramsText, refreshCountdowns, statusBadge, until } from "./market-common.js";

/** The way a job goes when all is well, and the label of each step. */
const FLOW = [["open", "Bidding"], ["awarded", "Awarded"], ["verifying", "Verifying"], ["settled", "Settled"]];

const PAYMENT = {
  "price": "Price, to the provider",
  "model-royalty": "Model royalty",
  "dataset-royalty": "Dataset royalty",
  "verifier-fee": "Verifier fee",
  "refund": "Refund, to the consumer",
  "slash-to-consumer": "Provider's stake, to the consumer",
  "slash-to-verifier": "Provider's stake, to a verifier",
  "verifier-slash": "Verifier's stake, to whom it wronged",
};

const units = (n) => `${aic(n)} AIC`;
const blocks = (n) => plural(n, "block");
const mono = (text, id) => h("span", { class: "mono", id }, text);

/** The steps the job went through; a job that ended early ends on a step of its own. */
function steps(j) {
  const at = FLOW.findIndex(([s]) => s === j.status);
  const reached = at >= 0 ? at : j.result ? 2 : j.award ? 1 : 0;
  // Settled, or ended early: every step reached is done.
  const over = at < 0 || j.status === "settled";
  const items = FLOW.slice(0, at >= 0 ? FLOW.length : reached + 1).map(([, label], i) =>
    h("li", { class: i < reached || (over && i === reached) ? "done" : i === reached ? "current" : "todo" }, label));
  if (at < 0) items.push(h("li", { class: "ended" }, j.status));
  return h("ol", { class: "steps", "aria-label": "Progress" }, items);
}

function spec(j, model, dataset) {
  return panel("Spec", null, kv([
    ["Kind", j.kind],
    ["Model", h("span", {}, model ? `${model.task} · ` : "", modelLink(j.model))],
    ["Dataset", h("span", {}, dataset ? `${bytes(dataset.bytes)} · ` : "", idText(j.dataset))],
    ["Hyperparameters", paramsText(j.params)],
    ["Devices", `${j.device_class}, at least ${int(j.min_memory_mib)} MiB`],
    ["Service tier", String(j.tier)],
    ["Consumer", accountLink(j.consumer, j.consumer)],
    ["Posted", blockLink(j.posted_height, `#${int(j.posted_height)}`)],
  ]));
}

function terms(j, tip) {
  return panel("Escrow and terms", null, kv([
    ["Budget", units(j.budget_units)],
    ["Escrow held", h("span", { id: "job-escrow" }, units(j.escrow_units))],
    ["Max price", units(j.max_price_units)],
    ["Bid window", j.status === "open" ? h("span", {}, `${blocks(j.bid_blocks)}, ends `, until(j.window_end_height, tip))
      : blocks(j.bid_blocks)],
    ["Result due", `${blocks(j.deadline_blocks)} after the award`],
    ["Verification", `${plural(j.verifiers, "verifier")} replay${j.verifiers === 1 ? "s" : ""} ${plural(j.segments, "segment")} each; challenge window ${blocks(j.challenge_blocks)}`],
    ["Verifier fee", `${units(j.verifier_fee_units)} per verdict that stands`],
    j.reopens ? ["Reopened", `${plural(j.reopens, "time")} after failed results`] : null,
  ]));
}

function bids(j) {
  const cols = [["Provider", ""], ["Price", "num"], ["Block", "num"], ["", ""]];
  const rows = j.bids.map((b) => {
    const won = j.award?.provider === b.provider;
    const r = [accountLink(b.provider), units(b.price_units), blockLink(b.height, `#${int(b.height)}`),
      won ? h("span", { class: "badge ok" }, "awarded") : ""];
    r.attrs = { "data-provider": b.provider };
    return r;
  });
  const note = j.status === "open" ? "No bid yet." : "No bid in the last window.";
  return panel(`Bids (${j.bids.length})`, null, h("div", { id: "job-bids" }, table(cols, rows, note, { stack: true })));
}

function award(j, tip) {
  const a = j.award;
  return panel("Award", null, h("div", { id: "job-award" }, a ? kv([
    ["Provider", accountLink(a.provider, a.provider)],
    ["Price", units(a.price_units)],
    ["Result due", j.status === "awarded" ? until(a.deadline_height, tip) : `#${int(a.deadline_height)}`],
  ]) : h("p", { class: "empty" }, j.status === "open"
    ? ["Not awarded yet: the lowest eligible bid wins when bidding ends at ", until(j.window_end_height, tip), "."]
    : "Never awarded.")));
}

function result(j) {
  const r = j.result;
  return panel("Result", null, h("div", { id: "job-result" }, r ? kv([
    ["Result", mono(r.result, "job-result-id")],
    ["Transcript root", mono(r.transcript_root)],
    ["Segments", int(r.segments)],
    ["Scorecard", h("span", { id: "job-metrics" }, metricChips(r.metrics))],
  ]) : h("p", { class: "empty" }, ACTIVE.includes(j.status) ? "No result yet." : "No result was posted.")));
}

function verification(j, tip) {
  const v = j.verification;
  if (!v) return panel("Verification", null, h("p", { class: "empty", id: "job-verdicts" }, "Verifiers are drawn when a result is posted."));
  const rows = [];
  // Every verifier of the current round, then those of an earlier round who spoke.
  const current = v.verifiers.map((a) => [a, v.verdicts.find((e) => e.verifier === a && e.round === v.round), v.round]);
  const earlier = v.verdicts.filter((e) => e.round !== v.round).map((e) => [e.verifier, e, e.round]);
  for (const [who, e, round] of [...earlier, ...current]) {
    const verdict = !e ? h("span", { class: "badge pending" }, j.status === "verifying" ? "waiting" : "silent")
      : e.pass ? h("span", { class: "badge ok" }, "pass") : h("span", { class: "badge job-failed" }, "fail");
    const r = [accountLink(who), verdict, e ? idText(e.evidence) : h("span", { class: "muted" }, "—"), String(round + 1)];
    r.attrs = { "data-verifier": who };
    rows.push(r);
  }
  return panel("Verification", h("span", {}, `round ${v.round + 1}`), kv([
    ["Segments to replay", v.segments.length ? v.segments.join(", ") : "none"],
    ["Challenge ends", j.status === "verifying" ? until(v.challenge_end_height, tip) : `#${int(v.challenge_end_height)}`],
  ]), h("div", { id: "job-verdicts" }, table([["Verifier", ""], ["Verdict", ""], ["Evidence", "opt2"], ["Round", "num"]],
    rows, "No eligible verifier was drawn; the result settles when the window ends.", { stack: true })));
}

function statement(j) {
  const cols = [["What", ""], ["To", ""], ["From", "opt"], ["Amount", "num"], ["Block", "num"]];
  const rows = j.payments.map((p, i) => {
    const r = [PAYMENT[p.kind] ?? p.kind, accountLink(p.to), p.from ? accountLink(p.from) : h("span", { class: "muted" }, "escrow"),
      units(p.amount_units), blockLink(p.height, `#${int(p.height)}`)];
    r.attrs = { "data-payment": p.kind, "data-index": i };
    return r;
  });
  const fromEscrow = j.payments.filter((p) => !p.from);
  const total = (list) => list.reduce((s, p) => s + p.amount_units, 0);
  const refund = total(fromEscrow.filter((p) => p.kind === "refund"));
  return panel("Settlement statement", h("span", {}, "who was paid what"), h("div", { id: "job-payments" },
    table(cols, rows, `Nothing paid yet: the escrow holds ${units(j.escrow_units)}.`, { stack: true }),
    rows.length ? kv([
      ["Paid from the escrow", units(total(fromEscrow) - refund)],
      ["Refunded", units(refund)],
      ["Left in escrow", units(j.escrow_units)],
    ]) : null));
}

export default async function job(view, [id], ctx) {
  ctx.title("Job");
  const path = `/market/jobs/${encodeURIComponent(id ?? "")}`;
  let [j, status] = await Promise.all([get(path), get("/status")]);
  const [model, dataset] = await Promise.all([
    get(`/market/models/${j.model}`).catch(() => null), get(`/market/datasets/${j.dataset}`).catch(() => null)]);
  if (!ctx.alive()) return;
  let tip = status.height;
  const draw = () => {
    ctx.title(`Job ${j.id.slice(0, 8)} (${j.status})`);
    fill(view,
      h("h1", {}, "Job", statusBadge(j.status, "job-status"), h("small", { class: "mono", id: "job-id" }, j.id)),
      steps(j),
      h("div", { class: "grid two" }, spec(j, model, dataset), terms(j, tip)),
      h("div", { class: "grid two" }, bids(j), award(j, tip)),
      h("div", { class: "grid two" }, result(j), verification(j, tip)),
      h("div", { class: "grid stack" }, statement(j)));
  };
  draw();
  let shown = JSON.stringify(j);
  ctx.onBlocks(async () => {
    const [fresh, s] = await Promise.all([get(path), get("/status")]);
    if (!ctx.alive()) return;
    tip = s.height;
    const text = JSON.stringify(fresh);
    if (text !== shown) {
      j = fresh;
      shown = text;
      draw();
    } else {
      refreshCountdowns(view, tip);
    }
  });
}

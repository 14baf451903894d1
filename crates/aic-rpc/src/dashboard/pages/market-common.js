// Pieces the market, job and models pages share: job statuses, links to jobs and models,
// countdowns in blocks, devices, hyperparameters and scorecards.

import { h } from "../dom.js";
import { fixed, int, short } from "../format.js";

/** Statuses a job still moves on from, and those it ended in. */
export const ACTIVE = ["open", "awarded", "verifying"];
export const FINISHED = ["settled", "failed", "expired", "cancelled", "no-bids"];

export const statusBadge = (status, id) => h("span", { class: `badge job-${status}`, id }, status);
export const jobLink = (id, text) => h("a", { href: `#/job/${id}`, class: "mono" }, text ?? short(id, 8, 6));
export const modelLink = (id, text) => h("a", { href: `#/models/${id}`, class: "mono" }, text ?? short(id, 8, 6));
export const idText = (id) => h("span", { class: "mono", title: id }, short(id, 8, 6));

/** Records by id: {id → record}. */
export const byId = (list) => new Map(list.map((r) => [r.id, r]));

/** A model's task and short id, linked to the models page. */
export function modelCell(models, id) {
  const m = models.get(id);
  return h("span", {}, m ? m.task : h("span", { class: "muted" }, "unknown model"), " ", h("small", {}, modelLink(id)));
}

function countdown(height, tip) {
  const d = height - tip;
  if (d > 1) return `in ${int(d)} blocks`;
  if (d === 1) return "next block";
  return d === 0 ? "this block" : `${int(-d)} blocks ago`;
}

/** A height with how far it is from the tip ("#120, in 3 blocks"), kept current by refreshCountdowns. */
export function until(height, tip) {
  return h("span", {}, `#${int(height)} `, h("span", { class: "muted", "data-until": height }, countdown(height, tip)));
}

/** Updates every countdown under `root` to the tip `tip`. */
export function refreshCountdowns(root, tip) {
  for (const el of root.querySelectorAll("[data-until]")) el.textContent = countdown(Number(el.dataset.until), tip);
}

/** A provider's devices: "cpu ×1 · 4,096 MiB". */
export const devices = (p) => `${p.device_class} ×${p.device_count} · ${int(p.memory_mib)} MiB`;

/** Hyperparameters as "epochs=3, lr=0.01". */
export const paramsText = (params) =>
  params?.length ? params.map((p) => `${p.name}=${fixed(p.value)}`).join(", ") : "defaults";

/** A scorecard as chips. */
export function metricChips(metrics) {
  if (!metrics?.length) return h("span", { class: "muted" }, "no metrics");
  return metrics.map((m) => h("span", { class: "metric" }, m.name, " ", h("b", {}, fixed(m.value))));
}

// Models and datasets: the on-chain registry, and leaderboards from settled jobs' scorecards:
// for each task and dataset, every model once with its best value of a metric, best first.
// #/models/ID marks one model. Reloaded with every block.

import { get } from "../api.js";
import { card, fill, h, panel, table } from "../dom.js";
import { bps, bytes, fixed, int } from "../format.js";
import { accountLink, blockLink } from "./common.js";
import { byId, idText, jobLink, metricChips, modelLink, paramsText } from "./market-common.js";

const BOARD_COLS = [["Rank", "num"], ["Model", ""], ["Value", "num"], ["Other metrics", "opt"], ["Hyperparameters", "wrap opt2"],
  ["Provider", "opt"], ["Job", ""], ["Runs", "num"]];
const MODEL_COLS = [["Model", ""], ["Task", ""], ["Owner", "opt"], ["Royalty", "num"], ["Hyperparameter schema", "wrap"],
  ["Settled jobs", "num"], ["Published", "num"]];
const DATASET_COLS = [["Dataset", ""], ["Task", ""], ["Owner", "opt"], ["Royalty", "num"], ["Size", "num"],
  ["Settled jobs", "num"], ["Published", "num"]];

/** A model's hyperparameter schema: "epochs 1–100 (whole), lr 0.000001–1". */
const schema = (params) => params.length
  ? params.map((p) => `${p.name} ${fixed(p.min)}–${fixed(p.max)}${p.integer ? " (whole)" : ""}`).join(", ")
  : h("span", { class: "muted" }, "none");

function boardRows(board, picked) {
  return board.entries.map((e) => {
    const others = e.metrics.filter((m) => m.name !== board.metric);
    const r = [int(e.rank), modelLink(e.model), h("b", {}, fixed(e.value)), metricChips(others), paramsText(e.params),
      accountLink(e.provider), jobLink(e.job), int(e.runs)];
    r.attrs = { "data-model": e.model, class: e.model === picked ? "picked" : undefined };
    return r;
  });
}

/** One panel per task and dataset, with a tab per metric; `chosen` keeps each panel's metric. */
function leaderboards(boards, datasets, chosen, picked) {
  const groups = new Map();
  for (const b of boards) {
    const key = `${b.task} ${b.dataset}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(b);
  }
  return [...groups].map(([key, list]) => {
    const body = h("div", {});
    const draw = () => {
      const board = list.find((b) => b.metric === chosen.get(key)) ?? list[0];
      fill(body,
        list.length > 1 ? h("div", { class: "tabs", role: "group", "aria-label": "Metric" }, list.map((b) =>
          h("button", { class: "button", type: "button", "aria-pressed": String(b === board),
            onclick: () => { chosen.set(key, b.metric); draw(); } }, b.metric))) : null,
        h("p", { class: "board-note muted" }, `Ranked by ${board.metric}, ${board.higher_is_better ? "higher" : "lower"} is better; `,
          `each model's best of ${int(board.jobs)} settled job${board.jobs === 1 ? "" : "s"} on this dataset.`),
        table(BOARD_COLS, boardRows(board, picked), "No settled job reported this metric.", { stack: true }));
    };
    draw();
    const [first] = list;
    const ds = datasets.get(first.dataset);
    return h("div", { class: "board", "data-task": first.task, "data-dataset": first.dataset },
      panel(first.task, h("span", {}, "dataset ", idText(first.dataset), ds ? ` · ${bytes(ds.bytes)}` : ""), body));
  });
}

export default async function models(view, [picked], ctx) {
  ctx.title("Models");
  const load = () => Promise.all([get("/market/models"), get("/market/datasets"), get("/market/leaderboard?limit=20")]);
  const first = await load();
  if (!ctx.alive()) return;
  const parts = { cards: h("div", {}), boards: h("div", { id: "leaderboards", class: "grid stack" }),
    models: h("div", { id: "models" }), datasets: h("div", { id: "datasets" }) };
  fill(view,
    h("h1", {}, "Models & datasets", h("small", {}, "the on-chain registry, and leaderboards from settled jobs")),
    parts.cards,
    h("h2", { class: "section" }, "Leaderboards"),
    parts.boards,
    h("div", { class: "grid stack" },
      panel("Models", null, parts.models),
      panel("Datasets", null, parts.datasets)));
  const chosen = new Map();
  let scrolled = false;
  const draw = ([modelList, datasetList, { boards }]) => {
    const datasets = byId(datasetList);
    const tasks = new Set([...modelList, ...datasetList].map((x) => x.task));
    fill(parts.cards, h("div", { class: "grid cards" },
      card("Models", int(modelList.length), "published"),
      card("Datasets", int(datasetList.length), "published"),
      card("Tasks", int(tasks.size), ""),
      card("Settled jobs", int(modelList.reduce((s, m) => s + m.jobs, 0)), "scored on chain")));
    fill(parts.boards, boards.length ? leaderboards(boards, datasets, chosen, picked)
      : h("div", { class: "panel" }, h("p", { class: "empty" }, "No settled job has reported a metric yet.")));
    fill(parts.models, table(MODEL_COLS, modelList.map((m) => {
      const r = [idText(m.id), m.task, accountLink(m.owner), bps(m.royalty_bps), schema(m.params), int(m.jobs),
        blockLink(m.published_height, `#${int(m.published_height)}`)];
      r.attrs = { "data-model": m.id, id: `model-${m.id}`, class: m.id === picked ? "picked" : undefined };
      return r;
    }), ["No model is published. Publish one with ", h("code", {}, "aic model publish"), "."], { stack: true }));
    fill(parts.datasets, table(DATASET_COLS, datasetList.map((d) => {
      const r = [idText(d.id), d.task, accountLink(d.owner), bps(d.royalty_bps), bytes(d.bytes), int(d.jobs),
        blockLink(d.published_height, `#${int(d.published_height)}`)];
      r.attrs = { "data-dataset": d.id };
      return r;
    }), ["No dataset is published. Publish one with ", h("code", {}, "aic data publish"), "."], { stack: true }));
    if (picked && !scrolled) {
      scrolled = true;
      view.querySelector(`#model-${CSS.escape(picked)}`)?.scrollIntoView({ block: "center" });
    }
  };
  draw(first);
  ctx.onBlocks(async () => {
    const fresh = await load();
    if (ctx.alive()) draw(fresh);
  }, 2000);
}

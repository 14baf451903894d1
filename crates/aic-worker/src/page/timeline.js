// The switcher's timeline as inline SVG: one lane per holder (mining, AI job, everything
// else), the last WINDOW seconds on a shared time axis, each hand-over marked with its latency.

import { h } from "./dom.js";

/** Seconds shown, ending now. */
export const WINDOW = 120;

const LANES = [
  ["mining", "Mining", (t) => t === "mining"],
  ["ai_job", "AI job", (t) => t === "ai_job"],
  ["other", "Idle / paused", (t) => t === "idle" || t === "paused"],
];
const PAD = { left: 96, right: 14, top: 22, bottom: 22 };
const LANE = 26;
const GAP = 8;

/** Microseconds as "85 µs" / "1.2 ms". */
export function latency(us) {
  return us < 1000 ? `${Math.round(us)} µs` : `${(us / 1000).toFixed(us < 10_000 ? 1 : 0)} ms`;
}

/**
 * The SVG for `switcher` (the `/api/v1/worker/switcher` answer) at `width` pixels: segments
 * are `rect.seg.TASK` (`held` when the holder was not working), hand-overs `line.switch`.
 */
export function timelineSvg(switcher, boxWidth) {
  const width = Math.max(boxWidth, 300);
  const now = switcher.now_s || 0;
  const x0 = Math.max(0, now - WINDOW);
  const span = Math.max(now - x0, 1);
  const iw = width - PAD.left - PAD.right;
  const height = PAD.top + LANES.length * (LANE + GAP) - GAP + PAD.bottom;
  const sx = (t) => PAD.left + ((Math.min(Math.max(t, x0), now) - x0) / span) * iw;
  const svg = h("svg:svg", {
    viewBox: `0 0 ${width} ${height}`, height, role: "img",
    "aria-label": "Who held the device over the last two minutes",
  });
  LANES.forEach(([key, label, match], i) => {
    const y = PAD.top + i * (LANE + GAP);
    svg.append(h("svg:text", { x: 0, y: y + LANE / 2 + 4, class: "lane-label" }, label));
    svg.append(h("svg:rect", { x: PAD.left, y, width: iw, height: LANE, rx: 5, class: "lane", "data-lane": key }));
    for (const s of switcher.timeline || []) {
      if (!match(s.task) || s.end_s <= x0) continue;
      const a = sx(s.start_s), b = sx(s.end_s);
      const title = `${s.task.replace("_", " ")}${s.working ? "" : " (not working)"}: ` +
        `${s.start_s.toFixed(1)}–${s.end_s.toFixed(1)} s (${(s.end_s - s.start_s).toFixed(2)} s)`;
      svg.append(h("svg:rect", {
        x: a, y, width: Math.max(b - a, 1.5), height: LANE, rx: 3,
        class: `seg ${s.task}${s.working ? "" : " held"}`, "data-task": s.task,
      }, h("svg:title", {}, title)));
    }
  });
  const bottom = PAD.top + LANES.length * (LANE + GAP) - GAP;
  let lastLabel = -Infinity;
  for (const w of switcher.switches || []) {
    if (w.at_s < x0) continue;
    const x = sx(w.at_s);
    svg.append(h("svg:line", { x1: x, x2: x, y1: PAD.top - 4, y2: bottom + 2, class: "switch", "data-kind": w.kind },
      h("svg:title", {}, `${w.kind} at ${w.at_s.toFixed(2)} s: ${latency(w.latency_us)}`)));
    if (x - lastLabel > 64) {
      svg.append(h("svg:text", { x, y: PAD.top - 8, "text-anchor": "middle", class: "latency" },
        `${w.kind === "release" ? "↓" : "↑"} ${latency(w.latency_us)}`));
      lastLabel = x;
    }
  }
  const ticks = iw < 360 ? 2 : 4;
  for (let i = 0; i <= ticks; i++) {
    const t = x0 + (span * i) / ticks;
    const ago = Math.round(now - t);
    svg.append(h("svg:text", {
      x: sx(t), y: height - 6, class: "axis", "text-anchor": i === 0 ? "start" : i === ticks ? "end" : "middle",
    }, ago === 0 ? "now" : `−${ago} s`));
  }
  return svg;
}

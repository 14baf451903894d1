// Line charts in inline SVG, sized to their box and redrawn when it changes.

import { h, fill } from "./dom.js";

const HEIGHT = 190;
const PAD = { left: 62, right: 12, top: 26, bottom: 24 };

/**
 * A chart in `box`: `points` are {x, y}; `format(y)` labels values, `cls` picks the colour
 * (series-a, series-b), `label` names the series, `empty` is shown until there are two points.
 * Returns {update(points), dispose()}.
 */
export function lineChart(box, { format, cls, label, xLabel = (x) => String(x), empty = "waiting for blocks…" }) {
  let points = [];
  let width = 0;
  const draw = () => {
    width = box.clientWidth || 600;
    fill(box, render(points, width, { format, cls, label, xLabel, empty }));
  };
  const observer = new ResizeObserver(() => {
    if (box.clientWidth !== width) draw();
  });
  observer.observe(box);
  return {
    update(p) { points = p; draw(); },
    dispose() { observer.disconnect(); },
  };
}

function render(points, width, { format, cls, label, xLabel, empty }) {
  const svg = h("svg:svg", {
    viewBox: `0 0 ${width} ${HEIGHT}`, class: cls, role: "img", "aria-label": label,
  });
  if (points.length < 2) {
    svg.append(h("svg:text", { x: width / 2, y: HEIGHT / 2, "text-anchor": "middle", class: "axis" },
      empty));
    return svg;
  }
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  let y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (y0 === y1) { y0 = y0 * 0.9; y1 = y1 * 1.1 || 1; }
  y0 = Math.max(0, y0 - (y1 - y0) * 0.08);
  const iw = width - PAD.left - PAD.right, ih = HEIGHT - PAD.top - PAD.bottom;
  const sx = (x) => PAD.left + ((x - x0) / (x1 - x0 || 1)) * iw;
  const sy = (y) => PAD.top + ih - ((y - y0) / (y1 - y0)) * ih;
  const id = "g" + Math.random().toString(36).slice(2, 8);
  svg.append(h("svg:defs", {}, h("svg:linearGradient", { id, x1: 0, y1: 0, x2: 0, y2: 1 },
    h("svg:stop", { offset: "0", "stop-color": "currentColor", "stop-opacity": "0.28" }),
    h("svg:stop", { offset: "1", "stop-color": "currentColor", "stop-opacity": "0" }))));
  for (let i = 0; i <= 3; i++) {
    const v = y0 + ((y1 - y0) * i) / 3;
    const y = sy(v);
    svg.append(h("svg:line", { x1: PAD.left, x2: width - PAD.right, y1: y, y2: y, class: "grid-line" }));
    svg.append(h("svg:text", { x: PAD.left - 8, y: y + 4, "text-anchor": "end", class: "axis" }, format(v)));
  }
  svg.append(h("svg:text", { x: PAD.left, y: HEIGHT - 6, class: "axis" }, xLabel(x0)));
  svg.append(h("svg:text", { x: width - PAD.right, y: HEIGHT - 6, "text-anchor": "end", class: "axis" }, xLabel(x1)));
  const d = points.map((p, i) => `${i ? "L" : "M"}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join("");
  const base = PAD.top + ih;
  svg.append(h("svg:path", {
    d: `${d}L${sx(x1).toFixed(1)},${base}L${sx(x0).toFixed(1)},${base}Z`, fill: `url(#${id})`, stroke: "none",
  }));
  svg.append(h("svg:path", { d, class: "line" }));
  const last = points[points.length - 1];
  const now = h("svg:text", { x: width - PAD.right, y: 14, "text-anchor": "end", class: "now", fill: "currentColor" },
    `${label}: ${format(last.y)}`);
  svg.append(now);
  const cursor = h("svg:line", { y1: PAD.top, y2: base, class: "cursor", visibility: "hidden" });
  const dot = h("svg:circle", { r: 4, fill: "currentColor", visibility: "hidden" });
  svg.append(cursor, dot);
  svg.addEventListener("pointermove", (e) => {
    const rect = svg.getBoundingClientRect();
    const px = ((e.clientX - rect.left) / rect.width) * width;
    let best = points[0];
    for (const p of points) if (Math.abs(sx(p.x) - px) < Math.abs(sx(best.x) - px)) best = p;
    const cx = sx(best.x), cy = sy(best.y);
    cursor.setAttribute("x1", cx); cursor.setAttribute("x2", cx); cursor.setAttribute("visibility", "visible");
    dot.setAttribute("cx", cx); dot.setAttribute("cy", cy); dot.setAttribute("visibility", "visible");
    now.textContent = `${xLabel(best.x)}: ${format(best.y)}`;
  });
  svg.addEventListener("pointerleave", () => {
    cursor.setAttribute("visibility", "hidden");
    dot.setAttribute("visibility", "hidden");
    now.textContent = `${label}: ${format(last.y)}`;
  });
  return svg;
}

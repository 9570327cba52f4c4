// Bar charts drawn as SVG. Every chart is a <figure> holding the SVG, with labelled axes, and a
// table of the same numbers. Why SVG and no chart library:
// docs/decisions/0014-dashboard-without-build-step-or-chart-library.md.
import { el, table, text } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 260;
const MARGIN = { top: 12, right: 12, bottom: 56, left: 64 };

function svg(tag, attrs, content) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  if (content !== undefined) node.textContent = String(content);
  return node;
}

function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((s) => s * power >= value);
  return step * power;
}

// labels: strings under the bars; values: numbers (null is drawn as 0 and listed as "—").
export function barChart({ title, xLabel, yLabel, labels, values, name }) {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const top = niceMax(Math.max(0, ...values.map((v) => Number(v) || 0)));
  const chart = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", class: "chart", "aria-label": title });
  chart.append(svg("title", {}, title));
  const y = (v) => MARGIN.top + plotHeight - (plotHeight * v) / top;
  for (const tick of [0, top / 2, top]) {
    chart.append(svg("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(tick), y2: y(tick), class: "grid" }));
    chart.append(svg("text", { x: MARGIN.left - 6, y: y(tick) + 4, "text-anchor": "end", class: "tick" }, text(tick)));
  }
  const slot = plotWidth / Math.max(1, values.length);
  // As many x labels as fit side by side (about 7 px per character, at most 14 characters).
  const longest = Math.max(1, ...labels.map((label) => Math.min(14, String(label).length)));
  const every = Math.ceil(values.length / Math.max(1, Math.floor(plotWidth / (longest * 7 + 12))));
  values.forEach((raw, i) => {
    const value = Number(raw) || 0;
    const x = MARGIN.left + i * slot + slot * 0.1;
    const bar = svg("rect", { x, y: y(value), width: Math.max(1, slot * 0.8), height: Math.max(0, y(0) - y(value)), class: "bar", "data-label": labels[i], "data-value": value });
    bar.append(svg("title", {}, `${labels[i]}: ${text(raw)}`));
    chart.append(bar);
    if (i % every === 0) {
      const label = String(labels[i]);
      chart.append(svg("text", { x: x + slot * 0.4, y: HEIGHT - MARGIN.bottom + 16, "text-anchor": "middle", class: "tick" }, label.length > 14 ? `${label.slice(0, 13)}…` : label));
    }
  });
  chart.append(svg("line", { x1: MARGIN.left, x2: MARGIN.left, y1: MARGIN.top, y2: y(0), class: "axis" }));
  chart.append(svg("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(0), y2: y(0), class: "axis" }));
  chart.append(svg("text", { x: MARGIN.left + plotWidth / 2, y: HEIGHT - 8, "text-anchor": "middle", class: "axis-label" }, xLabel));
  chart.append(svg("text", { x: 14, y: MARGIN.top + plotHeight / 2, "text-anchor": "middle", class: "axis-label", transform: `rotate(-90 14 ${MARGIN.top + plotHeight / 2})` }, yLabel));
  const numbers = table([xLabel, yLabel], labels.map((label, i) => [label, values[i]]));
  numbers.classList.add("chart-table");
  return el("figure", { class: "chart-figure", dataset: { chart: name || title } },
    el("figcaption", {}, title), chart,
    el("details", {}, el("summary", {}, "Numbers"), numbers));
}

// Drawing one event's metadata report (GET /analytics/events/{eventId}/metadata): the totals,
// every field with its type and figures, the daily trend and the segments.
import { barChart } from "./charts.js";
import { el, table, text } from "./dom.js";

const NUMERIC_FIGURES = ["count", "missing", "min", "max", "mean", "std", "p50", "p90", "p99"];

function figures(report, names) {
  return el("dl", { class: "figures" }, names.filter((n) => n in report).map((n) =>
    el("div", { dataset: { figure: n } }, el("dt", {}, n), el("dd", {}, text(report[n])))));
}

function histogramLabel(edges, i) {
  return `${text(edges[i])}–${text(edges[i + 1])}`;
}

function part(name, kind, report) {
  if (kind === "numeric") {
    const hist = report.histogram || { edges: [], counts: [] };
    return [figures(report, NUMERIC_FIGURES),
      hist.counts.length ? barChart({ title: `${name}: histogram`, name: `histogram:${name}`, xLabel: name, yLabel: "events",
        labels: hist.counts.map((_, i) => histogramLabel(hist.edges, i)), values: hist.counts }) : null];
  }
  if (kind === "categorical") {
    const top = report.top || [];
    return [figures(report, ["count", "missing", "distinct", "otherCount"]),
      top.length ? barChart({ title: `${name}: top values`, name: `top:${name}`, xLabel: name, yLabel: "events",
        labels: top.map((t) => text(t.value)), values: top.map((t) => t.count) }) : null];
  }
  if (kind === "boolean") {
    return [figures(report, ["count", "missing", "trueCount", "falseCount"]),
      barChart({ title: `${name}: true / false`, name: `boolean:${name}`, xLabel: name, yLabel: "events",
        labels: ["true", "false"], values: [report.trueCount, report.falseCount] })];
  }
  return figures(report, ["count", "missing"]);
}

function fieldSection(name, report) {
  const kinds = report.type === "mixed" ? ["numeric", "categorical", "boolean"].filter((k) => report[k]) : [report.type];
  return el("section", { class: "card field-report", dataset: { field: name, type: report.type } },
    el("h3", {}, el("code", {}, name), " ", el("span", { class: "badge" }, report.type)),
    report.types ? el("p", { class: "hint" }, "Values seen: ", Object.entries(report.types).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(", ")) : null,
    kinds.map((kind) => (report.type === "mixed"
      ? el("div", { class: "mixed-part" }, el("h4", {}, kind), part(name, kind, report[kind]))
      : part(name, kind, report))));
}

function segments(report) {
  const seg = report.segments || {};
  if (!seg.field || !(seg.values || []).length) return el("p", { class: "hint" }, "No categorical field to segment by yet.");
  const numeric = [...new Set(seg.values.flatMap((v) => Object.keys(v.fields || {})))];
  return table([seg.field, "events", ...numeric.map((n) => `${n} (mean)`)],
    seg.values.map((v) => [v.value, v.count, ...numeric.map((n) => (v.fields && v.fields[n] ? v.fields[n].mean : null))]),
    `Segments by ${seg.field}`);
}

export function metadataReport(report) {
  const trend = report.trend || [];
  const names = Object.keys(report.fields || {});
  return el("div", { class: "report", dataset: { window: report.window } },
    el("p", { class: "hint" }, `From ${report.from || "—"} to ${report.to || "—"} (UTC days).`),
    figures(report, ["count", "uniqueUsers", "pointsAwarded", "totalPointsAwarded"]),
    trend.length ? barChart({ title: "Daily trend", name: "trend", xLabel: "day (UTC)", yLabel: "events",
      labels: trend.map((d) => d.day), values: trend.map((d) => d.count) }) : null,
    el("h2", {}, "Metadata fields"),
    report.fieldsTruncated ? el("p", { class: "hint" }, "Some days held more than 20 fields; the rarest were dropped.") : null,
    names.length ? table(["field", "type", "count", "missing"], names.map((n) => [n, report.fields[n].type, report.fields[n].count, report.fields[n].missing]), "Fields and their types")
      : el("p", { class: "hint" }, "These events carry no metadata."),
    names.map((n) => fieldSection(n, report.fields[n])),
    el("h2", {}, "Segments"), segments(report));
}

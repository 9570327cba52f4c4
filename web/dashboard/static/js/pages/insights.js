// /dashboard/insights: a breakdown of one event by a metadata field, a funnel's steps and
// segments, and retention cohorts (docs/insights.md). Each form calls its endpoint with the
// signed-in token; every chart is followed by a table of the same numbers.
import { allows, get, path } from "../api.js";
import { barChart } from "../charts.js";
import { el, field, load, onSubmit, replace, table, text } from "../dom.js";

const WINDOWS = ["7d", "30d", "all"];

// The query string of the non-empty values (an empty input leaves the API's default).
function query(params) {
  const kept = Object.entries(params).filter(([, value]) => value !== undefined && String(value).trim() !== "");
  return new URLSearchParams(kept.map(([name, value]) => [name, String(value).trim()])).toString();
}

// A metadata value as a label: strings as they are, other JSON types as JSON, null (events
// without the field) spelled out.
function valueLabel(value) {
  if (value === null || value === undefined) return "(no value)";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function percent(ratio) {
  return ratio === null || ratio === undefined ? "—" : `${(ratio * 100).toFixed(1)} %`;
}

function input(name, attrs = {}) {
  return el("input", { name, autocomplete: "off", ...attrs });
}

function approximateNote(report) {
  return report.approximate && report.approximate.length
    ? el("p", { class: "hint approximate" }, `Approximate: ${report.approximate.join(", ")}.`) : null;
}

// The inputs a report cannot run without: an empty one is named in the result box instead of
// sending a request to a path without its id.
function missing(result, inputs) {
  const empty = inputs.filter(([, node]) => !node.value.trim()).map(([label]) => label);
  if (empty.length) replace(result, el("div", { class: "error", role: "alert" }, el("strong", {}, "Missing:"), " ", empty.join(", ")));
  return empty.length > 0;
}

function section(id, title, form, result) {
  return el("section", { class: "card insight", id, "aria-labelledby": `${id}-title` },
    el("h2", { id: `${id}-title` }, title), form, result);
}

// Breakdown: GET /analytics/events/{eventId}/breakdown.
function breakdownReport(report) {
  const labels = report.items.map((item) => valueLabel(item.value));
  const statsHeaders = report.field ? ["count", "mean", "min", "max", "p50", "p90"].map((n) => `${report.field} ${n}`) : [];
  return el("div", { class: "report", dataset: { report: "breakdown" } },
    el("p", { class: "hint" }, `${report.eventId} by ${report.by}, from ${report.from} to ${report.to} (UTC days, window ${report.window}).`),
    approximateNote(report),
    report.items.length ? barChart({ title: `${report.eventId} events by ${report.by}`, name: "breakdown", xLabel: report.by, yLabel: "events",
      labels, values: report.items.map((item) => item.count) }) : null,
    el("div", { class: "table-scroll" }, table([report.by, "events", "users", ...statsHeaders], report.items.map((item, i) => [labels[i], item.count, item.uniqueUsers,
      ...(report.field ? ["count", "mean", "min", "max", "p50", "p90"].map((n) => (item.stats ? item.stats[n] : null)) : [])]),
    "Breakdown")),
    el("p", { class: "hint", dataset: { figure: "otherCount" } }, `Events with other values: ${text(report.otherCount)}.`));
}

function breakdown() {
  const eventId = input("eventId", { required: true, placeholder: "purchase_completed" });
  const by = input("by", { required: true, placeholder: "platform" });
  const numeric = input("field", { placeholder: "orderValue" });
  const span = el("select", { name: "window" }, WINDOWS.map((w) => el("option", { value: w }, w)));
  span.value = "30d";
  const result = el("div", { id: "breakdown-result" });
  const form = el("form", { class: "inline-form", id: "breakdown-form", novalidate: true },
    field("Event", eventId), field("By field", by), field("Numeric field (optional)", numeric), field("Window", span),
    el("button", { type: "submit" }, "Break down"));
  onSubmit(form, () => missing(result, [["event", eventId], ["by field", by]]) || load(result, get(`${path`/analytics/events/${eventId.value.trim()}/breakdown`}?${query({ by: by.value, field: numeric.value, window: span.value })}`), breakdownReport));
  return section("breakdown", "Breakdown", form, result);
}

// Funnel: GET /analytics/funnels/{funnelId}.
function funnelReport(report) {
  const labels = report.steps.map((step, i) => `${i + 1}. ${step.eventId}`);
  const segments = report.segments || [];
  return el("div", { class: "report", dataset: { report: "funnel" } },
    el("p", { class: "hint" }, `${report.funnelId}: users entering from ${report.from} to ${report.to} (UTC days).`),
    barChart({ title: `${report.funnelId}: users per step`, name: "funnel", xLabel: "step", yLabel: "users", labels, values: report.steps.map((s) => s.users) }),
    table(["step", "users", "conversion", "from previous step", "median seconds from previous"], report.steps.map((step, i) => [
      labels[i], step.users, percent(step.conversion), percent(step.stepConversion), step.medianSecondsFromPrevious]), "Conversion"),
    segments.length ? table(["value", ...labels], segments.map((segment) => [valueLabel(segment.value), ...segment.steps.map((s) => s.users)]),
      "Segments (users per step)") : null);
}

function funnelPicker() {
  if (!allows("admin")) return { node: input("funnelId", { required: true, placeholder: "onboarding" }), ready: null };
  // An admin token may list the definitions; a reports:read token types the id.
  const picker = el("select", { name: "funnelId", required: true }, el("option", { value: "" }, "Loading…"));
  const ready = get("/admin/funnels").then((data) => {
    const active = data.items.filter((f) => f.active !== false);
    replace(picker, active.length ? active.map((f) => el("option", { value: f.funnelId }, f.name ? `${f.funnelId} · ${f.name}` : f.funnelId))
      : el("option", { value: "" }, "No funnels defined"));
  }).catch((error) => replace(picker, el("option", { value: "" }, `Could not list funnels: ${error.message}`)));
  return { node: picker, ready };
}

function funnel() {
  const picker = funnelPicker();
  const first = input("from", { type: "date" });
  const last = input("to", { type: "date" });
  const by = input("by", { placeholder: "platform" });
  const result = el("div", { id: "funnel-result" });
  const form = el("form", { class: "inline-form", id: "funnel-form", novalidate: true, dataset: { ready: picker.ready ? "false" : "true" } },
    field("Funnel", picker.node), field("From", first), field("To", last), field("Segment by (optional)", by),
    el("button", { type: "submit" }, "Show funnel"));
  if (picker.ready) picker.ready.then(() => { form.dataset.ready = "true"; });
  onSubmit(form, () => missing(result, [["funnel", picker.node]]) || load(result, get(`${path`/analytics/funnels/${picker.node.value.trim()}`}?${query({ from: first.value, to: last.value, by: by.value })}`), funnelReport));
  return section("funnel", "Funnel", form, result);
}

// Retention: GET /analytics/retention. Cells are shaded in five steps of the cohort's share.
function retainedCell(count, users) {
  if (count === null || count === undefined) return el("span", { class: "heat pending", dataset: { value: "" } }, "—");
  const share = users ? count / users : 0;
  return el("span", { class: `heat heat-${Math.min(4, Math.floor(share * 5))}`, title: percent(share), dataset: { value: String(count) } },
    text(count), el("small", {}, ` ${Math.round(share * 100)}%`));
}

function cohortTable(report, pick, caption) {
  const periods = Math.max(0, ...report.cohorts.map((c) => c.retained.length));
  const rows = report.cohorts.filter((c) => pick(c)).map((c) => {
    const part = pick(c);
    return [c.start, part.users, ...Array.from({ length: periods }, (_, k) => retainedCell(part.retained[k], part.users))];
  });
  return table(["cohort", "users", ...Array.from({ length: periods }, (_, k) => `${report.period} ${k}`)], rows, caption);
}

function retentionReport(report) {
  const split = report.cohorts.some((c) => c.with);
  return el("div", { class: "report", dataset: { report: "retention" } },
    el("p", { class: "hint" }, `Cohorts by the ${report.period} of the first event, from ${report.from} to ${report.to} (UTC).`),
    approximateNote(report),
    el("div", { class: "table-scroll" }, cohortTable(report, (c) => c, "Retention")),
    split ? el("div", { class: "table-scroll" }, cohortTable(report, (c) => c.with, "Did the split event in their first period")) : null,
    split ? el("div", { class: "table-scroll" }, cohortTable(report, (c) => c.without, "Did not")) : null);
}

function retention() {
  const period = el("select", { name: "period" }, ["day", "week"].map((p) => el("option", { value: p }, p)));
  const first = input("from", { type: "date" });
  const last = input("to", { type: "date" });
  const periods = input("periods", { type: "number", min: 1, max: 52, value: 8 });
  const cohortEvent = input("cohortEvent", { placeholder: "any event" });
  const returnEvent = input("returnEvent", { placeholder: "any event" });
  const split = input("split", { placeholder: "optional eventId" });
  const result = el("div", { id: "retention-result" });
  const form = el("form", { class: "inline-form", id: "retention-form", novalidate: true },
    field("Period", period), field("From", first), field("To", last), field("Periods", periods),
    field("Cohort event", cohortEvent), field("Return event", returnEvent), field("Split by event", split),
    el("button", { type: "submit" }, "Show retention"));
  onSubmit(form, () => load(result, get(`/analytics/retention?${query({ period: period.value, from: first.value, to: last.value, periods: periods.value,
    cohortEvent: cohortEvent.value, returnEvent: returnEvent.value, split: split.value })}`), retentionReport));
  return section("retention", "Retention", form, result);
}

export function init(app) {
  if (!allows("reports:read")) {
    replace(app, el("p", {}, "This token may not read reports. Use the navigation above."));
    return;
  }
  replace(app,
    el("p", { class: "hint" }, "Breakdowns and retention come from the last report run (every few minutes); funnels read the events themselves."),
    breakdown(), funnel(), retention());
}

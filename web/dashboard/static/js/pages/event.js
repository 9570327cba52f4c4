// /dashboard/events/{eventId}: the event's analytics (window switch, fields, trend, segments),
// the project's exports, and its definition's form with deactivation.
import { allows, api, download, get, path } from "../api.js";
import { metadataReport } from "../analytics.js";
import { eventForm } from "../eventform.js";
import { el, errorBox, load, replace, table, when } from "../dom.js";

const WINDOWS = ["7d", "30d", "all"];

function analytics(eventId) {
  const report = el("div", { id: "report" });
  let current = new URLSearchParams(location.search).get("window");
  if (!WINDOWS.includes(current)) current = "30d";
  const buttons = WINDOWS.map((w) => el("button", { type: "button", class: "toggle", "aria-pressed": String(w === current), dataset: { window: w } }, w));
  const show = (w) => {
    current = w;
    buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.window === w)));
    history.replaceState(null, "", `${location.pathname}?window=${w}`);
    load(report, get(`${path`/analytics/events/${eventId}/metadata`}?window=${w}`), metadataReport);
  };
  buttons.forEach((b) => b.addEventListener("click", () => show(b.dataset.window)));
  const section = el("section", { "aria-labelledby": "analytics-title" },
    el("div", { class: "section-head" }, el("h2", { id: "analytics-title" }, "Analytics"),
      el("div", { class: "toggles", role: "group", "aria-label": "Window" }, buttons)),
    report);
  show(current);
  return section;
}

function exportsSection() {
  const list = el("div", { id: "exports" });
  const status = el("div", { "aria-live": "polite" });
  load(list, get("/analytics/exports"), (data) => table(["file", "size (bytes)", "created", ""], data.items.map((item) =>
    [item.name, item.size, when(item.createdAt), el("button", { type: "button", class: "secondary", on: { click: () =>
      download(path`/analytics/exports/${item.name}`, item.name).catch((error) => replace(status, errorBox(error))) } }, "Download")])));
  return el("section", { "aria-labelledby": "exports-title" }, el("h2", { id: "exports-title" }, "Exports"), status, list);
}

function definition(eventId) {
  const holder = el("div", { id: "definition" });
  load(holder, get(path`/admin/events/${eventId}`), (d) => {
    const deactivate = el("button", { type: "button", class: "danger", disabled: !d.active }, d.active ? "Deactivate" : "Inactive");
    const status = el("div", { "aria-live": "polite" });
    deactivate.addEventListener("click", async () => {
      if (!window.confirm(`Deactivate ${eventId}? New events with this id will be refused (404).`)) return;
      try {
        await api("DELETE", path`/admin/events/${eventId}`);
        location.reload();
      } catch (error) {
        replace(status, errorBox(error));
      }
    });
    return [eventForm(d), el("div", { class: "card" }, status, deactivate)];
  });
  return el("section", {}, holder);
}

export function init(app, data) {
  const eventId = data.eventid;
  const parts = [];
  if (allows("reports:read")) parts.push(analytics(eventId), exportsSection());
  if (allows("admin")) parts.push(definition(eventId));
  replace(app, parts.length ? parts : el("p", {}, "This token may neither read analytics nor edit definitions."));
}

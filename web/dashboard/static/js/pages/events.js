// /dashboard/events: the event definitions (admin) with their last 30 days, and the form for
// a new one; a reports:read token sees the events' totals only.
import { allows, get } from "../api.js";
import { eventForm } from "../eventform.js";
import { el, load, replace, table, text } from "../dom.js";

function link(eventId) {
  return el("a", { href: `/dashboard/events/${encodeURIComponent(eventId)}` }, eventId);
}

function pointsSummary(points) {
  const parts = [];
  if (points && points.fixed) parts.push(`${points.fixed} fixed`);
  if (points && points.perUnit) parts.push(`${text(points.perUnit.rate)} per ${points.perUnit.field}`);
  return parts.join(" + ") || "0";
}

async function definitions() {
  const [defs, totals] = await Promise.all([
    get("/admin/events"),
    allows("reports:read") ? get("/analytics/events").catch(() => ({ items: [] })) : { items: [] },
  ]);
  const counts = Object.fromEntries(totals.items.map((t) => [t.eventId, t.count]));
  return table(["event", "name", "active", "points", "conditions", "events (30 days)"], defs.items.map((d) => [
    link(d.eventId), d.name, d.active ? "yes" : "no", pointsSummary(d.points), d.conditions ? "yes" : "—", counts[d.eventId] ?? 0]),
  "Event definitions");
}

export function init(app) {
  const list = el("div", { id: "event-list" });
  if (allows("admin")) {
    load(list, definitions(), (node) => node);
    const form = eventForm(null, { onSaved: (saved) => load(list, definitions(), (node) => node).then(() => {
      form.querySelector(".form-status").append(el("p", {}, "Open ", link(saved.eventId)));
    }) });
    replace(app, el("section", {}, list), el("section", {}, form));
  } else {
    load(list, get("/analytics/events"), (data) => table(["event", "events", "users", "points"],
      data.items.map((t) => [link(t.eventId), t.count, t.uniqueUsers, t.pointsAwarded]), `Events from ${data.from} to ${data.to}`));
    replace(app, list);
  }
}

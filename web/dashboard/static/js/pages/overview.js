// /dashboard/: events per day, top events, points awarded, active users, users per level.
// Event figures come from the last report run; user figures are live.
import { allows, api, get } from "../api.js";
import { barChart } from "../charts.js";
import { el, errorBox, load, replace, table, text } from "../dom.js";

const DAYS = 14;

// The days end at the server's today (the `to` of its default range), not the browser's: the
// two clocks need not agree.
function utcDays(last, count) {
  const [year, month, day] = last.split("-").map(Number);
  return Array.from({ length: count }, (_, i) => new Date(Date.UTC(year, month - 1, day - (count - 1 - i))).toISOString().slice(0, 10));
}

const sum = (items, key) => items.reduce((total, item) => total + (item[key] || 0), 0);

async function perDay(recent) {
  const days = utcDays((await recent).to, DAYS);
  const totals = await Promise.all(days.map((day) => get(`/analytics/events?from=${day}&to=${day}`)));
  return { days, counts: totals.map((t) => sum(t.items, "count")), points: totals.map((t) => sum(t.items, "totalPointsAwarded")) };
}

function figure(name, value) {
  return el("div", { dataset: { figure: name } }, el("dt", {}, name), el("dd", {}, text(value)));
}

export function init(app) {
  if (!allows("reports:read")) {
    replace(app, el("p", {}, "This token may not read reports. Use the navigation above."));
    return;
  }
  const users = el("div", { id: "users-figures" });
  const daily = el("div", { id: "daily" });
  const top = el("div", { id: "top-events" });
  const levels = el("div", { id: "levels-chart" });
  const status = el("div", { "aria-live": "polite" });
  const refresh = allows("admin") ? el("button", { type: "button", class: "secondary", on: { click: async () => {
    try {
      await api("POST", "/analytics/reports/run");
      replace(status, el("p", { class: "ok", role: "status" }, "Report run queued; reload in a moment."));
    } catch (error) {
      replace(status, errorBox(error));
    }
  } } }, "Refresh reports now") : null;
  replace(app,
    el("div", { class: "section-head" }, el("p", { class: "hint" }, "Event figures come from the last report run (every few minutes); user figures are live."), refresh),
    status,
    el("section", { "aria-labelledby": "users-title" }, el("h2", { id: "users-title" }, "Users"), users),
    el("section", { "aria-labelledby": "daily-title" }, el("h2", { id: "daily-title" }, `Events per day (last ${DAYS} days, UTC)`), daily),
    el("section", { "aria-labelledby": "top-title" }, el("h2", { id: "top-title" }, "Top events and points (last 30 days)"), top),
    el("section", { "aria-labelledby": "levels-title" }, el("h2", { id: "levels-title" }, "Users per level"), levels));

  const population = get("/analytics/users");
  load(users, population, (p) => el("dl", { class: "figures" }, figure("users", p.users), figure("active 7 days", p.active["7d"]), figure("active 30 days", p.active["30d"])));
  load(levels, population, (p) => barChart({ title: "Users per level", name: "levels", xLabel: "level", yLabel: "users",
    labels: p.levels.map((l) => (l.name ? `${l.level} · ${l.name}` : String(l.level))), values: p.levels.map((l) => l.users) }));
  const recent = get("/analytics/events");
  load(daily, perDay(recent), (d) => el("div", { class: "charts" },
    barChart({ title: "Events per day", name: "events-per-day", xLabel: "day (UTC)", yLabel: "events", labels: d.days, values: d.counts }),
    barChart({ title: "Points awarded per day", name: "points-per-day", xLabel: "day (UTC)", yLabel: "points", labels: d.days, values: d.points })));
  load(top, recent, (data) => {
    const items = [...data.items].sort((a, b) => b.count - a.count || a.eventId.localeCompare(b.eventId));
    return [
      el("dl", { class: "figures" }, figure("events", sum(items, "count")), figure("points awarded", sum(items, "totalPointsAwarded"))),
      items.length ? barChart({ title: "Top events", name: "top-events", xLabel: "event", yLabel: "events", labels: items.slice(0, 10).map((i) => i.eventId), values: items.slice(0, 10).map((i) => i.count) }) : null,
      table(["event", "events", "users", "points (rule)", "points (all)"], items.map((i) => [
        el("a", { href: `/dashboard/events/${encodeURIComponent(i.eventId)}` }, i.eventId), i.count, i.uniqueUsers, i.pointsAwarded, i.totalPointsAwarded]),
      `From ${data.from} to ${data.to}`),
    ];
  });
}

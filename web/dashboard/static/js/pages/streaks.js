// /dashboard/streaks: streak definitions with milestones and freezes.
import { api, path } from "../api.js";
import { conditionBuilder } from "../conditions.js";
import { definitionPage } from "../definitions.js";
import { el, onSubmit, saved, text } from "../dom.js";
import { checkbox, field, input, listOf, numberInput, numberOf, optional, rows, select } from "../forms.js";

function streakForm(d, done) {
  const existing = Boolean(d);
  d = d || { active: true, period: "day", timezone: "UTC", milestones: [] };
  const id = input("streakId", d.streakId, { required: true, readonly: existing || null });
  const name = input("name", d.name);
  const active = checkbox("active", d.active !== false);
  const events = input("events", (d.events || []).join(", "), { placeholder: "daily_login, …" });
  const period = select("period", ["day", "week", "month"], d.period);
  const timezone = input("timezone", d.timezone, { placeholder: "UTC" });
  const conditions = conditionBuilder(d.conditions || null);
  const milestones = rows("Milestones", d.milestones, (m) => {
    const count = el("input", { type: "number", "aria-label": "At count", value: m ? m.count : "" });
    const points = el("input", { type: "number", "aria-label": "Points", value: m ? m.points : "" });
    const badge = el("input", { "aria-label": "Badge (optional)", placeholder: "badge", value: m && m.badge ? m.badge : "" });
    return { node: el("div", { class: "pair" }, count, points, badge), read: (i) => {
      count.dataset.path = `milestones[${i}].count`;
      points.dataset.path = `milestones[${i}].points`;
      badge.dataset.path = `milestones[${i}].badge`;
      const m2 = { count: numberOf(count), points: numberOf(points) ?? 0 };
      if (badge.value.trim()) m2.badge = badge.value.trim();
      return m2;
    } };
  }, "Add milestone");
  const f = d.freezes || {};
  const initial = numberInput("freezes.initial", f.initial ?? 0, { step: "1" });
  const max = numberInput("freezes.max", f.max ?? 0, { step: "1" });
  const earnEvery = numberInput("freezes.earnEvery", f.earnEvery, { step: "1" });
  const freezes = optional("Freezes (cover missed periods)", d.freezes, [field("Held at start", initial), field("At most", max), field("Earn one every N periods", earnEvery)]);
  const form = el("form", { class: "card", id: "streak-form", novalidate: true }, el("h2", {}, existing ? `Edit ${d.streakId}` : "New streak"),
    el("div", { class: "grid" }, field("Streak id", id), field("Name", name), field("Counting events (comma separated)", events),
      field("Period", period), field("Timezone (IANA)", timezone), el("label", { class: "inline" }, active, " Active")),
    el("h3", {}, "Conditions"), conditions.node, milestones.node, freezes.node,
    el("div", { class: "form-status", "aria-live": "polite" }), el("button", { type: "submit" }, "Save"));
  onSubmit(form, async () => {
    const body = { name: name.value, active: active.checked, events: listOf(events), period: period.value, timezone: timezone.value.trim() || "UTC", milestones: milestones.read() };
    const tree = conditions.read();
    if (tree) body.conditions = tree;
    if (freezes.on()) {
      body.freezes = { initial: numberOf(initial) ?? 0, max: numberOf(max) ?? 0 };
      if (numberOf(earnEvery) !== undefined) body.freezes.earnEvery = numberOf(earnEvery);
    }
    const result = await api("PUT", path`/admin/streaks/${id.value.trim()}`, body);
    saved(form, `Saved ${result.streakId}.`);
    done();
  });
  return form;
}

export function init(app) {
  definitionPage(app, {
    collection: "/admin/streaks",
    idField: "streakId",
    columns: [["name", (d) => d.name], ["events", (d) => d.events.join(", ")], ["period", (d) => d.period],
      ["milestones", (d) => d.milestones.map((m) => `${m.count}: +${text(m.points)}`).join(", ") || "—"], ["active", (d) => (d.active ? "yes" : "no")]],
    makeForm: streakForm,
  });
}

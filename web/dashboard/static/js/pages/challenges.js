// /dashboard/challenges: count or sum goals, optional window, reset, reward.
import { api, path } from "../api.js";
import { conditionBuilder } from "../conditions.js";
import { definitionPage } from "../definitions.js";
import { el, onSubmit, saved, text } from "../dom.js";
import { checkbox, field, input, listOf, numberInput, numberOf, optional, select } from "../forms.js";

function challengeForm(d, done) {
  const existing = Boolean(d);
  d = d || { active: true, goal: { type: "count", target: 1 }, reset: "none", reward: { points: 0 } };
  const id = input("challengeId", d.challengeId, { required: true, readonly: existing || null });
  const name = input("name", d.name);
  const active = checkbox("active", d.active !== false);
  const repeatable = checkbox("repeatable", d.repeatable);
  const events = input("events", (d.events || []).join(", "), { placeholder: "level_completed, …" });
  const goalType = select("goal.type", ["count", "sum"], d.goal.type);
  const goalField = input("goal.field", d.goal.field, { placeholder: "for sum: orderValue" });
  const target = numberInput("goal.target", d.goal.target);
  const reset = select("reset", ["none", "day", "week", "month"], d.reset);
  const points = numberInput("reward.points", d.reward ? d.reward.points : 0, { step: "1" });
  const badge = input("reward.badge", d.reward && d.reward.badge ? d.reward.badge : "");
  const w = d.window || {};
  const start = input("window.start", w.start, { placeholder: "2026-01-01T00:00:00Z" });
  const end = input("window.end", w.end, { placeholder: "2026-02-01T00:00:00Z" });
  const windowPart = optional("Only between two moments", d.window, [field("Start (ISO-8601)", start), field("End, exclusive", end)]);
  const conditions = conditionBuilder(d.conditions || null);
  const form = el("form", { class: "card", id: "challenge-form", novalidate: true }, el("h2", {}, existing ? `Edit ${d.challengeId}` : "New challenge"),
    el("div", { class: "grid" }, field("Challenge id", id), field("Name", name), field("Counting events (comma separated)", events),
      field("Goal", goalType), field("Sum of field", goalField), field("Target", target), field("Progress resets", reset),
      field("Reward points", points), field("Reward badge", badge),
      el("label", { class: "inline" }, active, " Active"), el("label", { class: "inline" }, repeatable, " Repeatable")),
    windowPart.node, el("h3", {}, "Conditions"), conditions.node,
    el("div", { class: "form-status", "aria-live": "polite" }), el("button", { type: "submit" }, "Save"));
  onSubmit(form, async () => {
    const body = { name: name.value, active: active.checked, repeatable: repeatable.checked, events: listOf(events),
      goal: { type: goalType.value, target: numberOf(target) }, reset: reset.value, reward: { points: numberOf(points) ?? 0 } };
    if (goalField.value.trim()) body.goal.field = goalField.value.trim();
    if (badge.value.trim()) body.reward.badge = badge.value.trim();
    if (windowPart.on()) {
      body.window = {};
      if (start.value.trim()) body.window.start = start.value.trim();
      if (end.value.trim()) body.window.end = end.value.trim();
    }
    const tree = conditions.read();
    if (tree) body.conditions = tree;
    const result = await api("PUT", path`/admin/challenges/${id.value.trim()}`, body);
    saved(form, `Saved ${result.challengeId}.`);
    done();
  });
  return form;
}

export function init(app) {
  definitionPage(app, {
    collection: "/admin/challenges",
    idField: "challengeId",
    columns: [["name", (d) => d.name], ["events", (d) => d.events.join(", ")],
      ["goal", (d) => `${d.goal.type}${d.goal.field ? ` of ${d.goal.field}` : ""} ≥ ${text(d.goal.target)}`],
      ["reward", (d) => `${text(d.reward.points)} points${d.reward.badge ? ` + ${d.reward.badge}` : ""}`], ["active", (d) => (d.active ? "yes" : "no")]],
    makeForm: challengeForm,
  });
}

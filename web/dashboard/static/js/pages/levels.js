// /dashboard/levels: the level table (levels follow lifetime points).
import { api, get } from "../api.js";
import { el, load, onSubmit, saved } from "../dom.js";
import { numberOf, rows } from "../forms.js";

function levelsForm(table) {
  const levels = rows("Levels", table.levels, (l) => {
    const level = el("input", { type: "number", "aria-label": "Level", value: l ? l.level : "" });
    const name = el("input", { "aria-label": "Name", placeholder: "Bronze", value: l ? l.name : "" });
    const min = el("input", { type: "number", "aria-label": "Lifetime points from", value: l ? l.minPoints : "" });
    return { node: el("div", { class: "pair" }, level, name, min), read: (i) => {
      level.dataset.path = `levels[${i}].level`;
      name.dataset.path = `levels[${i}].name`;
      min.dataset.path = `levels[${i}].minPoints`;
      return { level: numberOf(level), name: name.value, minPoints: numberOf(min) };
    } };
  }, "Add level");
  const form = el("form", { class: "card", id: "levels-form", novalidate: true },
    el("p", { class: "hint" }, "Each row: level number, name, and the lifetime points from which a user holds it."),
    levels.node, el("div", { class: "form-status", "aria-live": "polite" }), el("button", { type: "submit" }, "Save levels"));
  onSubmit(form, async () => {
    const result = await api("PUT", "/admin/levels", { levels: levels.read() });
    saved(form, `Saved ${result.levels.length} levels.`);
  });
  return form;
}

export function init(app) {
  load(app, get("/admin/levels"), levelsForm);
}

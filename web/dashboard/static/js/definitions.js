// A definitions page (streaks, challenges, webhooks): the list with Edit and Deactivate, and
// a form that creates a new definition or edits the chosen one. The form itself comes from
// the page: makeForm(definition | null, done) returns a <form>.
import { api, get, path } from "./api.js";
import { el, errorBox, load, replace, table } from "./dom.js";

export function definitionPage(app, { collection, idField, columns, makeForm, extra }) {
  const list = el("div", { id: "definition-list" });
  const formHolder = el("section", { id: "definition-form" });
  const status = el("div", { "aria-live": "polite" });
  const edit = (definition, focus = true) => {
    replace(formHolder, makeForm(definition, refresh));
    if (focus) formHolder.querySelector("input:not([readonly]), select")?.focus();
  };
  const refresh = () => load(list, get(collection), (data) => table([idField, ...columns.map(([label]) => label), ""],
    data.items.map((d) => [
      el("code", {}, d[idField]),
      ...columns.map(([, value]) => value(d)),
      el("span", { class: "row-actions" },
        el("button", { type: "button", class: "secondary", on: { click: () => edit(d) } }, "Edit"),
        extra ? extra(d) : null,
        d.active === false ? null : el("button", { type: "button", class: "link", on: { click: async () => {
          if (!window.confirm(`Deactivate ${d[idField]}?`)) return;
          try {
            await api("DELETE", `${collection}/${encodeURIComponent(d[idField])}`);
            replace(status);
            refresh();
          } catch (error) {
            replace(status, errorBox(error));
          }
        } } }, "Deactivate")),
    ])));
  replace(app, status, list,
    el("button", { type: "button", on: { click: () => edit(null) } }, "New"), formHolder);
  refresh();
  edit(null, false);
  return { refresh };
}

export { path };

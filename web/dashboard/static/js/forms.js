// Small form parts shared by the definition pages: inputs that carry their API path
// (data-path) so a 400's details land next to them, and editable rows of key/value pairs.
import { el, field } from "./dom.js";

export function input(path, value, attrs = {}) {
  return el("input", { name: path, dataset: { path }, value: value ?? "", ...attrs });
}

export function numberInput(path, value, attrs = {}) {
  return input(path, value, { type: "number", step: "any", ...attrs });
}

export function checkbox(path, checked) {
  return el("input", { type: "checkbox", name: path, dataset: { path }, checked: Boolean(checked) });
}

export function select(path, options, value) {
  const node = el("select", { name: path, dataset: { path } }, options.map((o) => el("option", { value: o }, o)));
  if (value !== undefined && value !== null) node.value = value;
  return node;
}

// "" → undefined (the field is left out), else a number; text the API will reject stays text,
// so the API's own message explains it.
export function numberOf(node) {
  const raw = node.value.trim();
  if (raw === "") return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : raw;
}

export function listOf(node) {
  return node.value.split(",").map((part) => part.trim()).filter(Boolean);
}

// An optional nested object: a checkbox that shows its fields. Returns {node, on()}.
export function optional(label, enabled, content) {
  const box = el("input", { type: "checkbox", checked: Boolean(enabled) });
  const inner = el("div", { class: "optional-body" }, content);
  inner.hidden = !box.checked;
  box.addEventListener("change", () => { inner.hidden = !box.checked; });
  return { node: el("div", { class: "optional" }, el("label", { class: "inline" }, box, " ", label), inner), on: () => box.checked };
}

// Editable rows; makeRow(item) returns {node, read()}. Returns {node, read()} → list of reads.
export function rows(title, items, makeRow, addLabel) {
  const list = el("div", { class: "rows" });
  const entries = [];
  const add = (item) => {
    const row = makeRow(item);
    const remove = el("button", { type: "button", class: "link" }, "Remove");
    const wrapper = el("div", { class: "row" }, row.node, remove);
    const entry = { wrapper, read: row.read };
    remove.addEventListener("click", () => { wrapper.remove(); entries.splice(entries.indexOf(entry), 1); });
    entries.push(entry);
    list.append(wrapper);
  };
  (items || []).forEach(add);
  const node = el("fieldset", { class: "rows-box" }, el("legend", {}, title), list,
    el("button", { type: "button", class: "secondary", on: { click: () => add(null) } }, addLabel));
  return { node, read: () => entries.map((entry, i) => entry.read(i)) };
}

export { field };

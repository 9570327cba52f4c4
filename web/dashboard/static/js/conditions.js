// The condition builder: {all: [...]}, {any: [...]}, {not: c} or a leaf {field, op, value},
// edited as nested boxes. read() returns the JSON the API takes and stamps each control with
// its path (conditions.all[0].value) so a 400 lands next to the right box.
import { el } from "./dom.js";

const OPERATORS = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "exists", "between", "contains"];
const KINDS = { rule: "Rule (field, operator, value)", all: "All of (and)", any: "Any of (or)", not: "Not" };
const LISTS = new Set(["in", "nin", "between"]);

function scalar(raw) {
  const value = raw.trim();
  if (value === "true") return true;
  if (value === "false") return false;
  if (value === "null") return null;
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value)) return Number(value);
  if (/^".*"$/.test(value)) {
    try { return JSON.parse(value); } catch { return value; }
  }
  return value;
}

export function parseValue(op, raw) {
  if (op === "contains") return raw;
  if (LISTS.has(op)) return raw.split(",").filter((part) => part.trim() !== "").map(scalar);
  return scalar(raw);
}

function show(value) {
  if (Array.isArray(value)) return value.map(show).join(", ");
  if (typeof value === "string" && String(scalar(value)) !== value) return JSON.stringify(value);
  return value === undefined ? "" : String(value);
}

function kindOf(node) {
  if (!node) return "rule";
  return ["all", "any", "not"].find((kind) => kind in node) || "rule";
}

// One node of the tree; `onRemove` is null for the root.
function nodeBox(node, onRemove) {
  const box = el("fieldset", { class: "cond" });
  const kind = el("select", { "aria-label": "Condition type", class: "cond-kind" },
    Object.entries(KINDS).map(([value, label]) => el("option", { value }, label)));
  kind.value = kindOf(node);
  const body = el("div", { class: "cond-body" });
  const legend = el("legend", {}, kind);
  box.append(legend, body);
  if (onRemove) {
    legend.append(el("button", { type: "button", class: "link", on: { click: () => onRemove(box) } }, "Remove"));
  }
  const render = (current) => {
    body.replaceChildren();
    box.dataset.kind = kind.value;
    if (kind.value === "rule") {
      const leaf = current && "field" in current ? current : { field: "", op: "eq", value: "" };
      const op = el("select", { "aria-label": "Operator", class: "cond-op" }, OPERATORS.map((o) => el("option", { value: o }, o)));
      op.value = leaf.op || "eq";
      body.append(el("div", { class: "cond-leaf" },
        el("input", { "aria-label": "Metadata field", placeholder: "field, e.g. orderValue", class: "cond-field", value: leaf.field || "" }),
        op,
        el("input", { "aria-label": "Value", placeholder: "value (lists: a, b)", class: "cond-value", value: show(leaf.value) })));
      return;
    }
    const children = el("div", { class: "cond-children" });
    body.append(children);
    const add = (child) => children.append(nodeBox(child, kind.value === "not" ? null : (gone) => gone.remove()));
    if (kind.value === "not") {
      add(current && current.not ? current.not : null);
      return;
    }
    const items = current && Array.isArray(current[kind.value]) ? current[kind.value] : [null];
    items.forEach(add);
    body.append(el("div", { class: "cond-actions" },
      el("button", { type: "button", class: "secondary", on: { click: () => add(null) } }, "Add rule"),
      el("button", { type: "button", class: "secondary", on: { click: () => add({ all: [null] }) } }, "Add group")));
  };
  kind.addEventListener("change", () => render(null));
  render(node);
  return box;
}

function readNode(box, path) {
  box.dataset.path = path;
  const kind = box.querySelector(":scope > legend > .cond-kind").value;
  const body = box.querySelector(":scope > .cond-body");
  if (kind === "rule") {
    const [field, op, value] = ["cond-field", "cond-op", "cond-value"].map((name) => body.querySelector(`:scope > .cond-leaf > .${name}`));
    field.dataset.path = `${path}.field`;
    op.dataset.path = `${path}.op`;
    value.dataset.path = `${path}.value`;
    const leaf = { field: field.value.trim(), op: op.value };
    if (!(op.value === "exists" && value.value.trim() === "")) leaf.value = parseValue(op.value, value.value);
    return leaf;
  }
  const children = [...body.querySelectorAll(":scope > .cond-children > .cond")];
  if (kind === "not") return { not: readNode(children[0], `${path}.not`) };
  return { [kind]: children.map((child, i) => readNode(child, `${path}.${kind}[${i}]`)) };
}

// The builder for a definition's `conditions` (absent = always). Returns {node, read}.
export function conditionBuilder(conditions, path = "conditions") {
  const holder = el("div", { class: "cond-root" });
  const enabled = el("input", { type: "checkbox", class: "cond-enabled", checked: Boolean(conditions) });
  const toggle = el("label", { class: "inline" }, enabled, " Only when the metadata meets conditions");
  const node = el("div", { class: "conditions", dataset: { path } }, toggle, holder);
  const sync = () => {
    holder.replaceChildren();
    if (enabled.checked) holder.append(nodeBox(conditions || { all: [null] }, null));
  };
  enabled.addEventListener("change", () => { conditions = null; sync(); });
  sync();
  return {
    node,
    read: () => (enabled.checked ? readNode(holder.querySelector(".cond"), path) : undefined),
  };
}

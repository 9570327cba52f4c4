// The form for an event definition, every field of the admin API: name, active, fixed and
// per-unit points, conditions, maxCompletions, groupRewards (usergroup multipliers) and
// metadataSchema (declared field types).
import { ApiError, api, path } from "./api.js";
import { conditionBuilder } from "./conditions.js";
import { el, onSubmit, saved } from "./dom.js";
import { checkbox, field, input, numberInput, numberOf, optional, rows, select } from "./forms.js";

export function eventForm(definition, { onSaved } = {}) {
  const existing = Boolean(definition);
  const d = definition || { active: true, points: { fixed: 0 } };
  const points = d.points || {};
  const perUnit = points.perUnit || {};
  const cap = d.maxCompletions || {};

  const eventId = input("eventId", d.eventId, { required: true, placeholder: "e.g. purchase_completed", readonly: existing || null });
  const name = input("name", d.name);
  const active = checkbox("active", d.active !== false);
  const fixed = numberInput("points.fixed", points.fixed ?? 0, { step: "1" });
  const unitField = input("points.perUnit.field", perUnit.field, { placeholder: "orderValue" });
  const unitRate = numberInput("points.perUnit.rate", perUnit.rate);
  const unitRounding = select("points.perUnit.rounding", ["floor", "round", "ceil"], perUnit.rounding || "floor");
  const unitMax = numberInput("points.perUnit.max", perUnit.max, { step: "1" });
  const perUnitPart = optional("Points per unit of a metadata field", points.perUnit, [
    field("Field", unitField), field("Points per unit", unitRate), field("Rounding", unitRounding), field("At most (optional)", unitMax)]);
  const conditions = conditionBuilder(d.conditions || null);
  const capCount = numberInput("maxCompletions.count", cap.count, { step: "1", min: "1" });
  const capPeriod = select("maxCompletions.period", ["day", "week", "month", "lifetime"], cap.period || "day");
  const capPart = optional("Limit how often it rewards a user", d.maxCompletions, [field("Times", capCount), field("Per", capPeriod)]);
  const groups = rows("Usergroup multipliers", Object.entries(d.groupRewards || {}), (item) => {
    const group = el("input", { "aria-label": "Usergroup", placeholder: "subscriber", value: item ? item[0] : "" });
    const multiplier = el("input", { "aria-label": "Multiplier", type: "number", step: "any", value: item ? item[1].multiplier : "" });
    return { node: el("div", { class: "pair" }, group, multiplier), read: () => {
      group.dataset.path = `groupRewards.${group.value.trim()}.key`;
      multiplier.dataset.path = `groupRewards.${group.value.trim()}.value.multiplier`;
      return [group.value.trim(), { multiplier: numberOf(multiplier) }];
    } };
  }, "Add usergroup");
  const schema = rows("Declared metadata fields", Object.entries(d.metadataSchema || {}), (item) => {
    const key = el("input", { "aria-label": "Metadata field", placeholder: "orderValue", value: item ? item[0] : "" });
    const type = el("select", { "aria-label": "Type" }, ["number", "string", "boolean"].map((t) => el("option", { value: t }, t)));
    if (item) type.value = item[1];
    return { node: el("div", { class: "pair" }, key, type), read: () => {
      key.dataset.path = `metadataSchema.${key.value.trim()}.key`;
      type.dataset.path = `metadataSchema.${key.value.trim()}.value`;
      return [key.value.trim(), type.value];
    } };
  }, "Add field");

  const form = el("form", { class: "card definition-form", id: "event-form", novalidate: true },
    el("h2", {}, existing ? "Definition" : "New event"),
    el("div", { class: "grid" }, field("Event id", eventId), field("Name", name),
      field("Fixed points", fixed, "Awarded for every rewarded event"), el("label", { class: "inline" }, active, " Active")),
    perUnitPart.node,
    el("h3", {}, "Conditions"), conditions.node,
    capPart.node, groups.node, schema.node,
    el("div", { class: "form-status", "aria-live": "polite" }),
    el("button", { type: "submit" }, existing ? "Save" : "Create"));

  onSubmit(form, async () => {
    const body = { name: name.value, active: active.checked, points: { fixed: numberOf(fixed) ?? 0 } };
    if (perUnitPart.on()) {
      body.points.perUnit = { field: unitField.value.trim(), rate: numberOf(unitRate), rounding: unitRounding.value };
      if (numberOf(unitMax) !== undefined) body.points.perUnit.max = numberOf(unitMax);
    }
    const tree = conditions.read();
    if (tree) body.conditions = tree;
    if (capPart.on()) body.maxCompletions = { count: numberOf(capCount), period: capPeriod.value };
    const groupRewards = Object.fromEntries(groups.read());
    if (Object.keys(groupRewards).length) body.groupRewards = groupRewards;
    const metadataSchema = Object.fromEntries(schema.read());
    if (Object.keys(metadataSchema).length) body.metadataSchema = metadataSchema;
    const id = eventId.value.trim();
    if (!id) throw new ApiError(400, "validation_error", "An event needs an id.", { eventId: ["is required"] });
    const result = await api("PUT", path`/admin/events/${id}`, body);
    saved(form, `Saved ${result.eventId}.`);
    if (onSaved) onSaved(result);
  });
  return form;
}

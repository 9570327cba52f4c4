// /dashboard/webhooks: endpoints, the notification types they receive, and the delivery log.
import { api, get, path } from "../api.js";
import { definitionPage } from "../definitions.js";
import { el, load, onSubmit, replace, saved, table, when } from "../dom.js";
import { checkbox, field, input } from "../forms.js";

const TYPES = ["event.rewarded", "streak.milestone", "challenge.completed", "level.changed", "points.adjusted"];

function webhookForm(d, done) {
  const existing = Boolean(d);
  d = d || { active: true, events: [...TYPES] };
  const id = input("webhookId", d.webhookId, { required: true, readonly: existing || null });
  const url = input("url", d.url, { type: "url", placeholder: "https://example.com/laurel" });
  const secret = input("secret", "", { type: "password", autocomplete: "new-password",
    placeholder: existing ? `kept (…${d.secretHint || ""}) unless you type a new one` : "at least 16 characters" });
  const active = checkbox("active", d.active !== false);
  const types = TYPES.map((t) => ({ t, box: el("input", { type: "checkbox", checked: d.events.includes(t) }) }));
  const typeBox = el("fieldset", { dataset: { path: "events" } }, el("legend", {}, "Notifications"),
    types.map(({ t, box }) => el("label", { class: "inline" }, box, " ", t)));
  const form = el("form", { class: "card", id: "webhook-form", novalidate: true }, el("h2", {}, existing ? `Edit ${d.webhookId}` : "New webhook"),
    el("div", { class: "grid" }, field("Webhook id", id), field("URL", url), field("Signing secret", secret), el("label", { class: "inline" }, active, " Active")),
    typeBox, el("div", { class: "form-status", "aria-live": "polite" }), el("button", { type: "submit" }, "Save"));
  onSubmit(form, async () => {
    const body = { url: url.value.trim(), active: active.checked, events: types.filter(({ box }) => box.checked).map(({ t }) => t) };
    if (secret.value) body.secret = secret.value;
    const result = await api("PUT", path`/admin/webhooks/${id.value.trim()}`, body);
    saved(form, `Saved ${result.webhookId}.`);
    done();
  });
  return form;
}

function attempt(last) {
  const outcome = String(last.statusCode ?? last.error ?? "—");
  const short = outcome.length > 90 ? `${outcome.slice(0, 89)}…` : outcome;
  return el("span", { title: outcome }, `${when(last.at)} · ${short} · ${last.durationMs ?? "—"} ms`);
}

function deliveries(holder, webhookId) {
  replace(holder, el("h2", {}, "Deliveries of ", el("code", {}, webhookId)));
  const log = el("div", {});
  holder.append(log);
  load(log, get(`${path`/admin/webhooks/${webhookId}/deliveries`}?limit=50`), (data) => table(
    ["created", "type", "user", "status", "attempts", "last attempt"],
    data.items.map((item) => {
      const last = item.attempts[item.attempts.length - 1];
      return [when(item.createdAt), item.type, item.userId, item.status, item.attempts.length,
        last ? attempt(last) : "—"];
    }), "Newest first"));
  holder.scrollIntoView({ block: "start" });
}

export function init(app) {
  const log = el("section", { id: "deliveries", class: "card" }, el("p", { class: "hint" }, "Choose a webhook's Deliveries to see its log."));
  definitionPage(app, {
    collection: "/admin/webhooks",
    idField: "webhookId",
    columns: [["url", (d) => d.url], ["notifications", (d) => d.events.join(", ")], ["active", (d) => (d.active ? "yes" : "no")]],
    makeForm: webhookForm,
    extra: (d) => el("button", { type: "button", class: "secondary", on: { click: () => deliveries(log, d.webhookId) } }, "Deliveries"),
  });
  app.append(log);
}

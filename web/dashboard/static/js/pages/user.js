// /dashboard/users/{userId} (support): profile, history timeline with paging, adjustment,
// streak restore and freeze grant, erasure with a typed confirmation.
import { allows, api, get, path } from "../api.js";
import { el, field, load, onSubmit, replace, saved, table, text, when } from "../dom.js";
import { numberInput, numberOf } from "../forms.js";

function key() {
  return window.crypto && crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

function figure(name, value) {
  return el("div", { dataset: { figure: name } }, el("dt", {}, name), el("dd", {}, text(value)));
}

function profileView(p) {
  return [
    el("dl", { class: "figures" },
      figure("balance", p.points.balance), figure("lifetime", p.points.lifetime),
      figure("level", p.level ? `${p.level.level}${p.level.name ? ` · ${p.level.name}` : ""}` : null),
      figure("usergroup", p.usergroup), figure("timezone", p.timezone), figure("events", p.eventCount),
      figure("first seen", when(p.firstSeen)), figure("last seen", when(p.lastSeen))),
    table(["streak", "current", "longest", "freezes", "last update"],
      p.streaks.map((s) => [s.streakId, s.currentCount, s.longestCount, s.freezes, when(s.lastUpdate)]), "Streaks"),
    table(["challenge", "progress", "target", "completed", "completions"],
      p.challenges.map((c) => [c.challengeId, c.progress, c.target, c.completed ? "yes" : "no", c.completions]), "Challenges"),
    el("p", {}, el("strong", {}, "Badges: "), p.badges.length ? p.badges.join(", ") : "none"),
  ];
}

function historyItem(item) {
  if (item.type === "points") {
    return el("li", { class: "points", dataset: { type: "points" } },
      el("time", {}, when(item.timestamp)), " ",
      el("strong", {}, `${item.delta > 0 ? "+" : ""}${item.delta} points`), " ", item.source,
      item.reason ? ` · ${item.reason}` : "", item.actor ? ` · by ${item.actor}` : "");
  }
  const outcome = item.outcome || {};
  return el("li", { class: "event", dataset: { type: "event" } },
    el("time", {}, when(item.timestamp)), " ", el("strong", {}, item.eventId), " ",
    outcome.rewarded === false ? `not rewarded (${outcome.reason || "—"})` : `+${text(outcome.totalPointsAwarded ?? outcome.pointsAwarded ?? 0)} points`,
    item.metadata && Object.keys(item.metadata).length
      ? el("ul", { class: "metadata" }, Object.entries(item.metadata).map(([k, v]) => el("li", {}, el("code", {}, k), " = ", text(v))))
      : null);
}

function history(userId) {
  const list = el("ol", { class: "timeline", id: "history-list" });
  const status = el("div", { "aria-live": "polite" });
  const more = el("button", { type: "button", class: "secondary", hidden: true }, "Older");
  const type = el("select", { "aria-label": "Show" }, [["", "events and points"], ["event", "events"], ["points", "points"]].map(([v, l]) => el("option", { value: v }, l)));
  let cursor = null;
  const page = async (reset) => {
    if (reset) { list.replaceChildren(); cursor = null; }
    const query = new URLSearchParams({ limit: "20" });
    if (type.value) query.set("type", type.value);
    if (cursor) query.set("cursor", cursor);
    more.hidden = true;
    const data = await load(status, get(`${path`/users/${userId}/history`}?${query}`), () => []);
    if (!data) return;
    list.append(...data.items.map(historyItem));
    if (!list.children.length) list.append(el("li", { class: "empty" }, "No history"));
    cursor = data.nextCursor;
    more.hidden = !cursor;
  };
  more.addEventListener("click", () => page(false));
  type.addEventListener("change", () => page(true));
  page(true);
  return { node: el("section", { class: "card", "aria-labelledby": "history-title" }, el("div", { class: "section-head" },
    el("h2", { id: "history-title" }, "History"), type), status, list, more), reload: () => page(true) };
}

function adjustmentForm(userId, refresh) {
  const delta = numberInput("delta", "", { step: "1", required: true });
  const reason = el("input", { name: "reason", dataset: { path: "reason" }, required: true, maxlength: "200" });
  const form = el("form", { class: "card", id: "adjust-form", novalidate: true }, el("h2", {}, "Adjust points"),
    field("Points (negative to take away)", delta), field("Reason (required)", reason),
    el("div", { class: "form-status", "aria-live": "polite" }), el("button", { type: "submit" }, "Adjust"));
  onSubmit(form, async () => {
    const result = await api("POST", path`/users/${userId}/adjustments`, { delta: numberOf(delta), reason: reason.value, idempotencyKey: key() });
    form.reset();
    saved(form, `Done: balance is now ${result.balance}.`);
    refresh();
  });
  return form;
}

function streakForm(userId, streaks, refresh) {
  const streak = el("select", { name: "streakId" }, streaks.map((s) => el("option", { value: s }, s)));
  const restore = numberInput("count", "", { step: "1", min: "1" });
  const freezes = numberInput("count", "", { step: "1", min: "1" });
  const restoreForm = el("form", { class: "inline-form", novalidate: true }, field("Restore count to", restore),
    el("div", { class: "form-status", "aria-live": "polite" }), el("button", { type: "submit" }, "Restore"));
  const freezeForm = el("form", { class: "inline-form", novalidate: true }, field("Grant freezes", freezes),
    el("div", { class: "form-status", "aria-live": "polite" }), el("button", { type: "submit" }, "Grant"));
  onSubmit(restoreForm, async () => {
    const r = await api("POST", path`/users/${userId}/streaks/${streak.value}/restore`, { count: numberOf(restore), idempotencyKey: key() });
    saved(restoreForm, `Restored: ${r.currentCount}.`);
    refresh();
  });
  onSubmit(freezeForm, async () => {
    const r = await api("POST", path`/users/${userId}/streaks/${streak.value}/freezes`, { count: numberOf(freezes), idempotencyKey: key() });
    saved(freezeForm, `Freezes held: ${r.freezes}.`);
    refresh();
  });
  return el("section", { class: "card" }, el("h2", {}, "Streak tools"),
    streaks.length ? [field("Streak", streak), restoreForm, freezeForm] : el("p", { class: "hint" }, "No streaks defined."));
}

function eraseForm(userId) {
  const confirmation = el("input", { name: "confirm", autocomplete: "off" });
  const button = el("button", { type: "submit", class: "danger", disabled: true }, "Erase this user");
  confirmation.addEventListener("input", () => { button.disabled = confirmation.value !== userId; });
  const form = el("form", { class: "card danger-zone", id: "erase-form" }, el("h2", {}, "Erase"),
    el("p", {}, "Deletes the user's profile, history and ledger. This cannot be undone."),
    field(`Type the user id (${userId}) to confirm`, confirmation),
    el("div", { class: "form-status", "aria-live": "polite" }), button);
  onSubmit(form, async () => {
    if (confirmation.value !== userId) return;
    await api("DELETE", path`/users/${userId}`);
    saved(form, "Erased.");
    button.disabled = true;
  });
  return form;
}

export async function init(app, data) {
  const userId = data.userid;
  const profile = el("section", { class: "card", id: "profile", "aria-labelledby": "profile-title" });
  const body = el("div", {});
  profile.append(el("h2", { id: "profile-title" }, "Profile"), body);
  const refreshProfile = () => load(body, get(path`/users/${userId}`), profileView);
  const timeline = history(userId);
  const refresh = () => { refreshProfile(); timeline.reload(); };
  replace(app, profile, timeline.node);
  const found = await refreshProfile();
  if (!found || !allows("users:write")) return;
  let streakIds = found.streaks.map((s) => s.streakId);
  if (allows("admin")) {
    streakIds = await get("/admin/streaks").then((d) => d.items.map((s) => s.streakId)).catch(() => streakIds);
  }
  app.append(el("div", { class: "tools" }, adjustmentForm(userId, refresh), streakForm(userId, streakIds, refresh), eraseForm(userId)));
}

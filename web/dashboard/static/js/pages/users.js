// /dashboard/users: find a user by id.
import { el, field, replace } from "../dom.js";

export function init(app) {
  const userId = el("input", { name: "userId", required: true, autocomplete: "off", placeholder: "user123" });
  const form = el("form", { class: "card narrow", id: "find-user", role: "search" },
    field("User id", userId, "The userId your app sends with its events"),
    el("button", { type: "submit" }, "Open"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = userId.value.trim();
    if (id) location.assign(`/dashboard/users/${encodeURIComponent(id)}`);
  });
  replace(app, form);
  userId.focus();
}

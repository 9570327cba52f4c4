import { claims, signIn } from "../api.js";
import { el, replace } from "../dom.js";

function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "/dashboard/";
  // Only a path of the dashboard itself: never an open redirect.
  return /^\/dashboard(\/|$)/.test(next) && !next.startsWith("//") ? next : "/dashboard/";
}

export function init() {
  const form = document.getElementById("signin");
  const status = form.querySelector(".form-status");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = form.elements.token.value.trim();
    signIn(value);
    if (!claims()) {
      replace(status, el("div", { class: "error", role: "alert" }, "That does not look like a token (header.payload.signature)."));
      sessionStorage.clear();
      return;
    }
    location.assign(nextPage());
  });
  form.elements.token.focus();
}

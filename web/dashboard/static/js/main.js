// Runs on every dashboard page: take a #token= into sessionStorage, send a visitor without a
// token to the sign-in page, show the navigation the token's scopes allow, then start the
// page's own module (pages/<name>.js, named by <body data-page>).
import { captureTokenFromHash, claims, signOut, token } from "./api.js";
import { el, replace } from "./dom.js";

captureTokenFromHash();

const page = document.body.dataset.page;

function account() {
  const box = document.getElementById("account");
  const c = claims();
  if (!c) return;
  const expired = c.expires && c.expires < new Date();
  replace(box,
    el("span", { class: "who" }, c.subject || "token", " · ", c.project, " · ", c.scopes.join(" ") || "no scopes",
      expired ? el("strong", { class: "expired" }, " (expired)") : null),
    el("button", { type: "button", id: "signout", on: { click: () => { signOut(); location.assign("/dashboard/signin"); } } }, "Sign out"));
}

function navigation() {
  const c = claims();
  const scopes = c ? c.scopes : [];
  for (const item of document.querySelectorAll("nav [data-scopes]")) {
    const needed = item.dataset.scopes.split(" ");
    item.hidden = !(scopes.includes("admin") || needed.some((scope) => scopes.includes(scope)));
  }
  for (const link of document.querySelectorAll("nav a")) {
    const here = link.getAttribute("href");
    if (location.pathname === here || (here !== "/dashboard/" && location.pathname.startsWith(here))) {
      link.setAttribute("aria-current", "page");
    }
  }
  const toggle = document.querySelector(".menu-toggle");
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    document.getElementById("nav").classList.toggle("open", open);
  });
}

async function start() {
  if (!token() && page !== "signin") {
    location.replace(`/dashboard/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
    return;
  }
  navigation();
  account();
  const module = await import(`./pages/${page}.js`);
  await module.init(document.getElementById("app"), document.body.dataset);
}

start();

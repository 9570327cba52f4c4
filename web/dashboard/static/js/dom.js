// Building the page. Every string is inserted as text (a Text node or textContent), never as
// HTML: values that came from clients (userIds, metadata, names) cannot become markup.
import { ApiError } from "./api.js";

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "on") {
      for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    } else if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else if (name === "value" || name === "checked") {
      node[name] = value;
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export function text(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") return Number.isInteger(value) ? value.toLocaleString("en") : value.toLocaleString("en", { maximumFractionDigits: 3 });
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function when(ms) {
  if (ms === null || ms === undefined) return "—";
  const date = typeof ms === "number" ? new Date(ms) : new Date(String(ms));
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

// A fetch with its loading and error states: the container says "Loading…" (aria-busy) until
// the promise settles, then shows what render() returns, or the error in a role=alert box.
export async function load(container, promise, render) {
  container.setAttribute("aria-busy", "true");
  replace(container, el("p", { class: "loading" }, "Loading…"));
  try {
    const data = await promise;
    replace(container, render(data));
    return data;
  } catch (error) {
    replace(container, errorBox(error));
    return undefined;
  } finally {
    container.removeAttribute("aria-busy");
  }
}

export function errorBox(error) {
  const box = el("div", { class: "error", role: "alert" }, el("strong", {}, errorTitle(error)), " ", error.message);
  if (error instanceof ApiError && error.status === 401) {
    box.append(" ", el("a", { href: `/dashboard/signin?next=${encodeURIComponent(location.pathname)}` }, "Sign in again"));
  }
  return box;
}

function errorTitle(error) {
  if (!(error instanceof ApiError)) return "Error:";
  return { 0: "Offline:", 401: "Not signed in:", 403: "Not allowed:", 404: "Not found:" }[error.status] || `Error ${error.status}:`;
}

// A 400's `details` name fields by path ("points.fixed", "conditions.all[0].op"): each message
// goes next to the form control whose data-path is that path or its nearest ancestor; what
// matches none goes to the form's summary.
export function showErrors(form, error) {
  clearErrors(form);
  const summary = form.querySelector(".form-status");
  const details = (error instanceof ApiError && error.details) || {};
  const unplaced = [];
  for (const [where, messages] of Object.entries(details)) {
    const target = controlFor(form, where);
    const message = `${Array.isArray(messages) ? messages.join(" ") : text(messages)}`;
    if (target) {
      const id = `err-${Math.random().toString(36).slice(2)}`;
      target.setAttribute("aria-invalid", "true");
      target.setAttribute("aria-describedby", id);
      target.after(el("span", { class: "field-error", id, role: "alert", dataset: { errorFor: where } }, message));
    } else {
      unplaced.push(`${where}: ${message}`);
    }
  }
  if (summary) {
    replace(summary, el("div", { class: "error", role: "alert" }, el("strong", {}, errorTitle(error)), " ", error.message,
      unplaced.length ? el("ul", {}, unplaced.map((line) => el("li", {}, line))) : null));
  }
}

function controlFor(form, where) {
  let candidate = where.replace(/^json\./, "");
  while (candidate) {
    const found = [...form.querySelectorAll("[data-path]")].find((node) => node.dataset.path === candidate);
    if (found) return found;
    const cut = Math.max(candidate.lastIndexOf("."), candidate.lastIndexOf("["));
    candidate = cut > 0 ? candidate.slice(0, cut) : "";
  }
  return null;
}

export function clearErrors(form) {
  form.querySelectorAll(".field-error").forEach((node) => node.remove());
  form.querySelectorAll("[aria-invalid]").forEach((node) => {
    node.removeAttribute("aria-invalid");
    node.removeAttribute("aria-describedby");
  });
  const summary = form.querySelector(".form-status");
  if (summary) summary.replaceChildren();
}

export function saved(form, message) {
  const summary = form.querySelector(".form-status");
  if (summary) replace(summary, el("p", { class: "ok", role: "status" }, message));
}

// Runs a form's submit: disables it while the call runs, shows the field errors of a 400.
export function onSubmit(form, action) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      await action();
    } catch (error) {
      showErrors(form, error);
    } finally {
      form.removeAttribute("aria-busy");
      if (button) button.disabled = false;
    }
  });
}

export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2)}`;
  control.id = id;
  return el("div", { class: "field" }, el("label", { for: id }, label), control, hint ? el("small", {}, hint) : null);
}

export function table(headers, rows, caption) {
  return el("table", {},
    caption ? el("caption", {}, caption) : null,
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.length ? rows.map((row) => el("tr", {}, row.map((cell) => el("td", {}, cell instanceof Node ? cell : text(cell)))))
      : el("tr", {}, el("td", { colspan: headers.length, class: "empty" }, "Nothing yet"))));
}

// The signed-in token and the public JSON API. The token lives in sessionStorage only: it
// arrives in the URL fragment (never sent to the server) and is removed from the address bar.
const KEY = "laurel.token";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

export function captureTokenFromHash() {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match) return;
  sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
  history.replaceState(null, "", window.location.pathname + window.location.search);
}

export function token() {
  return sessionStorage.getItem(KEY);
}

export function signIn(value) {
  sessionStorage.setItem(KEY, value.trim());
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

// The token's claims, for display and navigation only: the server checks the signature and
// enforces the scopes on every call.
export function claims() {
  const value = token();
  if (!value) return null;
  try {
    const part = value.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "="));
    const payload = JSON.parse(json);
    return {
      project: String(payload.project || ""),
      subject: payload.sub ? String(payload.sub) : "",
      scopes: String(payload.scope || "").split(" ").filter(Boolean),
      expires: typeof payload.exp === "number" ? new Date(payload.exp * 1000) : null,
    };
  } catch {
    return null;
  }
}

export function allows(scope) {
  const c = claims();
  return Boolean(c) && (c.scopes.includes("admin") || c.scopes.includes(scope));
}

export function path(strings, ...values) {
  // api path with every interpolated value URL-encoded: path`/users/${id}`.
  return strings.reduce((out, s, i) => out + s + (i < values.length ? encodeURIComponent(values[i]) : ""), "");
}

export async function api(method, url, body) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${token() || ""}` };
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new ApiError(0, "network_error", `The server did not answer (${error.message})`);
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    throw new ApiError(response.status, "bad_response", `Unexpected answer (HTTP ${response.status})`);
  }
  if (!response.ok || !payload.success) {
    const error = (payload && payload.error) || {};
    throw new ApiError(response.status, error.code || "error", error.message || `HTTP ${response.status}`, error.details);
  }
  return payload.data;
}

export const get = (url) => api("GET", url);

// A download needs the Authorization header too, so it cannot be a plain link.
export async function download(url, name) {
  const response = await fetch(url, { headers: { Authorization: `Bearer ${token() || ""}` } });
  if (!response.ok) throw new ApiError(response.status, "download_failed", `Download failed (HTTP ${response.status})`);
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

// /dashboard/leaderboards: the current day, ISO week, month (UTC) or all time.
import { get } from "../api.js";
import { el, load, replace, table } from "../dom.js";

const PERIODS = ["day", "week", "month", "all"];

export function init(app) {
  const board = el("div", { id: "board" });
  const buttons = PERIODS.map((p) => el("button", { type: "button", class: "toggle", "aria-pressed": "false", dataset: { period: p } }, p));
  const show = (period) => {
    buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.period === period)));
    load(board, get(`/leaderboards?period=${period}&limit=50`), (data) => table(["rank", "user", "points"], data.items.map((item) => [
      item.rank, el("a", { href: `/dashboard/users/${encodeURIComponent(item.userId)}` }, item.userId), item.points]),
    `${data.period} · ${data.periodKey}`));
  };
  buttons.forEach((b) => b.addEventListener("click", () => show(b.dataset.period)));
  replace(app, el("div", { class: "toggles", role: "group", "aria-label": "Period" }, buttons), board);
  show("week");
}

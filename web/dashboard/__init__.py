"""The web dashboard (README, "Dashboard"): server-rendered pages under
/dashboard/ whose scripts call the public JSON API with the signed-in token.

- The server only renders page shells. Every figure and every form goes through the documented
  API from the browser, with the token the user signed in with, so the dashboard can do nothing
  the API does not allow that token to do. The server never sees the token: it arrives in the
  URL fragment (`#token=`), which browsers do not send, and lives in sessionStorage.
- No build step and no Node.js: plain ES modules in static/js, served by Flask from the package.
- Charts are SVG drawn by static/js/charts.js (about 150 lines) rather than a vendored chart
  library: the dashboard needs only bar and line charts, SVG elements are text in the DOM (so
  axis labels and values are inspectable, selectable and testable, and come out crisp at any
  zoom), and there is no third-party code to pin, audit or ship a licence for. Each chart is
  followed by a table with the same numbers.
- Security: the Content-Security-Policy below allows scripts, styles, images and connections
  from this origin only (no inline script, no inline handlers), and the pages may not be
  framed. Scripts insert every string that came from a client as text (textContent), never as
  HTML.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, render_template

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)

bp = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/dashboard",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

# url rule → (template page name, title). The page name picks the script module.
PAGES = {
    "/": ("overview", "Overview"),
    "/signin": ("signin", "Sign in"),
    "/events": ("events", "Events and rules"),
    "/events/<eventId>": ("event", "Event"),
    "/streaks": ("streaks", "Streaks"),
    "/challenges": ("challenges", "Challenges"),
    "/levels": ("levels", "Levels"),
    "/webhooks": ("webhooks", "Webhooks"),
    "/users": ("users", "Users"),
    "/users/<user:userId>": ("user", "User"),  # "/" arrives as %2F (web.paths)
    "/leaderboards": ("leaderboards", "Leaderboards"),
    "/insights": ("insights", "Insights"),
}


def _page_view(page: str, title: str) -> Callable[..., str]:
    def view(**path: str) -> str:
        return render_template(f"dashboard/{page}.html", page=page, title=title, path=path)

    view.__name__ = f"page_{page}"
    return view


for _rule, (_page, _title) in PAGES.items():
    bp.add_url_rule(_rule, endpoint=_page, view_func=_page_view(_page, _title))


@bp.after_request
def protect(response: Response) -> Response:
    """Pages and assets alike: scripts from this origin only, never inside a frame."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response

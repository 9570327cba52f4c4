"""The web dashboard (README, "Dashboard"): server-rendered page shells under /dashboard/ whose
scripts (plain ES modules in static/js, no build step) call the public JSON API with the
signed-in token, which arrives in the URL fragment and never reaches the server. Charts are
SVG of our own (static/js/charts.js). The Content-Security-Policy below allows this origin only
(no inline script or handler, no framing); scripts insert client strings as text, never HTML.
Why: docs/decisions/0014-dashboard-without-build-step-or-chart-library.md.
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

"""The phone's offline pieces (docs/offline.md): the service worker at the site's root
(`/sw.js`, from static/js/sw.js, allowed to control every page), the web app manifest, and
a fresh CSRF token for a draft kept offline and sent later (js/offline.js). Each page of a
logged-in user names its user and how long it may be shown offline (<meta> tags in
base.html): the worker shows a kept page only to that user, and only that long.

The pages the worker keeps and the drafts it holds are the browser's; the server only
answers the forms as usual (`tracker.web.once`: one update per draft's key, the server's
stamp deciding the reporting day)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, url_for
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf.csrf import generate_csrf

from tracker import clock
from tracker.labels import ict

bp = Blueprint("offline", __name__)

NO_STORE = {"Cache-Control": "no-store"}


@bp.app_context_processor
def _rendered_at() -> dict:
    """When the page was drawn, for the line a page kept offline shows ("Dữ liệu lúc …");
    how long, in seconds, the phone may show it offline (TRACKER_OFFLINE_PAGE_DAYS)."""
    return {"rendered_at": lambda: ict(clock.now()),
            "offline_max_age": lambda: max(
                1, round(current_app.config["TRACKER_OFFLINE_PAGE_DAYS"] * 86400))}


@bp.route("/sw.js")
def service_worker():
    """The service worker, served from the root so that its scope is the whole site."""
    # Read whole (a few kB), so that no answer holds the file open.
    script = (Path(current_app.static_folder) / "js" / "sw.js").read_bytes()
    response = Response(script, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"  # a new version is seen at once
    return response


@bp.route("/manifest.webmanifest")
def manifest():
    """What a phone needs to install Tracker on its home screen."""
    icon = "icons/tracker-{0}.png"
    body = {
        "name": _("Tracker – task monitoring"),
        "short_name": _("Tracker"),
        "lang": "vi",
        "start_url": url_for("member.today"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5d1e",
        "icons": [
            {"src": url_for("static", filename=icon.format(size)), "sizes": f"{size}x{size}",
             "type": "image/png", "purpose": "any maskable"} for size in (192, 512)
        ] + [{"src": url_for("static", filename="icons/tracker.svg"), "sizes": "any",
              "type": "image/svg+xml"}],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response


@bp.route("/offline/csrf-token")
@login_required
def csrf_token():
    """A fresh CSRF token for a draft written offline, whose form's token may be stale."""
    return jsonify({"csrf_token": generate_csrf()}), 200, NO_STORE

"""The calendar feed: a user's page to make (or reset, or turn off) the secret address of
their feed, on their account's pages, and the feed itself at that address — no login, the
secret in the address is the credential (calendar apps cannot log in)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker import clock
from tracker.extensions import db, limiter
from tracker.feeds.service import build_feed, feed_of, reset_feed, turn_off, user_for_feed

bp = Blueprint("feed", __name__)


def _feed_url(raw: str) -> str:
    """The feed's address as calendar apps must use it: under TRACKER_BASE_URL when set
    (behind a proxy, the Host header is not the site's name), else this request's."""
    base = current_app.config.get("TRACKER_BASE_URL")
    if base:
        return base.rstrip("/") + url_for("feed.calendar_feed", token=raw)
    return url_for("feed.calendar_feed", token=raw, _external=True)


def _page(raw: str | None = None):
    url = _feed_url(raw) if raw else None
    response = render_template("account/calendar.html", feed=feed_of(current_user), url=url)
    # The secret address is on this page once: keep it out of every cache.
    return response, 200, {"Cache-Control": "no-store"}


@bp.route("/account/calendar")
@login_required
def calendar_page():
    return _page()


@bp.route("/account/calendar/reset", methods=["POST"])
@login_required
def calendar_reset():
    raw = reset_feed(current_user, now=clock.now())
    db.session.commit()
    flash(_("Your calendar feed has a new address; the old one no longer works."), "success")
    return _page(raw)


@bp.route("/account/calendar/off", methods=["POST"])
@login_required
def calendar_off():
    if turn_off(current_user, now=clock.now()):
        flash(_("Your calendar feed is turned off."), "success")
    db.session.commit()
    return redirect(url_for("feed.calendar_page"))


@bp.route("/calendar/<token>.ics")
@limiter.limit("60/minute")
def calendar_feed(token: str):
    """The feed (text/calendar); 404 for an address that is not (or no longer) one."""
    now = clock.now()
    user = user_for_feed(token, now=now)
    if user is None:
        abort(404)
    body = build_feed(user, now=now, host=request.host.split(":")[0] or "tracker")
    db.session.commit()
    return Response(body, mimetype="text/calendar", headers={
        "Cache-Control": "private, no-store",
        "Content-Disposition": 'inline; filename="tracker.ics"'})

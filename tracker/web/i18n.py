"""Language choice: Vietnamese by default, English on request (kept in the session)."""

from __future__ import annotations

from flask import current_app, has_request_context, session

LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}


def select_locale() -> str:
    lang = session.get("lang") if has_request_context() else None
    return lang if lang in LANGUAGES else current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["TRACKER_TIMEZONE"]

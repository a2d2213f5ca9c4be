"""gzip for what a phone on a slow network loads first (docs/offline.md, "Page weight"): the
static files (styles, scripts, icons, the manifest, the service worker) and the member's
offline pages, /today and the task page.

Other pages are not compressed: a page that reflects what a request carries (a search, a
filter) beside a secret (the CSRF token) would let a network observer guess the secret
from the compressed sizes (BREACH). Every page reflects its own address (the language
links' `next`), so a page is compressed only when its request has no query string: the
address /today or /tasks/7 is the site's, not an attacker's. Static files hold no secret
and are compressed whatever their query string."""

from __future__ import annotations

import gzip

from flask import Flask, request

TYPES = ("text/html", "text/css", "text/javascript", "application/javascript",
         "application/json", "application/manifest+json", "image/svg+xml")
PAGES = {"member.today", "tasks.task_detail", "offline.service_worker", "offline.manifest",
         "static"}
MIN_SIZE = 1024
MAX_SIZE = 2 * 1024 * 1024


def _wanted(response) -> bool:
    return (request.endpoint in PAGES
            and (not request.query_string or request.endpoint == "static")
            and response.status_code == 200
            and response.mimetype in TYPES
            and "gzip" in request.headers.get("Accept-Encoding", "").lower()
            and "Content-Encoding" not in response.headers
            and (not response.is_streamed or response.direct_passthrough))


def register(app: Flask) -> None:
    @app.after_request
    def _gzip(response):
        if not _wanted(response):
            return response
        length = response.content_length
        if length is not None and not MIN_SIZE <= length <= MAX_SIZE:
            return response
        response.direct_passthrough = False  # a static file: read it whole (small)
        body = response.get_data()
        if not MIN_SIZE <= len(body) <= MAX_SIZE:
            return response
        response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        tag, _weak = response.get_etag()
        if tag:  # the same file, another encoding: a weak tag still answers 304
            response.set_etag(tag, weak=True)
        return response

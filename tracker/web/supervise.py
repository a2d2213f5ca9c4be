"""Pages: supervise (filled in by the web UI work)."""

from flask import Blueprint

bp = Blueprint("supervise", __name__)

"""Pages: dashboard (filled in by the web UI work)."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)

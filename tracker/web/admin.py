"""Pages: admin (filled in by the web UI work)."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

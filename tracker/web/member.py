"""Pages: member (filled in by the web UI work)."""

from flask import Blueprint

bp = Blueprint("member", __name__)

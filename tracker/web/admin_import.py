"""Admin pages: import tasks from XLSX or CSV — all or nothing, with a row-by-row report of
every fault — and the template files. (Nested under `admin`; admins only.)"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from tracker.downloads import attachment
from tracker.extensions import db
from tracker.scope import ADMINS, requires
from tracker.tasks.columns import COLUMNS
from tracker.tasks.export import example_unit, template_csv, template_xlsx
from tracker.tasks.importer import (
    ImportLimits,
    ImportRejected,
    RowError,
    import_tasks,
)
from tracker.tasks.sixro import RO_LABELS, SIX_RO
from tracker.web.helpers import local_today
from tracker.xlsx import MIME as XLSX

bp = Blueprint("importer", __name__, url_prefix="/import")

# Multipart overhead on top of the file itself.
REQUEST_SLACK = 64 * 1024
MIME = {"xlsx": XLSX, "csv": "text/csv; charset=utf-8"}


def _ro_of(field: str | None) -> str | None:
    return next((ro for ro, names in SIX_RO.items() if field in names), None)


def _limits() -> ImportLimits:
    return ImportLimits.from_config(current_app.config)


def _page(status: int = 200, report: ImportRejected | None = None, filename: str = ""):
    columns = [(column.header, column.key, column.help, _ro_of(column.field))
               for column in COLUMNS]
    limits = _limits()
    return render_template("admin/import.html", columns=columns, RO_LABELS=RO_LABELS,
                           report=report, filename=filename,
                           max_mb=f"{limits.max_bytes / (1024 * 1024):g}",
                           max_rows=limits.max_tasks), status


def _refuse(message: str, status: int = 422):
    return _page(status, ImportRejected(message, [RowError(0, "", message)]))


@bp.route("", methods=["GET"])
@requires(*ADMINS)
def import_form():
    return _page()


@bp.route("", methods=["POST"])
@requires(*ADMINS)
def import_upload():
    # Nothing is held while the upload arrives and is parsed: on SQLite an open
    # transaction is the write lock (tracker.tasks.importer).
    db.session.commit()
    limits = _limits()
    max_bytes = limits.max_bytes
    too_large = _("The file is larger than %(mb)s MB.", mb=f"{max_bytes / (1024 * 1024):g}")
    if (request.content_length or 0) > max_bytes + REQUEST_SLACK:
        return _refuse(too_large, 413)
    request.max_content_length = max_bytes + REQUEST_SLACK  # also for chunked uploads
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _refuse(_("Choose a file to import."))
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        return _refuse(too_large, 413)
    try:
        tasks = import_tasks(current_user, upload.filename, data, limits=limits)
    except ImportRejected as exc:
        db.session.rollback()
        return _page(getattr(exc, "status", 422), exc, upload.filename)
    db.session.commit()
    flash(_("%(n)s task(s) imported from %(file)s.", n=len(tasks), file=upload.filename),
          "success")
    return redirect(url_for("tasks.task_list"))


@bp.route("/template.<any(xlsx, csv):extension>")
@requires(*ADMINS)
def import_template(extension: str):
    unit, today = example_unit(current_user), local_today()
    body = template_xlsx(unit, today) if extension == "xlsx" else template_csv(unit, today)
    return attachment(body, f"mau-nhap-nhiem-vu.{extension}", MIME[extension])

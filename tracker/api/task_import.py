"""Importing tasks from an XLSX or CSV file (nhập nhiệm vụ từ tệp): all or nothing, a row
by row report of every fault, and a dry run that checks a file without keeping anything —
through `tracker.tasks.importer.import_tasks`, the same service as the admin's import page,
within the same limits (`TRACKER_IMPORT_*`)."""

from __future__ import annotations

from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from tracker import clock
from tracker.api.base import ApiBlueprint, actor, commit
from tracker.api.schemas import ErrorSchema, UnitBriefSchema
from tracker.downloads import attachment
from tracker.extensions import db
from tracker.scope import ADMINS, requires
from tracker.tasks.export import example_unit, template_csv, template_xlsx
from tracker.tasks.importer import ImportLimits, ImportRejected, RowError, import_tasks
from tracker.xlsx import MIME as XLSX

bp = ApiBlueprint("import", __name__,
                  description="Import tasks from XLSX or CSV: dry run, then commit (admin).")

# Multipart overhead on top of the file itself.
REQUEST_SLACK = 64 * 1024
MIME = {"xlsx": XLSX, "csv": "text/csv; charset=utf-8"}


class ImportQuerySchema(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "Check the file, every row through the same service, and keep "
                       "nothing (200); false: import it (201)."})


class ImportedTaskSchema(Schema):
    id = fields.Integer(allow_none=True, metadata={"description": "null in a dry run."})
    code = fields.String(metadata={
        "description": "In a dry run, a code the file leaves out is only the one it would "
                       "have had."})
    title = fields.String()
    lead_unit = fields.Nested(UnitBriefSchema)
    start_date = fields.Date()
    deadline = fields.Date()


class ImportResultSchema(Schema):
    dry_run = fields.Boolean()
    count = fields.Integer(metadata={"description": "Tasks imported (or that would be)."})
    items = fields.List(fields.Nested(ImportedTaskSchema), metadata={
        "description": "In the file's order."})


class RowErrorSchema(Schema):
    row = fields.Integer(metadata={"description": "The file's own row number; 0: the file "
                                                  "as a whole."})
    column = fields.String(metadata={"description": "As the file names it."})
    message = fields.String()


class ImportErrorSchema(ErrorSchema):
    """A refused file: nothing was imported; `rows` lists every fault."""

    rows = fields.List(fields.Nested(RowErrorSchema))


class TemplateQuerySchema(Schema):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(list(MIME)))


UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "An .xlsx or .csv file whose first row names "
                                           "the columns (see the template)."}}}}}}


def _refused(message: str, status: int = 422) -> ImportRejected:
    exc = ImportRejected(message, [RowError(0, "", message)])
    exc.status = status
    exc.fields = {"file": [message]}
    return exc


@bp.errorhandler(ImportRejected)
def _rejected(exc: ImportRejected):
    """Nothing imported: the usual error body, and every fault row by row."""
    db.session.rollback()
    body = {"code": "invalid", "message": exc.message, "fields": exc.fields,
            "rows": [{"row": e.row, "column": e.column, "message": e.message}
                     for e in exc.errors]}
    return jsonify(body), getattr(exc, "status", 422)


def _preview(task, *, dry_run: bool) -> SimpleNamespace:
    """What the answer says of a task, read before a dry run's rollback forgets it."""
    return SimpleNamespace(id=None if dry_run else task.id, code=task.code, title=task.title,
                           lead_unit=SimpleNamespace(id=task.lead_unit.id,
                                                     code=task.lead_unit.code,
                                                     name=task.lead_unit.name),
                           start_date=task.start_date, deadline=task.deadline)


@bp.route("/tasks/import", methods=["POST"])
@bp.arguments(ImportQuerySchema, location="query")
@bp.doc(requestBody=UPLOAD_BODY)
@bp.response(201, ImportResultSchema)
@bp.alt_response(200, schema=ImportResultSchema, description="A dry run: nothing was kept.")
@bp.alt_response(422, schema=ImportErrorSchema,
                 description="The file was refused, naming every fault; nothing was imported.")
@requires(*ADMINS)
def task_import(args):
    """Import one task per row, each lead unit in your subtree (admin): all of them, or —
    if any row is wrong — none, the answer naming every fault (`rows`). With `dry_run`,
    the same checks and nothing kept. 413 past `TRACKER_IMPORT_MAX_MB`."""
    limits = ImportLimits.from_config(current_app.config)
    too_large = _("The file is larger than %(mb)s MB.",
                  mb=f"{limits.max_bytes / (1024 * 1024):g}")
    if (request.content_length or 0) > limits.max_bytes + REQUEST_SLACK:
        raise _refused(too_large, 413)
    request.max_content_length = limits.max_bytes + REQUEST_SLACK  # also for chunked uploads
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise _refused(_("Choose a file to import."))
    data = upload.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise _refused(too_large, 413)
    tasks = import_tasks(actor(), upload.filename, data, limits=limits)
    dry_run = args["dry_run"]
    items = [_preview(task, dry_run=dry_run) for task in tasks]
    if dry_run:
        db.session.rollback()
    else:
        commit()
    return {"dry_run": dry_run, "count": len(items), "items": items}, 200 if dry_run else 201


@bp.route("/tasks/import/template")
@bp.arguments(TemplateQuerySchema, location="query")
@bp.doc(responses={200: {"description": "The template with one example row.", "content": {
    mimetype.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
    for mimetype in MIME.values()}}})
@requires(*ADMINS)
def task_import_template(args):
    """The template file, as on the import page (admin)."""
    extension = args["format"]
    today = clock.now().astimezone(ZoneInfo(current_app.config["TRACKER_TIMEZONE"])).date()
    unit = example_unit(actor())
    body = template_xlsx(unit, today) if extension == "xlsx" else template_csv(unit, today)
    return attachment(body, f"mau-nhap-nhiem-vu.{extension}", MIME[extension])

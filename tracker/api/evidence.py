"""Evidence (minh chứng) of a task: the list, a file's download, and a new file uploaded —
checked and stored by the same service as the update and completion forms, within the same
limits (`TRACKER_MAX_UPLOAD_MB`; PDF, JPG, PNG, DOCX, XLSX whose content matches)."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from marshmallow import Schema, fields
from sqlalchemy import select

from tracker.api.base import MAX_ID, ApiBlueprint, actor, commit, load_task
from tracker.api.tasks import TASK
from tracker.errors import NotFound, TrackerError
from tracker.evidence.models import Evidence
from tracker.evidence.service import ALLOWED, download, max_bytes
from tracker.extensions import db
from tracker.fence import stamp
from tracker.scope import MEMBERS, requires
from tracker.updates.evidence import attach_evidence

bp = ApiBlueprint("evidence", __name__,
                  description="Evidence of a task: files and links; upload and download.")

EVIDENCE = f"{TASK}/evidence/<int(max={MAX_ID}):evidence_id>"
# Multipart overhead on top of the file itself.
REQUEST_SLACK = 64 * 1024
FILE_TYPES = sorted({content_type for _kind, content_type in ALLOWED.values()})


class TooLarge(TrackerError):
    status = 413
    code = "too_large"


class EvidenceSchema(Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    update_id = fields.Integer(allow_none=True)
    purpose = fields.String(metadata={"description": "update or completion"})
    url = fields.String(allow_none=True, metadata={"description": "A link's address."})
    filename = fields.String(allow_none=True, metadata={"description": "A file's name."})
    content_type = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    sha256 = fields.String(allow_none=True)
    uploaded_by = fields.Function(lambda e: e.uploaded_by.username)
    uploaded_at = fields.DateTime()


UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "PDF, JPG, PNG, DOCX or XLSX, its content of that type."},
        "purpose": {"type": "string", "enum": ["update", "completion"],
                    "description": "update (with update_id) or completion; by default "
                                   "update when update_id is given, else completion."},
        "update_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID,
                      "description": "One of your own updates of this task."},
    }}}}}


@bp.route(f"{TASK}/evidence")
@bp.response(200, EvidenceSchema(many=True))
def evidence_list(task_id: int):
    """The task's evidence, files and links, oldest first (whoever sees the task)."""
    task = load_task(task_id)
    return db.session.scalars(
        select(Evidence).where(Evidence.task_id == task.id)
        .order_by(Evidence.uploaded_at, Evidence.id)).all()


def _update_id(text: str | None):
    """The form's update_id as a number when it is one; as given otherwise, for the
    service to name."""
    if text is None or text == "":
        return None
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else text


@bp.route(f"{TASK}/evidence", methods=["POST"])
@bp.doc(requestBody=UPLOAD_BODY)
@bp.response(201, EvidenceSchema)
@requires(*MEMBERS)
def evidence_upload(task_id: int):
    """Add a file as evidence (member of the lead unit): the product of the task's
    completion, or a file backing one of your updates. 413 past the size limit; 422
    naming the field for a type not accepted or a content that does not match it."""
    limit = max_bytes()
    too_large = TooLarge(_("The file is too large."),
                         {"file": [_("At most %(mb)s MB.", mb=limit // (1024 * 1024))]})
    if (request.content_length or 0) > limit + REQUEST_SLACK:
        raise too_large
    request.max_content_length = limit + REQUEST_SLACK  # also for chunked uploads
    task = load_task(task_id)
    form, upload = request.form, request.files.get("file")
    update_id = _update_id(form.get("update_id"))
    purpose = form.get("purpose") or ("update" if update_id is not None else "completion")
    now = stamp()
    evidence = attach_evidence(actor(), task, upload, purpose=purpose, update_id=update_id,
                               now=now)
    commit()
    return evidence


@bp.route(EVIDENCE)
@bp.doc(responses={200: {"description": "The file, as uploaded.", "content": {
    content_type: {"schema": {"type": "string", "format": "binary"}}
    for content_type in FILE_TYPES}}})
def evidence_download(task_id: int, evidence_id: int):
    """An evidence file, to whoever sees the task (404 to anyone else, and for a link)."""
    task = load_task(task_id)
    item = db.session.get(Evidence, evidence_id)
    response = download(item) if item is not None and item.task_id == task.id else None
    if response is None:
        raise NotFound(_("evidence not found"))
    return response

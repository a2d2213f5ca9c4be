"""The files of a kiến nghị and of its answer over the API: the list, a file's download
and a file uploaded — checked and stored by the evidence files' one upload path
(tracker.evidence.service), through the kiến nghị's service, within the same limits;
seen within scope only (tracker.scope.can_see_recommendation_file)."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from marshmallow import Schema, fields
from sqlalchemy import or_, select

from tracker.api.base import MAX_ID, ApiBlueprint, actor, commit
from tracker.api.evidence import FILE_TYPES, REQUEST_SLACK, TooLarge
from tracker.api.recommendations import REC
from tracker.auth.models import Role
from tracker.errors import NotFound
from tracker.evidence.models import Evidence, Purpose
from tracker.evidence.service import download, max_bytes
from tracker.extensions import db
from tracker.kiennghi import service
from tracker.kiennghi.models import Recommendation
from tracker.scope import (
    can_see_recommendation_file,
    get_recommendation,
    recommendation_file_visible,
    requires,
)

bp = ApiBlueprint("recommendation-files", __name__,
                  description="Files of a kiến nghị and of its answer: list, upload, download.")


class RecommendationFileSchema(Schema):
    id = fields.Integer()
    recommendation_id = fields.Integer()
    purpose = fields.String(metadata={"enum": ["recommendation", "answer"], "description":
                                      "recommendation (as raised) or answer (its documents)"})
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.Function(lambda e: e.uploaded_by.username)
    uploaded_at = fields.DateTime()


UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file", "purpose"],
    "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "PDF, JPG, PNG, DOCX or XLSX, its content of that type."},
        "purpose": {"type": "string", "enum": ["recommendation", "answer"],
                    "description": "recommendation: a member of the raising unit, while it "
                                   "is open; answer: whoever may answer it, while an answer "
                                   "is owed (then POST …/answer)."},
    }}}}}


@bp.route(f"{REC}/files")
@bp.response(200, RecommendationFileSchema(many=True))
def recommendation_files(rec_id: int):
    """The kiến nghị's files, oldest first — and for a merged duplicate, the documents of
    the answer of the one it joined."""
    rec = get_recommendation(actor(), rec_id)
    owners = [rec.id] + ([rec.merged_into_id] if rec.merged_into_id else [])
    return db.session.scalars(
        select(Evidence).where(Evidence.recommendation_id.in_(owners),
                               recommendation_file_visible(actor(), Evidence.recommendation_id,
                                                           Evidence.purpose),
                               or_(Evidence.recommendation_id == rec.id,
                                   Evidence.purpose == Purpose.ANSWER))
        .order_by(Evidence.uploaded_at, Evidence.id)).all()


@bp.route(f"{REC}/files", methods=["POST"])
@bp.doc(requestBody=UPLOAD_BODY)
@bp.response(201, RecommendationFileSchema)
@requires(Role.MEMBER, Role.SUPERVISOR)
def recommendation_file_upload(rec_id: int):
    """Add a file to the kiến nghị or to the answer about to be given. 413 past the size
    limit; 422 naming the field for a type not accepted or a content that does not match."""
    limit = max_bytes()
    too_large = TooLarge(_("The file is too large."),
                         {"file": [_("At most %(mb)s MB.", mb=limit // (1024 * 1024))]})
    if (request.content_length or 0) > limit + REQUEST_SLACK:
        raise too_large
    request.max_content_length = limit + REQUEST_SLACK  # also for chunked uploads
    rec = get_recommendation(actor(), rec_id)
    [added] = service.attach_alone(actor(), rec, [request.files.get("file")],
                                   purpose=request.form.get("purpose") or "")
    commit()
    return added


@bp.route(f"/recommendations/files/<int(max={MAX_ID}):file_id>")
@bp.doc(responses={200: {"description": "The file, as uploaded.", "content": {
    content_type: {"schema": {"type": "string", "format": "binary"}}
    for content_type in FILE_TYPES}}})
def recommendation_file_download(file_id: int):
    """A file of a kiến nghị or of its answer, to whoever may see it (404 to anyone else)."""
    item = db.session.get(Evidence, file_id)
    if item is None or item.recommendation_id is None:
        raise NotFound(_("file not found"))
    rec = db.session.get(Recommendation, item.recommendation_id)
    response = download(item) \
        if can_see_recommendation_file(actor(), rec, item.purpose) else None
    if response is None:
        raise NotFound(_("file not found"))
    return response

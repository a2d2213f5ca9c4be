"""Attaching evidence to a task, and files to a kiến nghị or its answer: the only write
path for evidence files and links.

A file is accepted when its extension is one of pdf, jpg/jpeg, png, docx, xlsx *and* its
content is of that type (magic bytes; for docx/xlsx the Office parts inside the zip), and
when it is no larger than `TRACKER_MAX_UPLOAD_BYTES` (10 MB). The file is written under
the instance folder before the transaction commits; if the transaction is rolled back
instead, the file is removed again, so no file outlives its row.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import unicodedata
import zipfile
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.orm import Session

from tracker.audit.service import record
from tracker.auth.models import User
from tracker.downloads import attachment
from tracker.errors import Forbidden, InvalidInput
from tracker.evidence.models import TASK_PURPOSES, Evidence, Purpose
from tracker.extensions import db
from tracker.scope import can_attach_to_recommendation, can_report_on
from tracker.tasks.models import Task

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# extension → (kind, the content type we serve it with)
ALLOWED = {
    "pdf": ("pdf", "application/pdf"),
    "jpg": ("jpeg", "image/jpeg"),
    "jpeg": ("jpeg", "image/jpeg"),
    "png": ("png", "image/png"),
    "docx": ("docx",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
_OFFICE_PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
_PENDING = "evidence_files_written"


def max_bytes() -> int:
    return int(current_app.config.get("TRACKER_MAX_UPLOAD_BYTES", DEFAULT_MAX_BYTES))


def storage_dir() -> Path:
    return Path(current_app.config.get("TRACKER_EVIDENCE_PATH")
                or Path(current_app.instance_path) / "evidence")


def path_of(evidence: Evidence) -> Path:
    return storage_dir() / evidence.stored_name


def download(evidence: Evidence):
    """A stored file as a download (None when it is a link, or gone from the disk): read
    whole (at most the upload limit: no open file is left for the client to close), under
    its safe name, typed as stored and never sniffed, kept by no cache."""
    if not evidence.is_file or not path_of(evidence).is_file():
        return None
    path = path_of(evidence)
    response = attachment(path.read_bytes(), evidence.filename, evidence.content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def sniff(content: bytes) -> str | None:
    """The kind of file the bytes are (pdf, jpeg, png, docx, xlsx), or None."""
    if content.startswith(b"%PDF-"):
        return "pdf"
    if content.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if content.startswith(b"PK\x03\x04"):
        try:
            # Only the central directory is read: nothing is decompressed.
            names = set(zipfile.ZipFile(io.BytesIO(content)).namelist())
        except (zipfile.BadZipFile, ValueError):
            return None
        if "[Content_Types].xml" in names:
            for kind, part in _OFFICE_PART.items():
                if part in names:
                    return kind
    return None


def clean_filename(name: str | None, extension: str) -> str:
    """The uploaded name without any folder part or control characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return base[-200:] if base else f"evidence.{extension}"


def _extension(name: str | None) -> str:
    return name.rsplit(".", 1)[-1].lower() if name and "." in name else ""


def _check_actor(actor: User, task: Task) -> None:
    if not can_report_on(actor, task):
        raise Forbidden(_("Only a member of the lead unit can add evidence to this task."))


def _stored(actor: User, upload, *, now: datetime, purpose: Purpose, field: str,
            **owner) -> Evidence:
    """Check `upload` (type by extension and content, size), write it under the instance
    folder (removed again if the transaction rolls back) and add its row, owned by
    `owner` (task_id=… or recommendation_id=…)."""
    extension = _extension(upload.filename)
    if extension not in ALLOWED:
        raise InvalidInput(_("This type of file is not accepted."),
                           {field: [_("Allowed: PDF, JPG, PNG, DOCX, XLSX.")]})
    limit = max_bytes()
    content = upload.stream.read(limit + 1)
    if not content:
        raise InvalidInput(_("The file is empty."), {field: [_("The file is empty.")]})
    if len(content) > limit:
        raise InvalidInput(_("The file is too large."),
                           {field: [_("At most %(mb)s MB.", mb=limit // (1024 * 1024))]})
    kind, content_type = ALLOWED[extension]
    if sniff(content) != kind:
        raise InvalidInput(_("The file's content does not match its type."),
                           {field: [_("The content is not a valid %(ext)s file.",
                                      ext=extension.upper())]})
    evidence = Evidence(
        **owner, purpose=purpose, filename=clean_filename(upload.filename, extension),
        stored_name=secrets.token_hex(16), content_type=content_type, size=len(content),
        sha256=hashlib.sha256(content).hexdigest(), uploaded_by_id=actor.id,
        uploaded_at=now,
    )
    db.session.add(evidence)
    db.session.flush()
    target = path_of(evidence)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    db.session.info.setdefault(_PENDING, []).append(target)
    return evidence


def attach_file(actor: User, task: Task, upload, *, now: datetime,
                purpose: Purpose = Purpose.UPDATE, update_id: int | None = None,
                field: str = "evidence_file") -> Evidence:
    """Store an uploaded file (a werkzeug FileStorage) as evidence of the task."""
    _check_actor(actor, task)
    if purpose not in TASK_PURPOSES:
        raise ValueError(f"not a task's evidence: {purpose!r}")
    evidence = _stored(actor, upload, now=now, purpose=purpose, field=field,
                       task_id=task.id, update_id=update_id)
    record(task, actor, "evidence", at=now, note=evidence.filename)
    return evidence


def attach_recommendation_file(actor: User, rec, upload, *, now: datetime, purpose: Purpose,
                               field: str = "files") -> Evidence:
    """Store an uploaded file of the kiến nghị `rec`: as raised (`Purpose.RECOMMENDATION`,
    by a member of the raising unit while it is open) or of its answer (`Purpose.ANSWER`,
    by whoever may answer it). The kiến nghị's service calls it inside its own step (the
    raise, the answer), which writes the trail."""
    if not can_attach_to_recommendation(actor, rec, purpose):
        raise Forbidden(_("You cannot add a file to this recommendation."))
    return _stored(actor, upload, now=now, purpose=purpose, field=field,
                   recommendation_id=rec.id)


def attach_link(actor: User, task: Task, url: str, *, now: datetime,
                purpose: Purpose = Purpose.COMPLETION, update_id: int | None = None,
                field: str = "evidence_url") -> Evidence:
    """A link (http/https) as evidence of the task."""
    _check_actor(actor, task)
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc or len(url) > 1000:
        raise InvalidInput(_("The link is not valid."),
                           {field: [_("Must be an http:// or https:// link.")]})
    evidence = Evidence(task_id=task.id, update_id=update_id, purpose=purpose, url=url,
                        uploaded_by_id=actor.id, uploaded_at=now)
    db.session.add(evidence)
    db.session.flush()
    record(task, actor, "evidence", at=now, note=url)
    return evidence


@event.listens_for(Session, "after_commit")
def _keep_files(session: Session) -> None:
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_soft_rollback")
def _remove_files(session: Session, previous_transaction) -> None:
    if getattr(previous_transaction, "nested", False):
        return  # a savepoint: the outer transaction may still commit the rows
    for path in session.info.pop(_PENDING, []):
        path.unlink(missing_ok=True)

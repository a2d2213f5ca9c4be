"""What each unit keeps for its official reports: the letterhead and signer of its
documents (thể thức văn bản, Decree 30/2020/NĐ-CP) and the certificate it signs them with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.types import UTCDateTime


class UnitReportSettings(db.Model):
    """A unit's letterhead: the body above it (cơ quan chủ quản), the issuing body (cơ quan
    ban hành), the symbol after the number (ký hiệu, e.g. ``BC-VP``), the place name of the
    date line (địa danh), who signs (thẩm quyền, chức vụ, họ tên) and the recipients (nơi
    nhận, one a line). A unit without a row uses the defaults of
    `tracker.reports.letterhead.defaults`."""

    __tablename__ = "unit_report_settings"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"),
                                         primary_key=True)
    parent_body: Mapped[str] = mapped_column(String(200), default="")
    issuing_body: Mapped[str] = mapped_column(String(200))
    symbol: Mapped[str] = mapped_column(String(40))
    place: Mapped[str] = mapped_column(String(100))
    signer_authority: Mapped[str] = mapped_column(String(100), default="")
    signer_title: Mapped[str] = mapped_column(String(100))
    signer_name: Mapped[str] = mapped_column(String(100), default="")
    recipients: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class UnitSigningKey(db.Model):
    """The certificate a unit signs its PDF reports with: the certificate chain in PEM
    (public) and the private key sealed with AES-GCM under a key derived from SECRET_KEY
    (`tracker.reports.signing`); the passphrase of the uploaded PKCS#12 is never kept."""

    __tablename__ = "unit_signing_keys"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"),
                                         primary_key=True)
    certificate_pem: Mapped[str] = mapped_column(Text)
    key_sealed: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(300))
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the certificate
    not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

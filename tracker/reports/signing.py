"""A unit's signing certificate and the PDF report signed with it (PAdES B-B, pyHanko).

- An admin of the unit's subtree uploads the unit's PKCS#12 file with its passphrase
  (`add_signing_key`). The server opens it, checks that it holds a private key, the
  certificate of that key, valid now and allowed to sign, and keeps the certificate chain
  (public) and the private key sealed with AES-GCM under a key derived from SECRET_KEY by
  HKDF (`UnitSigningKey`). The passphrase and the file are not kept: a copy of the
  database alone gives no key, and no passphrase lies in a setting or on disk.
- Who signs: `scope.can_sign_report` — the unit's own office (an active supervisor or
  admin whose home unit it is). Every signature is a security event.
- Changing SECRET_KEY leaves the sealed keys unreadable: the admins upload them again.
docs/security.md, "Signed reports", argues the choice.
"""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from flask_babel import gettext as _

from tracker import clock
from tracker.audit.security import SecurityEventKind, record_security
from tracker.auth.models import User
from tracker.errors import Conflict, Forbidden, InvalidInput, NotFound
from tracker.extensions import db
from tracker.reports.models import UnitSigningKey
from tracker.scope import can_sign_report, may_configure_reports
from tracker.sealing import seal, unseal
from tracker.units.models import Unit

MAX_PKCS12_BYTES = 64 * 1024
PASSPHRASE_MAX = 1024
_INFO, _AAD = b"tracker report signing v1", b"unit signing key"


def _seal(secret: bytes) -> str:
    return seal(secret, info=_INFO, aad=_AAD)


def _open(sealed: str) -> bytes | None:
    """The key (PKCS#8 DER), or None if SECRET_KEY has changed since it was sealed."""
    return unseal(sealed, info=_INFO, aad=_AAD)


def _refuse(message: str, field: str = "pkcs12"):
    raise InvalidInput(message, {field: [message]})


def _load(data, passphrase, now: datetime):
    """The key and certificates of a PKCS#12 file, checked; InvalidInput names what fails."""
    if not isinstance(data, bytes | bytearray) or not data:
        _refuse(_("Choose the unit's certificate file (.p12 or .pfx)."))
    if len(data) > MAX_PKCS12_BYTES:
        _refuse(_("The certificate file is too large."))
    if passphrase is not None and (not isinstance(passphrase, str)
                                   or len(passphrase) > PASSPHRASE_MAX):
        _refuse(_("Not valid text."), "passphrase")
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(
            bytes(data), passphrase.encode() if passphrase else None)
    except (ValueError, TypeError):
        _refuse(_("This is not a PKCS#12 file, or the passphrase is wrong."))
    if key is None or cert is None:
        _refuse(_("The file must hold the private key and its certificate."))
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if (key.public_key().public_bytes(serialization.Encoding.DER, public)
            != cert.public_key().public_bytes(serialization.Encoding.DER, public)):
        _refuse(_("The private key does not belong to the certificate."))
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        _refuse(_("The certificate is not valid today."))
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        _refuse(_("The certificate is not allowed to sign."))
    return key, cert, list(extra or [])


def add_signing_key(actor: User, unit: Unit, data, passphrase, *,
                    now: datetime | None = None) -> UnitSigningKey:
    """Keep `unit`'s certificate (a PKCS#12 file's bytes and its passphrase), replacing
    the one it had."""
    if not may_configure_reports(actor, unit):
        raise Forbidden(_("Only an admin of this unit's subtree can change its reports."))
    now = now or clock.now()
    key, cert, chain = _load(data, passphrase, now)
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [cert, *chain])
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    row = db.session.get(UnitSigningKey, unit.id) or UnitSigningKey(unit_id=unit.id)
    row.certificate_pem = pem.decode()
    row.key_sealed = _seal(der)
    row.subject = cert.subject.rfc4514_string()[:300]
    row.fingerprint = cert.fingerprint(hashes.SHA256()).hex()
    row.not_after = cert.not_valid_after_utc
    row.uploaded_at, row.uploaded_by_id = now, actor.id
    db.session.add(row)
    record_security(SecurityEventKind.SIGNING_KEY_ADDED, at=now, actor=actor, unit=unit,
                    detail=f"unit {unit.id}: {row.fingerprint[:16]} {row.subject[:120]}")
    db.session.flush()
    return row


def remove_signing_key(actor: User, unit: Unit, *, now: datetime | None = None) -> None:
    if not may_configure_reports(actor, unit):
        raise Forbidden(_("Only an admin of this unit's subtree can change its reports."))
    row = db.session.get(UnitSigningKey, unit.id)
    if row is None:
        raise NotFound(_("This unit has no signing certificate."))
    now = now or clock.now()
    record_security(SecurityEventKind.SIGNING_KEY_REMOVED, at=now, actor=actor, unit=unit,
                    detail=f"unit {unit.id}: {row.fingerprint[:16]}")
    db.session.delete(row)
    db.session.flush()


def signing_key(unit: Unit) -> UnitSigningKey | None:
    return db.session.get(UnitSigningKey, unit.id)


def sign_report(actor: User, unit: Unit, pdf: bytes, *, day, location: str,
                now: datetime | None = None) -> bytes:
    """`pdf` (the unit's report of `day`) signed with the unit's certificate: a PAdES
    signature (ETSI.CAdES.detached, SHA-256) in a new signature field."""
    if not can_sign_report(actor, unit):
        raise Forbidden(_("Only the unit's own supervisors and admins sign its reports."))
    row = signing_key(unit)
    if row is None:
        raise Conflict(_("This unit has no signing certificate: an admin uploads it first."))
    now = now or clock.now()
    if row.not_after <= now:
        raise Conflict(_("The unit's signing certificate has expired."))
    der = _open(row.key_sealed)
    if der is None:
        raise Conflict(_("The unit's signing certificate can no longer be read (the server's "
                         "secret key changed): an admin uploads it again."))
    signed = _sign(pdf, der, row.certificate_pem.encode(), actor=actor, location=location)
    record_security(SecurityEventKind.REPORT_SIGNED, at=now, actor=actor, user=actor,
                    unit=unit, detail=f"daily_report {day.isoformat()} (unit {unit.id}) "
                                      f"{row.fingerprint[:16]}")
    return signed


def _sign(pdf: bytes, key_der: bytes, chain_pem: bytes, *, actor: User, location: str) -> bytes:
    from asn1crypto import keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    certs = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
             for c in x509.load_pem_x509_certificates(chain_pem)]
    signer = signers.SimpleSigner(
        signing_cert=certs[0], signing_key=keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs(certs))
    metadata = signers.PdfSignatureMetadata(
        field_name="Signature1", md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES, location=location or None,
        reason="Ký số báo cáo giám sát", name=actor.full_name or actor.username)
    out = io.BytesIO()
    pdf_signer = signers.PdfSigner(metadata, signer=signer)
    in_own_loop(lambda: pdf_signer.async_sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)),
                                                  output=out))
    return out.getvalue()


def in_own_loop(make_coroutine):
    """Run the coroutine `make_coroutine()` makes to its end, on an event loop of its own in
    a thread of its own. pyHanko signs and validates with asyncio, and its blocking calls
    are `asyncio.run`, which refuses to start inside a running loop: the caller's thread may
    be in one (an async server; a browser driver in the same test process)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdf-sign") as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()

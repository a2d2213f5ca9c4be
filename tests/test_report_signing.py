"""The PDF report signed with a unit's certificate (PAdES): the certificate a unit keeps
(uploaded as PKCS#12, its key sealed), who may sign, and the signature verified by
pyHanko's validator against a test CA made here with `cryptography`."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from tests.conftest import csrf_token
from tests.factories import cutoff_through, ict, make_task, make_user
from tracker.audit.models import SecurityEvent
from tracker.errors import Conflict, Forbidden, InvalidInput
from tracker.extensions import db
from tracker.reports import official
from tracker.reports.document import ROWS
from tracker.reports.history import daily_report
from tracker.reports.models import UnitSigningKey
from tracker.reports.signing import (
    add_signing_key,
    in_own_loop,
    remove_signing_key,
    sign_report,
)

DAY = date(2026, 11, 17)
NOW = ict(2026, 11, 18, 9, 0)
PASSPHRASE = "mật khẩu tệp p12"


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "UBND tỉnh Quảng Ninh"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(subject, issuer, key, issuer_key, *, ca: bool, start: datetime,
                 end: datetime) -> x509.Certificate:
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(
                   digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                   data_encipherment=False, key_agreement=False, key_cert_sign=ca,
                   crl_sign=ca, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              critical=False))
    if not ca:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def test_ca():
    """A test CA and a unit's certificate issued by it, valid 2026–2036 (pyHanko's
    validator judges at the real moment)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _certificate(_name("Tracker test CA"), _name("Tracker test CA"), root_key, root_key,
                        ca=True, start=start, end=start + timedelta(days=3650))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _certificate(_name("Văn phòng UBND tỉnh Quảng Ninh"), root.subject, key, root_key,
                        ca=False, start=start, end=start + timedelta(days=3650))
    return {"root": root, "root_key": root_key, "key": key, "leaf": leaf, "start": start}


def _p12(key, cert, chain=(), passphrase: str = PASSPHRASE) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"unit", key, cert, list(chain),
        serialization.BestAvailableEncryption(passphrase.encode()))


@pytest.fixture
def signed_world(users, units, test_ca):
    make_task(users["admin"], units["co_to"], at=ict(2026, 11, 13, 9, 0),
              title="Rà soát tài sản công dôi dư")
    cutoff_through(DAY, ict(2026, 11, 17, 17, 0))
    add_signing_key(users["admin"], units["province"],
                    _p12(test_ca["key"], test_ca["leaf"], [test_ca["root"]]), PASSPHRASE, now=NOW)
    db.session.commit()
    return daily_report(units["province"], DAY, red_limit=ROWS)


def _validate(data: bytes, root: x509.Certificate):
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    trust = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    [signature] = PdfFileReader(io.BytesIO(data)).embedded_signatures
    return signature, in_own_loop(lambda: async_validate_pdf_signature(
        signature, ValidationContext(trust_roots=[trust])))


def test_a_signed_report_verifies_with_pyhanko(signed_world, users, units, test_ca):
    data = official.report_pdf_signed(users["supervisor"], units["province"], signed_world)
    signature, status = _validate(data, test_ca["root"])
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert status.signing_cert.subject.native["common_name"] == "Văn phòng UBND tỉnh Quảng Ninh"
    assert status.coverage.name == "ENTIRE_FILE"
    [event] = db.session.scalars(select(SecurityEvent).where(
        SecurityEvent.kind == "report_signed")).all()
    assert event.actor_id == users["supervisor"].id and event.unit_id == units["province"].id


def test_signing_works_from_inside_a_running_event_loop(signed_world, users, units, test_ca):
    """pyHanko's blocking calls are asyncio.run, which refuses to start inside a running
    loop; a browser driver in the same process runs one (so may an async server)."""
    def sign():
        return official.report_pdf_signed(users["supervisor"], units["province"],
                                          signed_world)

    async def from_a_loop():
        return sign()

    try:
        asyncio.get_running_loop()  # a browser test before this one left the thread in one
    except RuntimeError:
        data = asyncio.run(from_a_loop())
    else:
        data = sign()
    _signature, status = _validate(data, test_ca["root"])
    assert status.intact and status.valid and status.bottom_line


def test_a_changed_byte_breaks_the_signature(signed_world, users, units, test_ca):
    data = official.report_pdf_signed(users["supervisor"], units["province"], signed_world)
    at = data.index(b"Tracker")  # the creator, inside the signed range
    _signature, status = _validate(data[:at] + b"Tracked" + data[at + 7:], test_ca["root"])
    assert not status.intact and not status.bottom_line


def test_the_key_is_kept_sealed_and_the_passphrase_not_at_all(signed_world, units, test_ca):
    row = db.session.get(UnitSigningKey, units["province"].id)
    der = test_ca["key"].private_bytes(serialization.Encoding.DER,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
    stored = " ".join(str(v) for v in (row.certificate_pem, row.key_sealed, row.subject))
    assert row.key_sealed.startswith("v1:")
    assert der.hex() not in stored and PASSPHRASE not in stored and "PRIVATE" not in stored
    assert row.fingerprint == test_ca["leaf"].fingerprint(hashes.SHA256()).hex()


def test_only_the_units_own_office_signs(signed_world, users, units):
    pdf = official.report_pdf(signed_world)
    for who in (users["viewer"], users["co_to_supervisor"], users["ha_long"]):
        with pytest.raises(Forbidden):
            sign_report(who, units["province"], pdf, day=DAY, location="Quảng Ninh", now=NOW)
    national = make_user("nation_admin", "admin", units["nation"])
    with pytest.raises(Forbidden):  # a unit above is not the unit
        sign_report(national, units["province"], pdf, day=DAY, location="", now=NOW)


def test_no_certificate_or_an_unreadable_one_is_a_conflict(signed_world, users, units, app):
    pdf = official.report_pdf(signed_world)
    app.config["SECRET_KEY"] = "another secret key"
    with pytest.raises(Conflict, match="máy chủ"):  # "the server's secret key changed"
        sign_report(users["supervisor"], units["province"], pdf, day=DAY, location="", now=NOW)
    remove_signing_key(users["admin"], units["province"], now=NOW)
    with pytest.raises(Conflict):
        sign_report(users["supervisor"], units["province"], pdf, day=DAY, location="", now=NOW)
    events = db.session.scalars(select(SecurityEvent).where(
        SecurityEvent.kind.in_(("signing_key_added", "signing_key_removed")))
        .order_by(SecurityEvent.id)).all()
    assert [(e.kind, e.actor_id, e.unit_id) for e in events] == [
        (kind, users["admin"].id, units["province"].id)
        for kind in ("signing_key_added", "signing_key_removed")]


@pytest.mark.parametrize(("case", "field"), [
    ("wrong passphrase", "pkcs12"), ("not a pkcs12 file", "pkcs12"), ("expired", "pkcs12"),
    ("no key", "pkcs12"), ("passphrase not text", "passphrase")])
def test_an_unusable_certificate_file_is_refused_by_name(users, units, test_ca, case, field):
    key, leaf = test_ca["key"], test_ca["leaf"]
    data, passphrase = _p12(key, leaf), PASSPHRASE
    if case == "wrong passphrase":
        passphrase = "sai"
    elif case == "not a pkcs12 file":
        data = b"%PDF-1.7 not a certificate"
    elif case == "expired":
        old = _certificate(_name("Cũ"), test_ca["root"].subject, key, test_ca["root_key"],
                           ca=False, start=datetime(2020, 1, 1, tzinfo=UTC),
                           end=datetime(2021, 1, 1, tzinfo=UTC))
        data = _p12(key, old)
    elif case == "passphrase not text":
        passphrase = ["mật khẩu"]
    elif case == "no key":
        data = pkcs12.serialize_key_and_certificates(
            b"unit", None, None, [leaf],
            serialization.BestAvailableEncryption(PASSPHRASE.encode()))
    with pytest.raises(InvalidInput) as refused:
        add_signing_key(users["admin"], units["province"], data, passphrase, now=NOW)
    assert field in refused.value.fields
    assert db.session.get(UnitSigningKey, units["province"].id) is None


def test_only_an_admin_of_the_subtree_uploads(users, units, test_ca):
    data = _p12(test_ca["key"], test_ca["leaf"])
    for who in (users["supervisor"], users["co_to_supervisor"]):
        with pytest.raises(Forbidden):
            add_signing_key(who, units["province"], data, PASSPHRASE, now=NOW)
    commune_admin = make_user("co_to_admin", "admin", units["co_to"])
    with pytest.raises(Forbidden):
        add_signing_key(commune_admin, units["province"], data, PASSPHRASE, now=NOW)


# --- the pages and the API ----------------------------------------------------------------


def test_an_admin_uploads_on_the_page_and_a_supervisor_downloads_it_signed(
        users, units, test_ca, login_as, client):
    make_task(users["admin"], units["co_to"], at=ict(2026, 11, 13, 9, 0))
    cutoff_through(DAY, ict(2026, 11, 17, 17, 0))
    db.session.commit()
    login_as("admin")
    page = f"/admin/units/{units['province'].id}/report-settings"
    response = client.post(f"/admin/units/{units['province'].id}/signing-key", data={
        "csrf_token": csrf_token(client, page), "passphrase": PASSPHRASE,
        "pkcs12": (io.BytesIO(_p12(test_ca["key"], test_ca["leaf"])), "van-phong.p12")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    assert test_ca["leaf"].fingerprint(hashes.SHA256()).hex() in client.get(page).get_data(
        as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, page)})
    login_as("supervisor")
    report_page = client.get("/reports/daily?date=2026-11-17").get_data(as_text=True)
    assert 'data-testid="download-signed"' in report_page
    response = client.post("/reports/daily/signed.pdf", data={
        "csrf_token": csrf_token(client, "/reports/daily"), "date": "2026-11-17"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert _validate(response.data, test_ca["root"])[1].bottom_line


def test_a_wrong_passphrase_on_the_page_is_a_422_naming_the_file(users, units, test_ca,
                                                                 login_as, client):
    login_as("admin")
    page = f"/admin/units/{units['province'].id}/report-settings"
    response = client.post(f"/admin/units/{units['province'].id}/signing-key", data={
        "csrf_token": csrf_token(client, page), "passphrase": "sai",
        "pkcs12": (io.BytesIO(_p12(test_ca["key"], test_ca["leaf"])), "van-phong.p12")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert 'id="e-pkcs12"' in response.get_data(as_text=True)


def test_the_api_signs_for_the_units_own_supervisor_only(signed_world, users, units, test_ca,
                                                         client):
    from tracker import clock
    from tracker.auth.tokens import create_token

    def post(user, query):
        _token, raw = create_token(None, user, name="t", now=clock.now())
        db.session.commit()
        return client.post(f"/api/v1/reports/daily/signed?{query}",
                           headers={"Authorization": f"Bearer {raw}"})

    response = post(users["supervisor"], "date=2026-11-17")
    assert response.status_code == 200
    assert _validate(response.data, test_ca["root"])[1].bottom_line
    assert post(users["co_to_supervisor"], "date=2026-11-17").status_code == 409  # no key
    assert post(users["co_to_supervisor"],
                f"date=2026-11-17&unit_id={units['province'].id}").status_code == 422
    assert post(users["viewer"], "date=2026-11-17").status_code == 403

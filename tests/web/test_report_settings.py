"""A unit's letterhead for its official reports: set by an admin of its subtree on a page
or through the API (one service), read by the PDF and DOCX downloads."""

from __future__ import annotations

import io

from sqlalchemy import select

from tests.conftest import csrf_token
from tests.factories import make_user
from tracker import clock
from tracker.audit.models import SecurityEvent
from tracker.auth.tokens import create_token
from tracker.extensions import db
from tracker.reports.models import UnitReportSettings

FORM = {"parent_body": "UBND tỉnh Quảng Ninh", "issuing_body": "Văn phòng",
        "symbol": "BC-VP", "place": "Quảng Ninh", "signer_authority": "",
        "signer_title": "Chánh Văn phòng", "signer_name": "Trần Văn Cường",
        "recipients": "Thường trực Tỉnh uỷ (b/c)\r\n\r\nLưu: VT"}


def _page(units) -> str:
    return f"/admin/units/{units['province'].id}/report-settings"


def test_the_page_shows_the_defaults_until_saved(login_as, units):
    client = login_as("admin")
    page = client.get(_page(units)).get_data(as_text=True)
    assert 'value="UBND TỈNH QUẢNG NINH"' in page and 'value="VĂN PHÒNG"' in page
    assert 'value="BC-VP"' in page and 'value="Quảng Ninh"' in page


def test_an_admin_saves_the_letterhead_and_the_downloads_use_it(login_as, units, world):
    from docx import Document

    client = login_as("admin")
    response = client.post(_page(units), data={**FORM,
                                               "csrf_token": csrf_token(client, _page(units))})
    assert response.status_code == 302
    row = db.session.get(UnitReportSettings, units["province"].id)
    assert row.recipients == "Thường trực Tỉnh uỷ (b/c)\nLưu: VT"
    assert db.session.scalars(select(SecurityEvent.kind).where(
        SecurityEvent.kind == "report_settings_changed")).all() == ["report_settings_changed"]
    download = client.get("/reports/daily.docx?date=2026-11-17")
    assert download.status_code == 200
    assert download.mimetype.endswith("wordprocessingml.document")
    document = Document(io.BytesIO(download.data))
    closing = [cell.text for cell in document.tables[-1].rows[0].cells]
    assert "- Thường trực Tỉnh uỷ (b/c);\n- Lưu: VT." in closing[0]
    assert "CHÁNH VĂN PHÒNG" in closing[1] and "Trần Văn Cường" in closing[1]


def test_blank_required_fields_and_a_bad_symbol_are_named(login_as, units):
    client = login_as("admin")
    response = client.post(_page(units), data={
        **FORM, "issuing_body": " ", "symbol": "BC/VP",
        "csrf_token": csrf_token(client, _page(units))})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="e-issuing_body"' in page and 'id="e-symbol"' in page
    assert db.session.get(UnitReportSettings, units["province"].id) is None


def test_an_admin_of_a_commune_cannot_reach_the_province(units, client):
    from tests.conftest import login

    make_user("co_to_admin", "admin", units["co_to"])
    db.session.commit()
    assert login(client, "co_to_admin").status_code == 302
    assert client.get(_page(units)).status_code == 404
    assert client.get(f"/admin/units/{units['co_to'].id}/report-settings").status_code == 200


def _api(client, user, method, url, body=None):
    _token, raw = create_token(None, user, name="t", now=clock.now())
    db.session.commit()
    return client.open(url, method=method, json=body,
                       headers={"Authorization": f"Bearer {raw}"})


def test_the_api_reads_and_sets_the_same_settings(client, users, units):
    url = f"/api/v1/units/{units['ha_long'].id}/report-settings"
    got = _api(client, users["admin"], "GET", url).get_json()
    assert got["customised"] is False and got["parent_body"] == "UBND PHƯỜNG HẠ LONG"
    assert got["place"] == "Hạ Long" and got["signing_certificate"] is None
    body = {**{k: v for k, v in FORM.items() if k != "recipients"},
            "place": "Hạ Long", "recipients": ["Như trên", "Lưu: VT"]}
    response = _api(client, users["admin"], "PUT", url, body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["customised"] is True
    assert response.get_json()["recipients"] == ["Như trên", "Lưu: VT"]
    refused = _api(client, users["admin"], "PUT", url, {**body, "signer_title": "",
                                                        "recipients": [1]})
    assert refused.status_code == 422
    assert set(refused.get_json()["fields"]) == {"signer_title", "recipients"}
    assert _api(client, users["supervisor"], "GET", url).status_code == 403


def test_the_api_downloads_the_docx(client, users, world):
    response = _api(client, users["supervisor"], "GET",
                    "/api/v1/reports/daily?date=2026-11-17&format=docx")
    assert response.status_code == 200 and response.data.startswith(b"PK")

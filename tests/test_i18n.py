"""Vietnamese by default, English on request; every message translated."""

from datetime import UTC, date, datetime
from pathlib import Path

from babel.messages.pofile import read_po

from tracker.labels import dmy, ict

CATALOGS = Path(__file__).resolve().parent.parent / "tracker" / "translations"


def test_every_message_has_a_vietnamese_translation():
    with open(CATALOGS / "vi" / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []


def test_the_template_catalog_is_up_to_date_with_the_code():
    import tempfile

    from babel.messages.frontend import CommandLineInterface

    out = Path(tempfile.mkdtemp()) / "messages.pot"
    root = CATALOGS.parent.parent
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(root / "babel.cfg"),
                                "-k", "_l", "-k", "lazy_gettext", "--no-location",
                                "--sort-output", "-o", str(out), str(root)])
    with open(out, "rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with open(CATALOGS / "vi" / "LC_MESSAGES" / "messages.po", "rb") as f:
        have = {m.id for m in read_po(f) if m.id}
    assert len(wanted) > 50  # the extraction itself worked
    assert wanted - have == set(), "run `make translations` and translate the new messages"


def test_pages_are_in_vietnamese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert "Đăng nhập" in page and 'lang="vi"' in page


def test_english_is_available(client):
    client.get("/lang/en")
    page = client.get("/login").get_data(as_text=True)
    assert "Log in" in page and 'lang="en"' in page


def test_dates_and_times_are_written_dd_mm_yyyy_whatever_the_year(app):
    with app.app_context():
        assert dmy(date(1, 1, 1)) == "01/01/0001"  # strftime would write the year as "1"
        assert dmy(date(2026, 12, 4)) == "04/12/2026"
        assert ict(datetime(2026, 12, 4, 9, 0, 5, tzinfo=UTC)) == "04/12/2026 16:00"
        assert ict(datetime(2026, 12, 4, 9, 0, 5, tzinfo=UTC), seconds=True) \
            == "04/12/2026 16:00:05"

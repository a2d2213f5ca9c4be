"""The SQL twins of the Vietnamese text rules agree with the Python forms on SQLite and
PostgreSQL: a name sorted by the database (`by_name`: ICU's vi collation on PostgreSQL,
the registered `vi` collation on SQLite) is sorted as `sort_key` sorts it, over every unit
name of the country and the hard cases; a folded column matched by `folded_contains` holds
exactly the rows whose folded text contains the folded query."""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert, select
from vietnam_provinces import Province, Ward

from tracker.extensions import db
from tracker.rules.vietnamese import fold, fold_fields, sort_key
from tracker.rules.vietnamese_sql import by_name, folded_contains

HARD_CASES = [
    "a", "A", "à", "À", "ạ", "ã", "Hà An", "Ha Bắc", "Phường 1", "Phường 10", "Phường 2",
    "Xã Ea H'leo", "Xã Ea H’leo", "Xã Ia-Dom", "Xã Ia Dom", "Xã Ia–Dom", "đa", "Đà", "Da",
    "db", "ðb", "Ðồng", "dz", "Nguyễn Văn A (đội 1)", "NV-2026-000001", "nv_2026",
    "Tổ 3, khu 5", "résumé", "resume", "Zeta", "Ơ", "ơ", "ờ", "ỡ", "ư", "u", "ủy", "uỷ",
    "Phường Hoành Bồ", "Phường Hà An", "Phường Việt Hưng", "Phường Vàng Danh",
]


@pytest.fixture
def names_table(app):
    table = Table("vi_twin_names", MetaData(), Column("id", Integer, primary_key=True),
                  Column("name", String(200)), Column("search_text", Text))
    table.create(db.engine)
    try:
        yield table
    finally:
        db.session.rollback()
        table.drop(db.engine)


def test_the_database_sorts_every_unit_name_as_the_python_key_does(names_table):
    names = [w.name for w in Ward.iter_all()] + [p.name for p in Province.iter_all()] + \
        HARD_CASES
    db.session.execute(insert(names_table), [{"name": n} for n in names])
    in_sql = list(db.session.scalars(
        select(names_table.c.name).order_by(by_name(names_table.c.name), names_table.c.id)))
    expected = sorted(names, key=sort_key)
    assert in_sql != sorted(names)  # code-point order differs: the test can fail
    assert in_sql == expected


STORED = [
    ("NV-2026-000001", "Rà soát trụ sở dôi dư", "Phường Hạ Long"),
    ("NV-2026-000002", "Đạt 100% hồ sơ trực tuyến", "Xã Đầm Hà"),
    ("NV-2026-000003", "Cập nhật mau_bieu báo cáo", "Đặc khu Cô Tô"),
    ("NV-2026-000004", "Đường dẫn C:\\hồ sơ", "Phường Hà An"),
    ("NV-2026-000005", "ĐÔN ĐỐC THU NGÂN SÁCH", "Phường Đông Mai"),
]
QUERIES = ["ha long", "HẠ LONG", unicodedata.normalize("NFD", "Phường Hạ Long"), "đ", "d",
           "don doc", "%", "_", "100%", "mau_bieu", "ho_so", "\\", "c:\\ho", "ra  soat",
           "nv-2026-00000", "2026", "xyz", "ha"]


@pytest.mark.parametrize("q", QUERIES)
def test_a_folded_column_matches_what_the_python_fold_finds(names_table, q):
    db.session.execute(insert(names_table), [
        {"id": n, "name": row[1], "search_text": fold_fields(*row)}
        for n, row in enumerate(STORED, start=1)])
    found = set(db.session.scalars(
        select(names_table.c.id).where(folded_contains(names_table.c.search_text, q))))
    expected = {n for n, row in enumerate(STORED, start=1)
                if any(fold(q) in fold(field) for field in row)}
    assert found == expected

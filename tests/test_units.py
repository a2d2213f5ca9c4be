"""The real unit tree from the vietnam-provinces package."""

from collections import Counter

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.units.importer import find_province
from tracker.units.models import Unit, UnitKind
from tracker.units.tree import subtree_ids


def _count(*where):
    return db.session.scalar(select(func.count()).select_from(Unit).where(*where))


def test_quang_ninh_has_54_communes_30_phuong_22_xa_2_dac_khu(units):
    province = units["province"]
    communes = db.session.scalars(select(Unit).where(Unit.parent_id == province.id)).all()
    assert len(communes) == 54
    assert Counter(u.division_type for u in communes) == {"phường": 30, "xã": 22, "đặc khu": 2}
    assert {u.kind for u in communes} == {UnitKind.COMMUNE}
    assert units["ha_long"].name == "Phường Hạ Long"
    assert units["co_to"].name == "Đặc khu Cô Tô"


def test_the_tree_hangs_from_the_nation(units):
    assert units["province"].parent_id == units["nation"].id
    assert units["ha_long"].path == f"/{units['nation'].id}/{units['province'].id}/" \
                                    f"{units['ha_long'].id}/"


def test_subtree_of_the_province_is_itself_and_its_communes(units):
    ids = set(db.session.scalars(subtree_ids(units["province"])))
    assert len(ids) == 55
    assert set(db.session.scalars(subtree_ids(units["co_to"]))) == {units["co_to"].id}


def test_province_is_found_by_name_with_or_without_prefix_or_by_code():
    for query in ("Quảng Ninh", "Tỉnh Quảng Ninh", "quang ninh", "quang_ninh", "22"):
        assert find_province(query).name == "Quảng Ninh"


def test_cli_imports_one_province_and_a_rerun_changes_nothing(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["tracker", "units", "import", "--province", "Quảng Ninh"])
    assert first.exit_code == 0, first.output
    assert "56 created" in first.output  # nation + province + 54 communes
    snapshot = {(u.code, u.name, u.path) for u in db.session.scalars(select(Unit))}
    second = runner.invoke(args=["tracker", "units", "import", "--province", "Quảng Ninh"])
    assert "0 created, 0 updated" in second.output
    db.session.expire_all()
    assert {(u.code, u.name, u.path) for u in db.session.scalars(select(Unit))} == snapshot


def test_cli_imports_the_whole_country(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tracker", "units", "import", "--all"])
    assert result.exit_code == 0, result.output
    assert _count(Unit.kind == UnitKind.PROVINCE) == 34
    assert _count(Unit.kind == UnitKind.COMMUNE) == 3321
    again = runner.invoke(args=["tracker", "units", "import", "--all"])
    assert "0 created, 0 updated" in again.output
    assert _count() == 1 + 34 + 3321


def test_cli_refuses_an_unknown_province(app):
    result = app.test_cli_runner().invoke(
        args=["tracker", "units", "import", "--province", "Atlantis"])
    assert result.exit_code == 2
    assert "no province named 'Atlantis'" in result.output
    assert _count() == 0

"""Vietnamese text rules (tracker.rules.vietnamese): one form (NFC), the folded form a
search compares, and the alphabetical order people learned (CLDR vi)."""

from __future__ import annotations

import unicodedata

import pytest

from tracker.rules.vietnamese import fold, fold_fields, nfc, nfc_deep, sort_key, sorted_by_name


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


@pytest.mark.parametrize("typed", [
    "Phường Hạ Long", "PHƯỜNG HẠ LONG", "phuong ha long", "  Phuong   HA long ",
    nfd("Phường Hạ Long"), nfd("PHƯỜNG HẠ LONG"),
])
def test_every_way_of_typing_a_name_folds_alike(typed):
    assert fold(typed) == "phuong ha long"


@pytest.mark.parametrize("text,folded", [
    ("Đặc khu Vân Đồn", "dac khu van don"),
    ("đường", "duong"),
    ("Ðồng", "dong"),  # U+00D0, the look-alike some keyboards send for Đ
    ("Đạt 100% hồ_sơ", "dat 100% ho_so"),  # LIKE's wildcards are kept, as text
    ("Nghị quyết 18-NQ/TW", "nghi quyet 18-nq/tw"),
    ("", ""),
    (nfd("ỗ ự ậ ặ ẫ"), "o u a a a"),
])
def test_folding_drops_case_and_diacritics_and_reads_d_for_dj(text, folded):
    assert fold(text) == folded


def test_fields_are_folded_apart_so_a_match_never_spans_two():
    assert fold_fields("NV-1", "Rà soát", None, "", "Hạ Long") == "nv-1\nra soat\nha long"


def test_nfc_composes_what_a_decomposing_keyboard_sends():
    assert nfd("Hạ Long") != "Hạ Long"
    assert nfc(nfd("Hạ Long")) == "Hạ Long"


def test_every_string_of_a_json_value_is_composed_however_deep():
    deep: list = [nfd("ạ")]
    for _ in range(5000):  # no recursion
        deep = [deep]
    value = {nfd("tên"): [nfd("Hạ Long"), {"x": nfd("ữ")}, 3, None, True], "deep": deep}
    out = nfc_deep(value)
    assert out["tên"] == ["Hạ Long", {"x": "ữ"}, 3, None, True]
    inner = out["deep"]
    while isinstance(inner, list) and isinstance(inner[0], list):
        inner = inner[0]
    assert inner == ["ạ"]


# What code-point order gets wrong (issue 14): "Hoành Bồ" before "Hà An", "Việt Hưng"
# before "Vàng Danh", every name beginning with Đ after X and Y.
CODE_POINT_ORDER_WRONG = [
    "Phường Hoành Bồ", "Xã Yên Tử", "Phường Việt Hưng", "Đặc khu Vân Đồn", "Phường Hà An",
    "Xã Đầm Hà", "Phường Vàng Danh", "Phường Đông Mai", "Đặc khu Cô Tô", "Phường Bãi Cháy",
    "Xã Quảng Hà",
]
VIETNAMESE_ORDER = [
    "Đặc khu Cô Tô", "Đặc khu Vân Đồn",
    "Phường Bãi Cháy", "Phường Đông Mai", "Phường Hà An", "Phường Hoành Bồ",
    "Phường Vàng Danh", "Phường Việt Hưng",
    "Xã Đầm Hà", "Xã Quảng Hà", "Xã Yên Tử",
]


def test_names_sort_in_the_vietnamese_alphabet():
    assert sorted(CODE_POINT_ORDER_WRONG) != VIETNAMESE_ORDER  # the test can fail
    assert sorted_by_name(CODE_POINT_ORDER_WRONG) == VIETNAMESE_ORDER


def test_the_alphabet_is_a_a_breve_a_circumflex_b_c_d_dj_e_e_circumflex():
    letters = ["a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "g", "h", "i", "k", "l", "m",
               "n", "o", "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "x", "y"]
    assert sorted_by_name(reversed(letters)) == letters


def test_tones_are_a_secondary_difference_in_the_order_ngang_huyen_hoi_nga_sac_nang():
    assert sorted_by_name(["ạ", "á", "ã", "ả", "à", "a"]) == ["a", "à", "ả", "ã", "á", "ạ"]
    # secondary: a tone never outweighs a letter further on
    assert sorted_by_name(["Hà An", "Ha Bắc"]) == ["Hà An", "Ha Bắc"]
    assert sorted_by_name(["Há", "Hà"]) == ["Hà", "Há"]


def test_case_is_only_a_tertiary_difference():
    assert sorted_by_name(["b", "B", "a", "A"]) == ["a", "A", "b", "B"]
    assert sorted_by_name(["Đà", "đa"]) == ["đa", "Đà"]


def test_the_key_is_the_same_for_a_name_typed_composed_or_not():
    assert sort_key(nfd("Phường Hạ Long")) == sort_key("Phường Hạ Long")

"""Vietnamese text as people type and read it: one form for stored text (NFC), the folded
form a search compares (`fold`), and the alphabetical order they learned (`sort_key`).

Pure functions, each the one home of its rule; the SQL twins are in
`tracker.rules.vietnamese_sql` (the folded column's LIKE, the collation a query sorts with)
and the picker's JavaScript twin of `fold` in `tracker/static/js/unit-picker.js`.

- **NFC** (`nfc`, `nfc_deep`): a keyboard may send "ạ" as one code point or as "a" with a
  combining dot below (NFD); both are stored as the one composed form, so that equal words
  are equal strings.
- **Folding** (`fold`): lower case, every diacritic removed, "đ" read as "d", runs of white
  space as one space — "Phường Hạ Long", "PHUONG HA LONG" and "phuong  ha long" all fold
  to "phuong ha long". A search compares folded text with folded text.
- **Order** (`sort_key`): CLDR's `vi` collation — the alphabet a ă â b c d đ e ê g h i k l m
  n o ô ơ p q r s t u ư v x y, the tones a secondary difference in the order ngang, huyền,
  hỏi, ngã, sắc, nặng (a à ả ã á ạ), case a tertiary one (lower first). PostgreSQL sorts
  with ICU's `vi` collation; this key is its pure-Python equal (PyICU needs a C++ build),
  proved against ICU over every unit name of the country by
  tests/rules/test_vietnamese_twins.py.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

NFC = "NFC"


def nfc(value: str) -> str:
    """`value` in Unicode's composed form (NFC)."""
    return unicodedata.normalize(NFC, value)


def nfc_deep(value):
    """A JSON value with every string in it (object keys too) in NFC; without recursion,
    however deep the value is."""
    holder = [value]
    stack: list[tuple[list | dict, object]] = [(holder, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, str):
            container[key] = nfc(item)
        elif isinstance(item, list):
            item = container[key] = list(item)
            stack.extend((item, i) for i in range(len(item)))
        elif isinstance(item, dict):
            item = container[key] = {nfc(k) if isinstance(k, str) else k: v
                                     for k, v in item.items()}
            stack.extend((item, k) for k in item)
    return holder[0]


# "đ" and "Đ", and the look-alike "ð"/"Ð" (U+00F0/U+00D0) some keyboards send for them.
_D = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})


def fold(value: str) -> str:
    """The form a search compares: lower case, no diacritics, "đ" as "d", white space as
    single spaces, no space at either end."""
    decomposed = unicodedata.normalize("NFD", value.translate(_D))
    bare = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))
    return " ".join(bare.lower().split())


# What separates an entity's fields in its stored folded column: no query contains it
# (a query is folded, so it has no line break), so a match never spans two fields.
FIELD_SEPARATOR = "\n"


def fold_fields(*values: str | None) -> str:
    """An entity's searchable fields, each folded, in one text (its `search_text`)."""
    return FIELD_SEPARATOR.join(fold(v) for v in values if v)


# --- the order ------------------------------------------------------------------------------

# The letters in the vi alphabet's order, with the Latin letters Vietnamese does not use
# (f j w z) where the Latin alphabet has them; each is a primary weight.
_ALPHABET = ["a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k", "l",
             "m", "n", "o", "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "w", "x", "y",
             "z"]
_LETTER = {letter: n for n, letter in enumerate(_ALPHABET)}
# A base letter and a modifier that together are a letter of their own (ă â ê ô ơ ư).
_BREVE, _CIRCUMFLEX, _HORN = "\u0306", "\u0302", "\u031b"
_COMPOSED = {("a", _BREVE): "ă", ("a", _CIRCUMFLEX): "â", ("e", _CIRCUMFLEX): "ê",
             ("o", _CIRCUMFLEX): "ô", ("o", _HORN): "ơ", ("u", _HORN): "ư"}
# The tones, a secondary difference in CLDR vi's order: huyền, hỏi, ngã, sắc, nặng.
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_ETH = 10 + ord("ð")
# ICU's root order of ASCII punctuation and symbols (they sort before digits and letters).
_ASCII_MARKS = "_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$"
_MARK = {c: n for n, c in enumerate(_ASCII_MARKS)}

# Primary groups, as in ICU's root collation: spaces, punctuation, symbols, digits, letters,
# then the letters of other scripts.
_SPACE, _PUNCTUATION, _SYMBOL, _DIGIT, _LATIN, _OTHER = range(6)


def _primary(char: str) -> tuple[int, int] | None:
    """The primary weight of one base character; None for one that is ignored (controls)."""
    if char.isspace():
        return (_SPACE, 0)
    if char in _MARK:
        return (_PUNCTUATION, _MARK[char])
    category = unicodedata.category(char)
    if category[0] == "C":
        return None
    if category == "Nd":
        return (_DIGIT, unicodedata.digit(char))
    if category[0] == "P":
        return (_PUNCTUATION, 100 + ord(char))
    if category[0] == "S":
        return (_SYMBOL, ord(char))
    lower = "d" if char in "ðÐ" else char.lower()
    if lower in _LETTER:
        return (_LATIN, _LETTER[lower])
    return (_OTHER, ord(lower))


@lru_cache(maxsize=65536)
def sort_key(value: str) -> tuple:
    """The key that sorts names in Vietnamese order (CLDR vi): letters first, then tones,
    then case; equal keys only for equal strings (the text itself breaks a tie, as
    PostgreSQL does after ICU)."""
    primaries: list[tuple[int, int]] = []
    secondaries: list[tuple[int, ...]] = []
    tertiaries: list[int] = []
    for char in unicodedata.normalize("NFD", value):
        if unicodedata.category(char).startswith("M") and primaries:
            base = _ALPHABET[primaries[-1][1]] if primaries[-1][0] == _LATIN else None
            letter = _COMPOSED.get((base, char)) if base else None
            if letter:
                primaries[-1] = (_LATIN, _LETTER[letter])
            else:
                weight = _TONES.get(char, 10 + ord(char))
                marks = secondaries[-1] if secondaries[-1] != (0,) else ()
                secondaries[-1] = (*marks, weight)
            continue
        primary = _primary(char)
        if primary is None:
            continue
        primaries.append(primary)
        # "ð" (eth, which some keyboards send for "đ") is a "d" with a secondary mark in ICU.
        secondaries.append((_ETH,) if char in "ðÐ" else (0,))
        tertiaries.append(1 if char != char.lower() else 0)
    return (tuple(primaries), tuple(secondaries), tuple(tertiaries), nfc(value))


def sorted_by_name(items, name=lambda item: item):
    """`items` in Vietnamese order of `name(item)`."""
    return sorted(items, key=lambda item: sort_key(name(item)))

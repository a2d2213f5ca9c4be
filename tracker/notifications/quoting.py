"""A user's words quoted in a notification: on one line, cut to a length a phone shows."""

from __future__ import annotations

QUOTE_MAX = 300


def quote(text, *, before_full_stop: bool = False) -> str:
    """`text` on one line, at most `QUOTE_MAX` characters. `before_full_stop`: the message
    puts a full stop right after it, so the text's own is left out ("…số hoá." and then
    ". Xem xét" would read "số hoá..")."""
    text = " ".join(str(text or "").split())
    if len(text) > QUOTE_MAX:
        return text[:QUOTE_MAX - 1] + "…"
    return text.rstrip(".").rstrip() if before_full_stop and not text.endswith("...") \
        else text

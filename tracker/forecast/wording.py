"""The early warning in words, as an official reads it: "hạn còn 4 ngày làm việc, tiến độ
35 %, tốc độ 5 %/ngày → dự kiến 55 % khi đến hạn" (one phrase per `Sign`, in its order)."""

from __future__ import annotations

from flask_babel import gettext as _

from tracker.rules.forecast import Forecast, Sign


def describe_sign(sign: Sign) -> str:
    """One sign in words."""
    v = sign.values
    if sign.code == "deadline":
        return _("deadline in %(left)d working days, progress %(progress)d %%, pace "
                 "%(pace)d %%/day → %(expected)d %% expected at the deadline",
                 left=v[0], progress=v[1], pace=v[2], expected=v[3])
    if sign.code == "streak":
        return _("%(streak)d reporting days missed in a row (%(red)d turn it red)",
                 streak=v[0], red=v[1])
    if sign.code == "record":
        return _("the unit missed its report on %(missed)d of the last %(days)d working days",
                 missed=v[0], days=v[1])
    if sign.code == "returned":
        return _("returned %(n)d times", n=v[0])
    if sign.code == "rejected":
        return _("extension refused %(n)d times", n=v[0])
    return sign.code


def describe(result: Forecast) -> str:
    """The reasons of a forecast in one line, weightiest first."""
    return "; ".join(describe_sign(sign) for sign in result.signs)


def warning_line(result: Forecast) -> str:
    """The line a task's page and the member's /today show: "Sắp chuyển đỏ (khả năng
    62 %): …"."""
    return _("About to turn red (%(risk)d %% likely): %(reasons)s", risk=result.risk,
             reasons=describe(result))


"""Charts drawn on the server as inline SVG: nothing to download, nothing from the internet.

`trend_chart` turns a unit's stored cutoff stats into the coordinates the template draws:
the green rate (tỷ lệ xanh) of each processed cutoff over the last 30 days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28


@dataclass(frozen=True)
class TrendPoint:
    day: date
    rate: float  # 0..1
    colour: str  # the unit's colour at that cutoff
    total: int
    green: int
    x: float
    y: float


@dataclass
class TrendChart:
    start: date
    end: date
    points: list[TrendPoint]
    width: int = WIDTH
    height: int = HEIGHT
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_ticks: list[tuple[float, date]] = field(default_factory=list)

    @property
    def line(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def area(self) -> str:
        """The filled area under the line, as an SVG path."""
        if not self.points:
            return ""
        base = self.height - BOTTOM
        first, last = self.points[0], self.points[-1]
        return (f"M{first.x:.1f},{base} L{self.line.replace(' ', ' L')} "
                f"L{last.x:.1f},{base} Z")

    @property
    def plot(self) -> tuple[int, int, int, int]:
        """The plotting box: left, top, right, bottom."""
        return LEFT, TOP, self.width - RIGHT, self.height - BOTTOM

    @property
    def latest(self) -> TrendPoint | None:
        return self.points[-1] if self.points else None


def trend_chart(stats, end: date, days: int = 30) -> TrendChart:
    """`stats` are UnitDayStat rows (day, colour, `green_rate`, `rated`), oldest first."""
    start = end - timedelta(days=days - 1)
    span = max((end - start).days, 1)
    left, top, right, bottom = LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM

    def x_of(day: date) -> float:
        return left + (right - left) * (day - start).days / span

    def y_of(rate: float) -> float:
        return bottom - (bottom - top) * rate

    points = []
    for stat in stats:
        if not start <= stat.day <= end:
            continue
        rate = stat.green_rate  # the one rule's (tracker.rules.units.green_rate)
        if rate is None:
            continue  # no task counted that day: no point, never 100%
        green, total = stat.rated
        points.append(TrendPoint(stat.day, rate, stat.colour, total, green,
                                 x_of(stat.day), y_of(rate)))
    chart = TrendChart(start=start, end=end, points=points)
    chart.y_ticks = [(y_of(r), f"{round(r * 100)}%") for r in (0, 0.25, 0.5, 0.75, 1)]
    chart.x_ticks = [(x_of(d), d) for d in (start, start + timedelta(days=span // 2), end)]
    return chart

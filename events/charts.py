"""Bar charts drawn on the server as SVG shapes (templates/admin/events/overview.html): no
script, nothing fetched, so the admin's strict Content-Security-Policy holds."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

WIDTH, HEIGHT = 720, 200
LEFT, BOTTOM, TOP = 44, 22, 8  # room for the axis labels
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - 4, HEIGHT - BOTTOM - TOP


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    css_class: str
    title: str  # shown on hover: the day, the series and its count


@dataclass
class Series:
    label: str
    css_class: str
    values: list[int]

    @property
    def total(self) -> int:
        return sum(self.values)


@dataclass
class Chart:
    title: str
    series: list[Series]
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, int]] = field(default_factory=list)  # y, value
    day_labels: list[tuple[float, str]] = field(default_factory=list)  # x, "12-07"
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: float = HEIGHT - BOTTOM

    @property
    def empty(self) -> bool:
        return not any(s.total for s in self.series)


def nice_top(largest: int) -> int:
    """The axis's top: 1, 2 or 5 times a power of ten, at least `largest`."""
    if largest <= 4:
        return 4
    power = 10 ** math.floor(math.log10(largest))
    return int(next(step * power for step in (1, 2, 5, 10) if step * power >= largest))


def stacked_bars(title: str, days: list[date], series: list[Series]) -> Chart:
    """One bar per day, the series stacked in order."""
    chart = Chart(title, series)
    totals = [sum(s.values[n] for s in series) for n in range(len(days))]
    top = nice_top(max(totals, default=0))
    slot = PLOT_WIDTH / max(len(days), 1)
    scale = PLOT_HEIGHT / top
    for n, day in enumerate(days):
        x = LEFT + n * slot + slot * 0.15
        base = chart.baseline
        for s in series:
            count = s.values[n]
            if count:
                height = count * scale
                base -= height
                chart.bars.append(
                    Bar(
                        round(x, 1),
                        round(base, 1),
                        round(slot * 0.7, 1),
                        round(height, 1),
                        s.css_class,
                        f"{day:%m-%d} {s.label}: {count}",
                    )  # fmt: skip
                )
        if n % 5 == 0 or n == len(days) - 1:
            chart.day_labels.append((round(x + slot * 0.35, 1), f"{day:%m-%d}"))
    chart.ticks = [
        (round(chart.baseline - value * scale, 1), value) for value in (0, top // 2, top)
    ]
    return chart

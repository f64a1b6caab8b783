"""The Agreement page's figures as page content: a number shown with 4 decimals (or why there is
none), and the inline SVG bar charts drawn from the same figures as the tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString

# Chart geometry (px): label column, bar area, one bar, gap between a label's bars and rows.
CHART_LABEL_WIDTH = 150
CHART_BAR_WIDTH = 320
CHART_VALUE_WIDTH = 60
CHART_BAR_HEIGHT = 14
CHART_BAR_GAP = 3
CHART_ROW_GAP = 10


# --- Figures as page content ----------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A number as the page shows it: 4 decimals, or "—" with a title saying why there is none."""

    value: float | None
    why: str = "nothing to compare"

    @property
    def text(self) -> str:
        return "—" if self.value is None else f"{self.value:.4f}"

    def __html__(self) -> SafeString:
        if self.value is None:
            return format_html('<span class="wb-none" title="{}">—</span>', self.why)
        return format_html("{}", self.text)

    def __str__(self) -> str:
        return self.__html__()


def figure(section: Any, key: str, why: str) -> Figure:
    value = section.get(key) if isinstance(section, dict) else None
    return Figure(value if isinstance(value, (int, float)) else None, why)


@dataclass(frozen=True)
class Bar:
    series: int
    name: str
    figure: Figure
    y: int
    width: int


@dataclass(frozen=True)
class ChartRow:
    label: str
    y: int  # where the label's text sits
    bars: list[Bar]


@dataclass(frozen=True)
class Chart:
    title: str
    series: list[str]
    rows: list[ChartRow]
    height: int
    label_width: int = CHART_LABEL_WIDTH
    bar_width: int = CHART_BAR_WIDTH

    @property
    def width(self) -> int:
        return self.label_width + self.bar_width + CHART_VALUE_WIDTH

    @property
    def value_x(self) -> int:
        return self.label_width + 6


def chart(title: str, series: list[str], rows: list[tuple[str, list[Figure]]]) -> Chart | None:
    """Horizontal bars, one group per label that has a figure; None when no label has one."""
    drawn = [(label, figures) for label, figures in rows if any(f.value is not None for f in figures)]
    if not drawn:
        return None
    chart_rows = []
    y = 0
    for label, figures in drawn:
        bars = []
        for index, (name, fig) in enumerate(zip(series, figures, strict=True)):
            width = round(max(0.0, min(1.0, fig.value or 0.0)) * CHART_BAR_WIDTH)
            bars.append(Bar(index, name, fig, y + index * (CHART_BAR_HEIGHT + CHART_BAR_GAP), width))
        group_height = len(series) * (CHART_BAR_HEIGHT + CHART_BAR_GAP) - CHART_BAR_GAP
        chart_rows.append(ChartRow(label, y + group_height // 2 + 4, bars))
        y += group_height + CHART_ROW_GAP
    return Chart(title, series, chart_rows, y - CHART_ROW_GAP)

"""Geometry of the server-rendered SVG charts (seat usage, sales funnel).

Templates draw the shapes; this module only computes where they go, so a chart is
plain markup (no JavaScript, readable by screen readers through its title, its
description and the table printed beside it) and its numbers are tested in Python.
Right-to-left pages get a time axis that runs from the right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    text_x: float  # where the value is printed (centre of the bar)
    text_y: float


@dataclass(frozen=True)
class ColumnChart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    limit: int  # the value of the dashed line (capacity), 0 for none
    limit_y: float
    top: int  # the largest value the axis shows


def column_chart(
    values: Sequence[tuple[str, int]], *, limit: int = 0, width: int = 640, height: int = 200, rtl: bool = False
) -> ColumnChart:
    """Vertical bars of `values` (label, value) from the start of the axis, with an
    optional dashed `limit` line (seats the workspace has)."""
    top = max([limit, *(value for _label, value in values), 1])
    plot_top, baseline = 20.0, float(height - 24)
    usable = baseline - plot_top
    slot = width / max(len(values), 1)
    bar_width = max(slot * 0.7, 1.0)
    bars = []
    for index, (label, value) in enumerate(values):
        bar_height = usable * value / top
        x = index * slot + (slot - bar_width) / 2
        if rtl:
            x = width - x - bar_width
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(x, 1),
                y=round(baseline - bar_height, 1),
                width=round(bar_width, 1),
                height=round(bar_height, 1),
                text_x=round(x + bar_width / 2, 1),
                text_y=round(baseline - bar_height - 4, 1),
            )
        )
    limit_y = round(baseline - usable * limit / top, 1) if limit else 0.0
    return ColumnChart(width, height, baseline, bars, limit, limit_y, top)


@dataclass(frozen=True)
class FunnelBar:
    name: str
    count: int
    amount: Decimal
    conversion_to_next: Decimal | None
    x: float
    y: float
    width: float
    label_y: float  # the stage's name and figures, above its bar
    arrow_y: float  # the conversion arrow below it (when there is a next stage)


@dataclass(frozen=True)
class FunnelChart:
    width: int
    height: int
    centre: float
    bar_height: int
    bars: list[FunnelBar]


ROW_LABEL, ROW_BAR, ROW_ARROW = 22, 30, 26


def funnel_chart(stages: Sequence, *, width: int = 640) -> FunnelChart:
    """One centred bar per stage, as wide as its share of the widest stage (so the
    shape is a funnel in either reading direction), its name above and the conversion
    to the next stage in an arrow below. `stages` are crm.reports FunnelStage rows."""
    top = max([stage.reached_count for stage in stages] + [1])
    bars, y = [], 0.0
    for index, stage in enumerate(stages):
        bar_width = max(width * stage.reached_count / top, 2.0)
        label_y = y + ROW_LABEL - 6
        bar_y = y + ROW_LABEL
        bars.append(
            FunnelBar(
                name=stage.name,
                count=stage.reached_count,
                amount=stage.reached_amount,
                conversion_to_next=stage.conversion_to_next,
                x=round((width - bar_width) / 2, 1),
                y=bar_y,
                width=round(bar_width, 1),
                label_y=label_y,
                arrow_y=bar_y + ROW_BAR + 18,
            )
        )
        y = bar_y + ROW_BAR + (ROW_ARROW if index + 1 < len(stages) else 4)
    return FunnelChart(width=width, height=int(y) + 2, centre=width / 2, bar_height=ROW_BAR, bars=bars)


@dataclass(frozen=True)
class RowBar:
    label: str
    value: int
    x: float
    y: float
    width: float
    label_x: float  # where the label starts (the start edge: right in right-to-left pages)
    label_y: float


@dataclass(frozen=True)
class RowChart:
    width: int
    height: int
    bar_height: int
    direction: str  # "ltr" or "rtl", for the labels' text-anchor="start"
    bars: list[RowBar]


ROW_STEP, ROW_LABEL_Y, ROW_BAR_Y, ROW_BAR_HEIGHT = 36, 14, 19, 12


def row_chart(values: Sequence[tuple[str, int]], *, width: int = 400, rtl: bool = False) -> RowChart:
    """Horizontal bars of `values` (label, value), one row each with its label above,
    growing from the start edge (the right one in right-to-left pages); small enough
    for a dashboard widget on a phone."""
    top = max([value for _label, value in values] + [1])
    bars = []
    for index, (label, value) in enumerate(values):
        bar_width = max(width * value / top, 2.0) if value else 0.0
        y = index * ROW_STEP
        bars.append(
            RowBar(
                label=label,
                value=value,
                x=round(width - bar_width if rtl else 0.0, 1),
                y=y + ROW_BAR_Y,
                width=round(bar_width, 1),
                label_x=float(width) if rtl else 0.0,
                label_y=y + ROW_LABEL_Y,
            )
        )
    height = max(len(values), 1) * ROW_STEP
    return RowChart(width, height, ROW_BAR_HEIGHT, "rtl" if rtl else "ltr", bars)

"""crm.charts.row_chart: the dashboard funnel's bars grow from the start edge."""

from __future__ import annotations

from crm.charts import row_chart


def test_bars_are_as_long_as_their_share_of_the_longest_and_start_on_the_left():
    chart = row_chart([("New", 4), ("Proposal", 2), ("Negotiation", 0)], width=400)
    assert [(bar.x, bar.width) for bar in chart.bars] == [(0.0, 400.0), (0.0, 200.0), (0.0, 0.0)]
    assert [bar.label_x for bar in chart.bars] == [0.0, 0.0, 0.0]
    assert chart.direction == "ltr" and chart.height == 3 * 36
    assert chart.bars[1].y > chart.bars[0].y and chart.bars[0].label_y < chart.bars[0].y


def test_right_to_left_bars_start_on_the_right_and_labels_with_them():
    chart = row_chart([("New", 4), ("Proposal", 1)], width=400, rtl=True)
    assert [(bar.x, bar.width) for bar in chart.bars] == [(0.0, 400.0), (300.0, 100.0)]
    assert [bar.label_x for bar in chart.bars] == [400.0, 400.0] and chart.direction == "rtl"


def test_a_tiny_share_still_shows_a_sliver_and_no_values_draw_nothing():
    assert row_chart([("Big", 10_000), ("Tiny", 1)]).bars[1].width == 2.0
    assert row_chart([]).bars == []

"""The SVG chart geometry (mentoring/charts.py): axes that read right."""

import pytest

from mentoring import charts


def _labels(chart):
    return [tick["label"] for tick in chart.y_ticks]


@pytest.mark.parametrize(
    ("values", "labels"),
    [
        ([0, 1], ["0", "1"]),
        ([2, 1], ["0", "1", "2"]),
        ([3, 0], ["0", "1", "2", "3"]),
        ([7, 1], ["0", "2", "4", "6", "8"]),
        ([0, 0], ["0", "1"]),
    ],
)
def test_a_count_axis_is_marked_in_whole_numbers(values, labels):
    chart = charts.bar_chart(["Jan", "Feb"], [("Referrals", values)], title="t", description="d")
    assert _labels(chart) == labels


def test_an_axis_of_hours_keeps_its_fractions():
    chart = charts.bar_chart(["Jan"], [("Hours", [1.5])], title="t", description="d")
    assert _labels(chart) == ["0", "0.5", "1", "1.5", "2"]


def test_the_top_tick_is_at_the_top_of_the_plot_whatever_the_count():
    for top in (1, 2, 3, 40):
        chart = charts.bar_chart(["Jan"], [("Starts", [top])], title="t", description="d")
        assert chart.y_ticks[0]["y"] == f"{chart.plot_bottom:.1f}"
        assert chart.y_ticks[-1]["y"] == f"{chart.top:.1f}"

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


def _year(year, starts=0, rate=None, cohort=0, low=None, high=None):
    return {
        "year": year,
        "starts": starts,
        "intake_reoffending_rate": rate,
        "intake_cohort": cohort,
        "intake_reoffenders": round((rate or 0) * cohort),
        "wilson_low": low,
        "wilson_high": high,
    }


def _areas():
    first = {"name": "First", "years": [_year(1, 3), _year(2, 30), _year(3, 12)]}
    second = {"name": "Second", "years": [_year(1, 5, 0.5, 4, 0.15, 0.85)]}
    return first, second


def test_year_panels_draw_the_reference_in_every_panel_on_one_axis():
    first, second = _areas()
    panels = charts.year_panels(
        [first, second], first, lambda y: y["starts"], title="Starts per year"
    )
    assert [panel.title for panel in panels] == [
        "Starts per year: First",
        "Starts per year: Second",
    ]
    reference = panels[0].paths[0]["d"]
    assert all(panel.paths[0]["d"] == reference for panel in panels)
    assert reference.startswith("M") and reference.count("L") == 2
    # One axis for every panel, marked in whole numbers.
    assert _labels(panels[0]) == _labels(panels[1]) == ["0", "6", "12", "18", "24", "30"]
    assert [len(panel.items) for panel in panels] == [3, 1]


def test_year_panels_of_a_rate_have_whiskers_and_skip_years_without_one():
    first, second = _areas()
    panels = charts.year_panels(
        [first, second],
        first,
        lambda y: y["intake_reoffending_rate"],
        title="Reoffending",
        rate=True,
    )
    assert panels[0].items == [] and panels[0].paths[0]["d"] == ""
    [point] = panels[1].items
    assert point["hollow"]  # an intake of 4 people
    assert float(point["y_low"]) > float(point["y"]) > float(point["y_high"])
    assert _labels(panels[1]) == ["0%", "25%", "50%", "75%", "100%"]

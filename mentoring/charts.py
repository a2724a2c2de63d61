"""
Charts drawn on the server as SVG: readable without JavaScript and under a strict Content
Security Policy (no inline scripts or styles: colours are SVG presentation attributes).

Each function turns figures into plain geometry (numbers and strings) that a template in
``templates/mentoring/charts/`` draws; Django's auto-escaping covers every label. The
figures themselves come from ``metrics``; nothing is computed here but positions.

A chart is drawn once, 720 units wide, and scales to the width of the screen. On a phone
that is half size, so static/css/sos.css draws the text at up to 24 units there (its
attributes say 11 or 12, for desktops): the margins below leave room for text that size,
and ticks marked ``minor`` are left out on phones.
"""

from dataclasses import dataclass, field

from .metrics import SMALL_COHORT

PALETTE = ["#1f5f8b", "#e07b00", "#2e8540", "#8a3ffc", "#b02a37"]
BASELINE_COLOURS = ["#6c757d", "#9c6500", "#6f42c1"]
# The width of a character, with a margin, of the row labels as desktops draw them (12
# units) and of the largest text phones draw (24 units).
CHAR_WIDTH = 8
PHONE_CHAR_WIDTH = 14
# The interval chart's row labels are cut to whole words within these lengths, so that
# the plot keeps its room: phones, whose text is twice the size, show the shorter. The
# row's tooltip and the table beside the chart have the whole name.
MAX_ROW_LABEL = 24
MAX_PHONE_ROW_LABEL = 13


@dataclass
class Chart:
    width: int
    height: int
    title: str
    description: str
    left: int = 76
    right: int = 16
    top: int = 16
    bottom: int = 44
    items: list = field(default_factory=list)
    y_ticks: list = field(default_factory=list)
    x_ticks: list = field(default_factory=list)
    legend: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    paths: list = field(default_factory=list)

    @property
    def plot_width(self):
        return self.width - self.left - self.right

    @property
    def plot_height(self):
        return self.height - self.top - self.bottom

    @property
    def plot_bottom(self):
        return self.top + self.plot_height

    @property
    def plot_right(self):
        return self.left + self.plot_width


def _at(value):
    """
    A coordinate as SVG text, to a tenth with a dot: handed to the template as a number,
    Django would localise it (a decimal comma breaks SVG) at a cost per number, and a
    dashboard draws about a thousand.
    """
    return f"{value:.1f}"


def _nice_max(value):
    """A round number at or above ``value`` for the top of an axis."""
    if value <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 4:
            return step * (int(value // step) + (value % step > 0))
    magnitude = 10 ** (len(str(int(value))) - 1)
    return magnitude * (int(value // magnitude) + 1)


def _y_ticks(chart, top_value, count=4, fmt="{:g}"):
    for i in range(count + 1):
        value = top_value * i / count
        y = chart.plot_bottom - chart.plot_height * i / count
        chart.y_ticks.append({"y": _at(y), "label": fmt.format(value)})


def bar_chart(categories, series, *, title, description, width=720, height=240, label_every=1):
    """
    Grouped bars: ``categories`` along x (e.g. months), ``series`` a list of
    ``(name, values)`` with one value per category.
    """
    chart = Chart(width, height, title, description)
    top_value = _nice_max(max((v for _, values in series for v in values), default=0))
    # Counts are whole: an axis of 0-2 referrals is marked 0, 1, 2, not 0.5 and 1.5.
    whole = all(float(v).is_integer() for _, values in series for v in values)
    _y_ticks(chart, top_value, count=top_value if whole and top_value < 4 else 4)
    slot = chart.plot_width / max(1, len(categories))
    bar = max(1.0, (slot * 0.8) / max(1, len(series)))
    for i, category in enumerate(categories):
        x0 = chart.left + slot * i + slot * 0.1
        for j, (name, values) in enumerate(series):
            value = values[i]
            h = chart.plot_height * value / top_value
            chart.items.append(
                {
                    "x": _at(x0 + bar * j),
                    "y": _at(chart.plot_bottom - h),
                    "w": _at(bar),
                    "h": _at(h),
                    "fill": PALETTE[j % len(PALETTE)],
                    "title": f"{category}: {value:g} {name.lower()}",
                }
            )
        if i % label_every == 0:
            # A label starts under its bars, clear of the y axis's "0"; every other one is
            # left out on phones, where they would touch.
            minor = (i // label_every) % 2 == 1
            chart.x_ticks.append({"x": _at(x0), "label": category, "minor": minor})
    chart.legend = [
        {"name": name, "fill": PALETTE[j % len(PALETTE)]} for j, (name, _) in enumerate(series)
    ]
    return chart


def _shorten(name, limit):
    """``name`` in at most ``limit`` characters: its first whole words, then "…"."""
    if len(name) <= limit:
        return name
    words = []
    for word in name.split():
        if len(" ".join([*words, word])) > limit - 1:
            break
        words.append(word)
    short = " ".join(words) or name[: limit - 1]
    return short.rstrip(" ,&-") + "\u2026"


def interval_chart(rows, baselines, *, title, description, width=720, row_height=44):
    """
    One row per scope: the rate as a dot with its 95% interval as a whisker, on a 0-100%
    axis, with context baselines as dashed lines (their legend is the figure's caption,
    where long labels can wrap). ``rows`` holds dicts with ``label``, ``rate``, ``low``,
    ``high`` and ``small`` (a small cohort); rows without a rate show "no cohort yet".
    """
    marks = [" *" if row.get("small") else "" for row in rows]
    labels = [_shorten(row["label"], MAX_ROW_LABEL) + m for row, m in zip(rows, marks, strict=True)]
    shorts = [
        _shorten(row["label"], MAX_PHONE_ROW_LABEL) + m for row, m in zip(rows, marks, strict=True)
    ]
    # The labels' column is as wide as the longest label needs, on desktops and on phones.
    left = max(
        120,
        24 + CHAR_WIDTH * max(map(len, labels), default=0),
        24 + PHONE_CHAR_WIDTH * max(map(len, shorts), default=0),
    )
    chart = Chart(width, 0, title, description, left=left, right=40, bottom=40)
    chart.height = chart.top + row_height * len(rows) + chart.bottom

    def x_of(rate):
        return _at(chart.left + chart.plot_width * rate)

    for i in range(0, 101, 25):
        chart.x_ticks.append({"x": x_of(i / 100), "label": f"{i}%"})
    for i, (row, label, short) in enumerate(zip(rows, labels, shorts, strict=True)):
        y = chart.top + row_height * i + row_height / 2
        item = {
            "y": _at(y),
            "whisker_top": _at(y - 8),
            "whisker_bottom": _at(y + 8),
            "label": label,
            "short": short,
            "name": row["label"],
            "small": row.get("small", False),
        }
        if row.get("rate") is not None:
            item.update(
                x=x_of(row["rate"]),
                x_low=x_of(row["low"]),
                x_high=x_of(row["high"]),
                title=(
                    f"{row['label']}: {row['rate']:.0%} "
                    f"(95% interval {row['low']:.0%} to {row['high']:.0%})"
                ),
            )
        chart.items.append(item)
    for k, (label, value) in enumerate(baselines):
        colour = BASELINE_COLOURS[k % len(BASELINE_COLOURS)]
        chart.lines.append(
            {
                "x": x_of(value),
                "label": f"Context: {label}, {value:.1%}",
                "colour": colour,
            }
        )
    return chart


def step_chart(points, ticks, *, title, description, x_max=365, width=720, height=300):
    """
    A Kaplan-Meier curve: ``points`` are ``(day, survival)`` from day 0, drawn as steps on
    a 0-100% axis; ``ticks`` are ``(day, number_at_risk)`` shown under the x axis.
    """
    # Under the plot: the days, the numbers at risk, the axis title, a row each.
    chart = Chart(width, height, title, description, left=120, right=32, bottom=100)
    _y_ticks(chart, 100, count=4, fmt="{:g}%")

    def x_of(day):
        return _at(chart.left + chart.plot_width * min(day, x_max) / x_max)

    def y_of(survival):
        return _at(chart.plot_bottom - chart.plot_height * survival)

    path = []
    for day, survival in points:
        step = f"H{x_of(day)}V{y_of(survival)}"
        path.append(step if path else f"M{x_of(day)},{y_of(survival)}")
    chart.items = [{"d": " ".join(path), "colour": PALETTE[0]}]
    chart.x_ticks = [
        {"x": x_of(day), "label": str(day), "at_risk": "" if n is None else n} for day, n in ticks
    ]
    return chart


# Replication: small multiples, one panel per area, each against the reference area -----

REFERENCE_COLOUR = "#6c757d"


def _year_ticks(chart, x_of, last_year):
    """Year labels: about ten on a desktop; on phones every other one of them."""
    step = max(1, -(-last_year // 10))
    for year in range(1, last_year + 1, step):
        minor = (year - 1) // step % 2 == 1
        chart.x_ticks.append({"x": x_of(year), "label": str(year), "minor": minor})


def _path(points):
    """An SVG path through ``(x, y)`` points, broken where a point is None."""
    parts, move = [], True
    for point in points:
        if point is None:
            move = True
            continue
        parts.append(f"{'M' if move else 'L'}{point[0]},{point[1]}")
        move = False
    return " ".join(parts)


def year_panels(areas, reference, value, *, title, rate=False, width=720, height=300):
    """
    Small multiples of one figure by programme year: a panel (``Chart``) per area in
    ``areas`` (the replication figures' boroughs), on the same axes, each with the
    reference area's line in grey for comparison. ``value(year)`` is the figure of a year
    (None where there is none). With ``rate`` the axis is 0-100% and each year's value has
    its 95% interval as a whisker (``wilson_low``, ``wilson_high``) and, for a small
    intake, a hollow dot.
    """
    last_year = max((len(area["years"]) for area in areas), default=0) or 1
    if rate:
        top_value = 1
    else:
        top_value = _nice_max(
            max((value(y) or 0 for area in areas for y in area["years"]), default=0)
        )
    reference_years = reference["years"] if reference else []
    panels = []
    for area in areas:
        chart = Chart(
            width,
            height,
            f"{title}: {area['name']}",
            (
                f"{title} by programme year in {area['name']}"
                + (f", with {reference['name']} in grey" if reference else "")
                + "; the table below has the figures."
            ),
            left=88,
            right=28,
            top=20,
            bottom=56,
        )
        if rate:
            _y_ticks(chart, 100, fmt="{:g}%")
        else:
            # Counts are whole: marks at whole numbers only (0, 6, 12... for a top of 30).
            count = next(n for n in (4, 5, 3, 2, 1) if top_value % n == 0)
            _y_ticks(chart, top_value, count=min(count, top_value))

        def x_of(year, chart=chart):
            return _at(chart.left + chart.plot_width * (year - 0.5) / last_year)

        def y_of(amount, chart=chart):
            return _at(chart.plot_bottom - chart.plot_height * amount / top_value)

        _year_ticks(chart, x_of, last_year)

        def points(years):
            return [None if value(y) is None else (x_of(y["year"]), y_of(value(y))) for y in years]

        chart.paths = [
            {"d": _path(points(reference_years)), "colour": REFERENCE_COLOUR, "width": 2},
            {"d": _path(points(area["years"])), "colour": PALETTE[0], "width": 3},
        ]
        for year in area["years"]:
            amount = value(year)
            if amount is None:
                continue
            item = {"x": x_of(year["year"]), "y": y_of(amount), "hollow": False}
            if rate:
                cohort = year["intake_cohort"]
                item.update(
                    y_low=y_of(year["wilson_low"]),
                    y_high=y_of(year["wilson_high"]),
                    hollow=cohort < SMALL_COHORT,
                    title=(
                        f"Year {year['year']}: {year['intake_reoffenders']} of {cohort} "
                        f"({amount:.0%}, 95% interval {year['wilson_low']:.0%} to "
                        f"{year['wilson_high']:.0%})"
                    ),
                )
            else:
                item["title"] = f"Year {year['year']}: {amount:g}"
            chart.items.append(item)
        panels.append(chart)
    return panels

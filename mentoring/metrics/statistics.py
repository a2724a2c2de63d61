"""
The arithmetic of the figures, on plain numbers, with no database: the Wilson interval of a
rate, Kaplan-Meier tables and summaries of histograms {(day, event): clients}, and the
median of a histogram {value: count}.
"""

import math
from collections import defaultdict

WILSON_Z = 1.959964  # two-sided 95%
MIN_AT_RISK = 10  # survival curves stop where fewer remain at risk


def wilson_interval(successes, n, z=WILSON_Z):
    """Wilson score interval for a proportion; (None, None) when n is 0."""
    if n == 0:
        return None, None
    p = successes / n
    denominator = 1 + z * z / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - margin) / denominator), min(1.0, (centre + margin) / denominator)


def kaplan_meier(histogram):
    """
    The Kaplan-Meier table of a histogram {(day, event): clients}: one row per distinct
    day, ascending, with ``day``, ``at_risk`` (clients whose time is ``day`` or later, so
    those censored on ``day`` are still at risk on it), ``events``, ``censored`` and
    ``survival`` S(day) = product over event days t <= day of (1 - events / at_risk).
    """
    at_risk = sum(histogram.values())
    survival = 1.0
    table = []
    for day in sorted({day for day, _event in histogram}):
        events = histogram.get((day, True), 0)
        censored = histogram.get((day, False), 0)
        if events:
            survival *= 1 - events / at_risk
        table.append(
            {
                "day": day,
                "at_risk": at_risk,
                "events": events,
                "censored": censored,
                "survival": survival,
            }
        )
        at_risk -= events + censored
    return table


def km_summary(histogram, days):
    """
    ``([(survival_at(table, d), at_risk_on(table, d)) for d in days], km_median(table))``
    for ``table = kaplan_meier(histogram)``, in one pass and without building the table: a
    network dashboard's figures need it for every borough and the network, two histograms
    each. ``days`` ascending.
    """
    by_day = defaultdict(lambda: [0, 0])  # day: [events, censored]
    for (day, event), clients in histogram.items():
        by_day[day][0 if event else 1] += clients
    at_risk = sum(histogram.values())
    survival = 1.0
    median = None
    points = []
    pending = list(days)
    for day in sorted(by_day):
        events, censored = by_day[day]
        while pending and pending[0] < day:  # S from the rows before; at risk on this row
            points.append((survival, at_risk))
            pending.pop(0)
        before = at_risk
        if events:
            survival *= 1 - events / at_risk
        while pending and pending[0] == day:  # S includes this row
            points.append((survival, before))
            pending.pop(0)
        if median is None and survival <= 0.5:
            median = day
        at_risk -= events + censored
    # Past the last row: nobody was followed that long (unless S already reached 0).
    tail = None if not by_day or survival > 0 else survival
    points.extend((tail, 0) for _ in pending)
    return points, median


def survival_at(table, day):
    """
    S(day) from a Kaplan-Meier table, or None where the data cannot tell: nobody was
    followed up to ``day`` (and the curve had not already reached 0).
    """
    if not table:
        return None
    survival = 1.0
    for row in table:
        if row["day"] > day:
            break
        survival = row["survival"]
    if table[-1]["day"] < day and survival > 0:
        return None
    return survival


def at_risk_on(table, day):
    """How many were still followed on ``day`` (their time is ``day`` or later)."""
    return next((row["at_risk"] for row in table if row["day"] >= day), 0)


def km_median(table):
    """The first day on which S falls to one half or below; None if it never does."""
    return next((row["day"] for row in table if row["survival"] <= 0.5), None)


def survival_curve(table, min_at_risk=MIN_AT_RISK):
    """
    The points a page draws from a ``kaplan_meier`` table: S = 1 on day 0 with everyone at
    risk (unless the table has its own day-0 row), then each row while at least
    ``min_at_risk`` remain at risk. Empty when fewer than ``min_at_risk`` are observed at
    all.
    """
    total = table[0]["at_risk"] if table else 0  # everyone is at risk on the first row
    if total < min_at_risk:
        return []
    points = [row for row in table if row["at_risk"] >= min_at_risk]
    if table[0]["day"] == 0:
        return points
    start = {"day": 0, "at_risk": total, "events": 0, "censored": 0, "survival": 1.0}
    return [start, *points]


def histogram_median(histogram):
    """The median of a histogram {value: count}, as a float; None when it is empty."""
    total = sum(histogram.values())
    if not total:
        return None
    # The middle position(s), 0-based: one for an odd total, the two either side otherwise.
    wanted = sorted({(total - 1) // 2, total // 2})
    values, seen = [], 0
    for value in sorted(histogram):
        seen += histogram[value]
        while wanted and wanted[0] < seen:
            values.append(value)
            wanted.pop(0)
        if not wanted:
            break
    return sum(values) / len(values)

"""
The programme's outcome figures, computed in SQL for a scope of boroughs as of a date.

Definitions: docs/figures.md. Every date window is counted in whole
days through ``EpochDay`` (days since 1970-01-01), so that SQLite, PostgreSQL and Python
agree to the day: no timestamp arithmetic, no time zones.

Pages, exports and management commands all read their figures from here
(``from mentoring import metrics``). The public API, and the module each part lives in:

``report(scope, as_of)`` (``reports``)
    ``{"as_of", "network", "boroughs"}``: the figures (``FIGURES``) for the whole scope
    and for each borough in it (each also with ``slug`` and ``name``). 19 queries with
    nothing cached, 3 with every borough cached (``scope_parts``, ``borough_parts``).
``dashboard(scope, as_of)`` (``reports``)
    ``report`` plus everything a dashboard draws: ``monthly``, ``closures_by_reason``,
    ``mentor_load``, ``support_areas``, ``milestones``, ``reoffending_curve``,
    ``programme_length`` and ``baselines``. 22 queries with nothing cached, 5 with
    everything cached.
``monthly_activity``, ``closures_by_reason``, ``mentor_load``, ``support_areas_covered``,
``milestones_achieved``, ``reoffending_curve``, ``programme_length`` ``(scope, as_of)``
(``pieces``)
    One piece each, a fixed number of queries each.
``sustained_employment(scope, as_of)`` / ``with_sustained_employment(report, scope,
as_of)`` (``employment``)
    Clients who held a job or apprenticeship for 13 and 26 weeks (``SUSTAINED_FIGURES``),
    per borough and for the scope, read fresh rather than from the figures cache: 2
    queries alone, 1 added to a report.
``pathway(scope, as_of)`` / ``with_pathway(report, scope, as_of)`` (``pathway``)
    The peer pathway (``PATHWAY_FIGURES``): clients who reached each step, and mentors
    who were clients, with their share and the median days from support to mentoring,
    per borough and for the scope, read fresh: 3 queries alone, 2 added to a report.
``outcomes(clients, as_of)`` / ``outcomes_by_borough(clients, as_of)`` (``definitions``)
    The same figures for any client queryset (whole, or keyed by borough id).
``kaplan_meier``, ``survival_curve``, ``survival_at``, ``wilson_interval`` (``statistics``),
``baselines`` (``definitions``)
    The pure arithmetic, for tests and for pages that draw their own tables.
``report_json(report)`` / ``write_report_csv(report, stream)`` (``export``)
    The one export format for the command and the CSV downloads: money as numbers with two
    decimals in JSON and as ``1234.50`` text in CSV, rates as fractions, null/empty where a
    denominator is 0.
``replication(scope, as_of)`` / ``write_replication_csv(data, stream)`` (``replication``)
    Each area by programme year (its own age) beside the first area: ``{"as_of",
    "reference_borough", "boroughs"}``, each borough with its ``years`` (``YEAR_KEYS``).
    7 queries, however many areas and years.
``impact(scope, start, end, as_of)`` (``impact``)
    The funders' impact report of the clients started in a period: work, outcomes, cost
    and who they are, every count of people published by the rules for figures that leave
    the programme (``published``, ``breakdown``). 18 queries.
``borough_parts``, ``scope_parts`` (``cache``)
    The figures cache the report and the dashboard are summed from.

The modules, each with one job, each importing only those listed above it:

``windows``
    Every window of days the figures and the pages count in, each defined once
    (``NEEDS_CONTACT_DAYS``, ``ACTIVITY_DAYS``, ``FOLLOW_UP_DAYS``...).
``statistics``
    Wilson interval, Kaplan-Meier, medians: arithmetic on plain numbers.
``sql``
    What the queries are built on: scopes, whose cases a query reads (``Cases`` and the
    shards of a borough's cases), ``EpochDay``.
``definitions``
    What docs/figures.md defines: index date, proven reoffence, cohort, contact; the additive
    tallies per shard; every figure of a scope from its tally.
``pieces``
    The rest of a dashboard: activity per month, closures, mentor load, support areas,
    milestones, the Kaplan-Meier curves.
``employment``
    Sustained employment, from ``sql`` and ``windows`` alone.
``pathway``
    The peer pathway, from ``sql`` and ``statistics`` alone.
``cache``
    The figures cache. The names it looks up when called (``BLOCK``, ``borough_parts``,
    ``_case_parts``...) are read there: a test replaces them in ``metrics.cache``.
``reports``
    ``report`` and ``dashboard`` of a scope, from the cache.
``export``
    The report as rows, JSON and CSV.
``replication``
    Each area's figures by programme year, from the definitions above.
``impact``
    The impact report of a period's clients, from the definitions and pieces above.

A ``scope`` is a Borough queryset (normally ``Borough.objects.for_user(user)``, the one
scoping entry point), a single Borough, a list of borough ids, or None for every borough.

Every figure is built from per-borough tallies: counts, and grouped histograms of days
(for the medians and the Kaplan-Meier curves). Tallies add up, so the network figures are
the sum of the boroughs' tallies, not a second computation, and the number of queries does
not grow with the data: Python only walks the distinct days of a histogram (at most 366 for
reoffending, a few thousand for programme length), never the clients.
"""

from .cache import CACHE_ERRORS, PARTS_FORMAT, Parts, Share, borough_parts, scope_parts
from .definitions import (
    BASELINES,
    BENCHMARK_COST,
    CENTS,
    FIGURES,
    SMALL_COHORT,
    Tally,
    awaiting_outcome,
    baselines,
    in_cohort,
    index_day,
    outcomes,
    outcomes_by_borough,
    proven_reoffences,
    reoffenders,
    with_outcome_flags,
)

# Read by the tests of how reoffending is counted (tests/test_reoffending.py).
from .definitions import _awaiting_counts as _awaiting_counts
from .definitions import _reoffending as _reoffending
from .employment import SUSTAINED_FIGURES, sustained_employment, with_sustained_employment
from .export import (
    NETWORK_NAME,
    REPORT_COLUMNS,
    csv_value,
    report_json,
    report_rows,
    write_csv,
    write_report_csv,
)
from .followups import FOLLOWUP_FIGURES, followups, with_followups
from .impact import AGE_BANDS, BREAKDOWNS, FEWEST_PUBLISHED, breakdown, impact, published
from .pathway import PATHWAY_FIGURES, pathway, with_pathway
from .pieces import (
    closures_by_reason,
    mentor_load,
    milestones_achieved,
    monthly_activity,
    programme_length,
    reoffending_curve,
    support_areas_covered,
)
from .replication import (
    REPLICATION_COLUMNS,
    YEAR_KEYS,
    programme_year,
    replication,
    replication_rows,
    write_replication_csv,
)
from .reports import dashboard, report
from .sql import EPOCH, SHARD, Cases, EpochDay, borough_scope, epoch_day
from .statistics import (
    MIN_AT_RISK,
    WILSON_Z,
    at_risk_on,
    histogram_median,
    kaplan_meier,
    km_median,
    km_summary,
    survival_at,
    survival_curve,
    wilson_interval,
)
from .windows import (
    ACTIVITY_DAYS,
    AREAS_AND_MILESTONES_DAYS,
    FOLLOW_UP_DAYS,
    HOME_RECENT_DAYS,
    KM_LAG_DAYS,
    MONTHS,
    NEEDS_CONTACT_DAYS,
    SIX_MONTHS_DAYS,
    TWELVE_MONTHS_DAYS,
    WAITING_DAYS,
    YEAR_EARLIER_DAYS,
)

__all__ = [
    "ACTIVITY_DAYS",
    "AGE_BANDS",
    "AREAS_AND_MILESTONES_DAYS",
    "BASELINES",
    "BENCHMARK_COST",
    "BREAKDOWNS",
    "CACHE_ERRORS",
    "CENTS",
    "EPOCH",
    "FEWEST_PUBLISHED",
    "FIGURES",
    "FOLLOWUP_FIGURES",
    "FOLLOW_UP_DAYS",
    "HOME_RECENT_DAYS",
    "KM_LAG_DAYS",
    "MIN_AT_RISK",
    "MONTHS",
    "NEEDS_CONTACT_DAYS",
    "NETWORK_NAME",
    "PARTS_FORMAT",
    "PATHWAY_FIGURES",
    "REPLICATION_COLUMNS",
    "REPORT_COLUMNS",
    "SHARD",
    "SIX_MONTHS_DAYS",
    "SMALL_COHORT",
    "SUSTAINED_FIGURES",
    "TWELVE_MONTHS_DAYS",
    "WAITING_DAYS",
    "WILSON_Z",
    "YEAR_EARLIER_DAYS",
    "YEAR_KEYS",
    "Cases",
    "EpochDay",
    "Parts",
    "Share",
    "Tally",
    "at_risk_on",
    "awaiting_outcome",
    "baselines",
    "borough_parts",
    "borough_scope",
    "breakdown",
    "closures_by_reason",
    "csv_value",
    "dashboard",
    "epoch_day",
    "followups",
    "histogram_median",
    "impact",
    "in_cohort",
    "index_day",
    "kaplan_meier",
    "km_median",
    "km_summary",
    "mentor_load",
    "milestones_achieved",
    "monthly_activity",
    "outcomes",
    "outcomes_by_borough",
    "pathway",
    "programme_length",
    "programme_year",
    "proven_reoffences",
    "published",
    "reoffenders",
    "reoffending_curve",
    "replication",
    "replication_rows",
    "report",
    "report_json",
    "report_rows",
    "scope_parts",
    "support_areas_covered",
    "survival_at",
    "survival_curve",
    "sustained_employment",
    "wilson_interval",
    "with_after_support",
    "with_followups",
    "with_outcome_flags",
    "with_pathway",
    "with_sustained_employment",
    "write_csv",
    "write_replication_csv",
    "write_report_csv",
]


def with_after_support(report, scope, as_of):
    """
    ``report`` (``report`` or ``dashboard`` of the same scope and date) with the figures
    read beside the cached ones: sustained employment, the follow-up check-ins and the peer
    pathway, in the order of their columns.
    """
    with_sustained_employment(report, scope, as_of)
    with_followups(report, scope, as_of)
    return with_pathway(report, scope, as_of)

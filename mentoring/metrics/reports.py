"""
A scope's figures as pages and exports read them: ``report`` (the figures of the scope and
of each of its boroughs) and ``dashboard`` (the report and every piece a dashboard draws),
both summed from the figures cache.
"""

from .. import summaries
from .cache import _cached_mentor_load, scope_parts
from .definitions import _figures, baselines
from .pieces import (
    _areas,
    _closures,
    _milestones,
    _monthly,
    _programme_length,
    _reoffending_curve,
)
from .sql import borough_scope


def _report(boroughs, as_of, versions=None):
    """(report, network parts): the report, and the parts of all its boroughs together."""
    listed = list(boroughs.order_by("name").values("pk", "slug", "name"))
    figures, network = scope_parts([b["pk"] for b in listed], as_of, versions)
    report = {
        "as_of": as_of,
        "network": _figures(network.tally),
        "boroughs": [{"slug": b["slug"], "name": b["name"], **figures[b["pk"]]} for b in listed],
    }
    return report, network


def report(scope, as_of):
    """
    ``{"as_of": date, "network": figures, "boroughs": [{"slug", "name", **figures}]}`` for
    the boroughs in ``scope`` (by name; every one listed, even with no clients), where
    "network" is all of them together. 19 queries with nothing cached.
    """
    return _report(borough_scope(scope), as_of)[0]


def dashboard(scope, as_of):
    """
    Everything a dashboard shows for ``scope`` as of ``as_of``: the ``report`` keys
    (``as_of``, ``network``, ``boroughs``) plus ``monthly``, ``closures_by_reason``,
    ``mentor_load``, ``support_areas``, ``milestones``, ``reoffending_curve``,
    ``programme_length`` (both for the whole scope) and ``baselines``.

    The scope's sum and each borough's figures come from ``scope_parts`` (the figures
    cache: the sum cached whole and in blocks of boroughs, each borough's halves recomputed
    only if it changed since, ``borough_parts``); the mentors' load, which is not a sum over
    boroughs (a mentor serves several), is cached for the whole scope under the mentors'
    version. 5 queries when everything is cached; up to 12 more when any borough's cases
    changed (its changed shards' cases, 10, and milestones, 1, and the money of the
    boroughs, 1: 2 after a milestone alone), 4 more when any borough's sessions did, 1
    more when the mentors' load is not cached.
    """
    boroughs = borough_scope(scope)
    ids = sorted(boroughs.values_list("pk", flat=True))
    versions = summaries.versions([*ids, summaries.MENTORS])
    data, network = _report(boroughs.filter(pk__in=ids), as_of, versions)
    data.update(
        monthly=_monthly(network.monthly, as_of),
        closures_by_reason=_closures(network.closures),
        mentor_load=_cached_mentor_load(boroughs, ids, as_of, versions[summaries.MENTORS][0]),
        support_areas=_areas(network.areas),
        milestones=_milestones(network.milestones),
        reoffending_curve=_reoffending_curve(network.tally.reoffending),
        programme_length=_programme_length(network.tally.programme),
        baselines=baselines(),
    )
    return data

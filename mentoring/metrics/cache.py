"""
The figures cache: everything one borough adds to a dashboard (``Parts``), cached per
borough in two halves (its cases, its sessions) under versions that database triggers
raise on every write (``summaries``), and sums of blocks of boroughs and of a whole scope,
so that a dashboard recomputes only what changed since (``borough_parts``,
``scope_parts``). Bump ``PARTS_FORMAT`` when what a cached value holds changes.

The names this module looks up when called (``BLOCK``, ``borough_parts``, ``_case_parts``,
``_shard_milestones``, ``_session_parts``) are read here: a test that replaces one
replaces it in this module.
"""

import hashlib
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import caches

from .. import summaries
from ..models import Borough
from .definitions import (
    Tally,
    _borough_money,
    _case_tallies,
    _contact_counts,
    _figures,
    _session_counts,
    _with_money,
)
from .pieces import (
    _area_parts,
    _closure_parts,
    _milestone_parts,
    _monthly_case_parts,
    _monthly_session_parts,
    mentor_load,
)
from .sql import Cases, _clients_in
from .windows import NEEDS_CONTACT_DAYS

logger = logging.getLogger("mentoring.metrics")


# Parts: everything one borough adds to a dashboard, cached per borough ---------------------


@dataclass
class Parts:
    """
    What one borough (or a sum of boroughs) adds to a dashboard; every field is additive,
    so a scope's figures are the sum of its boroughs' parts. ``monthly`` is keyed by
    (month, "referrals" | "starts" | "closures" | "sessions" | "minutes"), ``closures`` by
    reason, ``areas`` by support area id, ``milestones`` by (kind, "milestones" |
    "clients") (a client belongs to one borough, so clients add up too).
    """

    tally: Tally = field(default_factory=Tally)
    monthly: Counter = field(default_factory=Counter)
    closures: Counter = field(default_factory=Counter)
    areas: Counter = field(default_factory=Counter)
    milestones: Counter = field(default_factory=Counter)

    @classmethod
    def total(cls, parts):
        """The sum of ``parts``, added in place into one new Parts."""
        total = cls()
        for part in parts:
            total.tally.add(part.tally)
            total.monthly.update(part.monthly)
            total.closures.update(part.closures)
            total.areas.update(part.areas)
            total.milestones.update(part.milestones)
        return total


@dataclass
class Share:
    """
    One borough's share of a dashboard, in its two halves: ``case`` (its cases: counts,
    outcomes, histograms, grants, monthly referrals, starts and closures, closures,
    milestones) and ``sessions`` (contact figures, sessions and hours in the last 28 days
    and by month, support areas), with its own ``figures``, computed from both and cached
    with them, so that a network dashboard does not run Kaplan-Meier twice for every
    borough on every view.
    """

    case: Parts
    sessions: Parts
    figures: dict
    cached: bool = True  # False: a shard had no version, so nothing of it may be cached


def _case_parts(shards, as_of, by_year=True):
    """
    {(borough id, year): Parts} of the cases of ``shards`` ({borough id: years, or None
    for all its years}) that have records, computed from them, without their milestones
    (``_shard_milestones``): 10 queries, whatever the shards. ``by_year`` False: one Parts
    per borough, keyed (borough id, 0).
    """
    cases = Cases.of_shards(shards, by_year)
    tallies = _case_tallies(cases, as_of)
    monthly = _monthly_case_parts(cases, as_of)
    closures = _closure_parts(cases, as_of)
    found = tallies.keys() | monthly.keys() | closures.keys()
    return {
        shard: Parts(
            tally=tallies.get(shard, Tally()),
            monthly=monthly.get(shard, Counter()),
            closures=closures.get(shard, Counter()),
        )
        for shard in found
    }


def _shard_milestones(shards, as_of, by_year=True):
    """The milestones of ``shards``, as ``_case_parts`` (which leaves them out): 1 query."""
    counts = _milestone_parts(Cases.of_shards(shards, by_year), as_of)
    return {shard: Parts(milestones=counter) for shard, counter in counts.items()}


def _session_parts(borough_ids, as_of):
    """
    {borough id: Parts} of the boroughs' sessions: 4 queries, three of them over the
    session summaries and one over the clients active on A.
    """
    boroughs = Borough.objects.filter(pk__in=borough_ids)
    contact = _contact_counts(_clients_in(boroughs), as_of)
    sessions = _session_counts(None, as_of, boroughs)
    monthly = _monthly_session_parts(boroughs, as_of)
    areas = _area_parts(boroughs, as_of)
    return {
        pk: Parts(
            tally=Tally(counts=contact.get(pk, Counter()) + sessions.get(pk, Counter())),
            monthly=monthly.get(pk, Counter()),
            areas=areas.get(pk, Counter()),
        )
        for pk in borough_ids
    }


# Bump when what a cached value holds, or how it is computed, changes: old entries are then
# unused.
PARTS_FORMAT = 6


def _cache_errors():
    """What a shared figures cache raises when it is down or slow (none for local memory)."""
    try:
        from redis.exceptions import RedisError
    except ImportError:  # redis is only needed for SOS_FIGURES_CACHE
        return (OSError,)
    return (OSError, RedisError)


CACHE_ERRORS = _cache_errors()


def _cached(keys):
    """
    {key: value} of ``keys`` found in the figures cache; nothing if the cache cannot be
    reached: the figures are then computed from the records, and the page still served.
    """
    try:
        return caches["figures"].get_many(keys)
    except CACHE_ERRORS as error:
        logger.warning("figures cache unavailable, computing from the records: %s", error)
        return {}


def _store(values):
    """Put ``values`` in the figures cache, if it can be reached."""
    try:
        caches["figures"].set_many(values)
    except CACHE_ERRORS as error:
        logger.warning("figures cache unavailable, not stored: %s", error)


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _cases_key(borough_id, as_of, version, shard_versions):
    """A borough's whole cases half: under its own version and both of every shard's."""
    state = ",".join(f"{year}.{v}.{m}" for year, (v, m) in sorted(shard_versions.items()))
    return (
        f"sos-cases:{PARTS_FORMAT}:{borough_id}:{as_of.isoformat()}:{_digest(f'{version}|{state}')}"
    )


def _sessions_key(borough_id, as_of, sessions_version):
    rules = NEEDS_CONTACT_DAYS  # the sessions half and the figures use it
    return (
        f"sos-sessions:{PARTS_FORMAT}:{rules}:{borough_id}:{as_of.isoformat()}:{sessions_version}"
    )


def _borough_keys(borough_ids, as_of, versions=None):
    """
    {borough id: (cases key, sessions key, figures key)}: the cache keys of each borough's
    halves and figures under its versions now (1 query; 2 without ``versions``), and the
    shard versions they were made from.
    """
    versions = versions or summaries.versions(borough_ids)
    shard_versions = summaries.shard_versions(borough_ids)
    keys = {}
    for pk in borough_ids:
        version, sessions_version = versions[pk]
        cases = _cases_key(pk, as_of, version, shard_versions.get(pk, {}))
        sessions = _sessions_key(pk, as_of, sessions_version)
        keys[pk] = (cases, sessions, f"sos-figures:{PARTS_FORMAT}:{_digest(cases + sessions)}")
    return keys, shard_versions


def borough_parts(borough_ids, as_of, versions=None, *, keys=None):
    """
    {borough id: Share}, read from the figures cache where the borough has not changed
    since they were computed. Each half is cached under versions that triggers raise on
    every write to the records it is made from: the sessions half under the borough's
    sessions version; the cases half under its own version (grants, cost) and the version
    of each of its shards (its clients referred in one year, with their offences; and,
    under a second version, their milestones), and each shard's two parts on their own.
    So a logged session computes that borough's sessions half again (4 small queries), a
    changed case only that case's shard (10 queries over one year's clients; 11 with its
    milestones, when the client itself changed), a recorded milestone only that shard's
    milestones (1 query), and the borough's sum, and the figures are computed from the
    two halves. Two queries for the versions (one if ``versions`` are given, none
    with ``keys``, a ``_borough_keys`` result).
    """
    borough_ids = list(borough_ids)
    if not borough_ids:
        return {}
    keys, shard_versions = keys or _borough_keys(borough_ids, as_of, versions)
    found = _cached([key for pk in borough_ids for key in keys[pk]])
    new = {}
    missing = [pk for pk in borough_ids if keys[pk][0] not in found]
    unversioned = set()
    if missing:
        cases_keys = {pk: keys[pk][0] for pk in missing}
        to_cache, halves, unversioned = _cases_halves(missing, as_of, shard_versions, cases_keys)
        new.update(to_cache)
        found.update({keys[pk][0]: half for pk, half in halves.items()})
    missing = [pk for pk in borough_ids if keys[pk][1] not in found]
    if missing:
        new.update({keys[pk][1]: parts for pk, parts in _session_parts(missing, as_of).items()})
    found.update(new)
    result = {}
    for pk in borough_ids:
        cases_key, sessions_key, figures_key = keys[pk]
        case, sessions = found[cases_key], found[sessions_key]
        if figures_key not in found:
            found[figures_key] = _figures(Tally().add(case.tally).add(sessions.tally))
            if pk not in unversioned:
                new[figures_key] = found[figures_key]
        result[pk] = Share(case, sessions, found[figures_key], cached=pk not in unversioned)
    if new:
        _store(new)
    return result


# A scope's boroughs are added up in blocks of this many, each block's sum cached under its
# boroughs' keys: after a change in one borough, a network dashboard adds up that borough's
# block and the other blocks' sums, not the halves of every borough.
BLOCK = 6


def scope_parts(borough_ids, as_of, versions=None):
    """
    ({borough id: figures}, Parts of all the boroughs together), from the figures cache:
    the scope's sum is cached under every borough's keys, and in blocks of ``BLOCK``
    boroughs, so that a scope with nothing changed reads its sum and the boroughs' figures
    (no halves), and a change in one borough reads only its block's halves. The queries
    of ``borough_parts``. Nothing is cached of a block holding an unversioned borough.
    """
    ids = sorted(borough_ids)
    if not ids:
        return {}, Parts()
    keys, shard_versions = _borough_keys(ids, as_of, versions)
    blocks = [ids[i : i + BLOCK] for i in range(0, len(ids), BLOCK)]
    day = as_of.isoformat()
    block_keys = [
        f"sos-block:{PARTS_FORMAT}:{day}:{_digest('|'.join(k for pk in b for k in keys[pk][:2]))}"
        for b in blocks
    ]
    scope_key = f"sos-scope:{PARTS_FORMAT}:{day}:{_digest('|'.join(block_keys))}"
    figures_keys = {pk: keys[pk][2] for pk in ids}
    found = _cached([*figures_keys.values(), scope_key])
    figures = {pk: found[key] for pk, key in figures_keys.items() if key in found}
    if scope_key in found and len(figures) == len(ids):
        return figures, found[scope_key]
    sums = _cached(block_keys)
    stale = [block for block, key in zip(blocks, block_keys, strict=True) if key not in sums]
    need = {pk for block in stale for pk in block}
    need |= {pk for pk in ids if pk not in figures}
    shares = borough_parts(sorted(need), as_of, keys=(keys, shard_versions))
    figures.update({pk: share.figures for pk, share in shares.items()})
    new, cached = {}, True
    for block, key in zip(blocks, block_keys, strict=True):
        if key in sums:
            continue
        sums[key] = Parts.total(h for pk in block for h in (shares[pk].case, shares[pk].sessions))
        if all(shares[pk].cached for pk in block):
            new[key] = sums[key]
        else:
            cached = False
    total = Parts.total(sums[key] for key in block_keys)
    if cached:
        new[scope_key] = total
    if new:
        _store(new)
    return figures, total


def _cases_halves(borough_ids, as_of, shard_versions, keys):
    """
    ({cache key: value} to cache, {borough id: Parts}, unversioned borough ids): the cases
    half of each of ``borough_ids`` (cached under ``keys[pk]``), added up from its shards'
    two parts: its cases (``_case_parts``, cached under the shard's version) and its
    milestones (``_shard_milestones``, under its milestones version). Parts cached under
    their version now are read and the others computed; each borough's shards are added
    up with its money (1 query).

    A borough none of whose parts of a kind is cached reads that kind whole. The first
    time in a day (the cache is per "as of" day) it is read by borough alone, which costs
    a cold dashboard nothing more, and cached as a whole under that kind's versions (so a
    milestone does not read the cases again); after that, by shard, whose parts are cached
    for the changes to come.
    """
    day = as_of.isoformat()
    # Looked up when called, not when defined: the tests spy on them.
    kinds = {"cases": _case_parts, "milestones": _shard_milestones}
    shard_keys, whole_keys, read_keys = {}, {}, {}
    for i, kind in enumerate(kinds):
        shard_keys[kind] = {
            (pk, year): f"sos-{kind}:{PARTS_FORMAT}:{pk}:{year}:{day}:{versions[i]}"
            for pk in borough_ids
            for year, versions in shard_versions.get(pk, {}).items()
        }
        whole_keys[kind] = {
            pk: f"sos-{kind}-all:{PARTS_FORMAT}:{pk}:{day}:"
            + _digest(
                ",".join(f"{y}.{v[i]}" for y, v in sorted(shard_versions.get(pk, {}).items()))
            )
            for pk in borough_ids
        }
        read_keys[kind] = {pk: f"sos-read:{PARTS_FORMAT}:{kind}:{pk}:{day}" for pk in borough_ids}
    cached = _cached(
        [
            key
            for k in (shard_keys, whole_keys, read_keys)
            for by in k.values()
            for key in by.values()
        ]
    )
    result, shards, strays = {}, defaultdict(list), set()
    for kind, compute in kinds.items():
        todo, done = {}, set()
        for pk in borough_ids:
            if whole_keys[kind][pk] in cached:  # read whole, and not changed since
                shards[pk].append(cached[whole_keys[kind][pk]])
                done.add(pk)
                continue
            years = shard_versions.get(pk, {})
            missing = [year for year in years if shard_keys[kind][pk, year] not in cached]
            if len(missing) == len(years):
                todo[pk] = None  # none cached, read whole: one range of the index, none overlooked
            elif missing:
                todo[pk] = missing
        first = [
            pk for pk, years in todo.items() if years is None and read_keys[kind][pk] not in cached
        ]
        whole = compute(dict.fromkeys(first), as_of, by_year=False) if first else {}
        rest = {pk: years for pk, years in todo.items() if pk not in first}
        computed = compute(rest, as_of) if rest else {}
        for pk in first:
            shards[pk].append(whole.get((pk, 0), Parts()))
            result[read_keys[kind][pk]] = True
            result[whole_keys[kind][pk]] = shards[pk][-1]
        for (pk, year), key in shard_keys[kind].items():
            if pk in done or pk in first:
                continue
            parts = cached[key] if key in cached else computed.get((pk, year), Parts())
            shards[pk].append(parts)
            if key not in cached:
                result[key] = parts
        # A shard with records but no version (the triggers keep one for every shard with
        # a client, and ``summaries --check`` reports one missing, so this is a safeguard):
        # it is counted, and nothing of its borough is cached.
        for shard in computed.keys() - shard_keys[kind].keys():
            shards[shard[0]].append(computed[shard])
            strays.add(shard[0])
    money = _borough_money(Borough.objects.filter(pk__in=borough_ids), as_of)
    halves = {}
    for pk in borough_ids:
        halves[pk] = Parts.total(shards[pk])
        _with_money(halves[pk].tally, money.get(pk, (Decimal("0.00"), Decimal("0.00"))))
        if pk not in strays:
            result[keys[pk]] = halves[pk]
    return result, halves, strays


def _cached_mentor_load(boroughs, ids, as_of, version):
    """
    ``mentor_load`` for the boroughs ``ids``, cached under the mentors' version (raised on
    every change to mentors, the boroughs they serve and assignments): it reads every
    mentor of the scope, and the sessions logged all day do not change it.
    """
    scope = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:16]
    key = f"sos-mentors:{PARTS_FORMAT}:{as_of.isoformat()}:{version}:{scope}"
    load = _cached([key]).get(key)
    if load is None:
        load = mentor_load(boroughs, as_of)
        _store({key: load})
    return load

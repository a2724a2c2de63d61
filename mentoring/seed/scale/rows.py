"""
The rows of the scale data set's large tables that follow from its plan: the support
sessions, the offences, and the milestones, goals and placements, in the order of the
columns the builder writes them to.
"""

from bisect import bisect
from datetime import date, timedelta

from mentoring import models as m

from .. import timestamps, weights
from ..names import (
    CONFIRMED_BY_LETTER,
    FIRST_NAMES_FEMALE,
    FIRST_NAMES_MALE,
    GOAL_DESCRIPTION,
    LAST_NAMES,
    MENTOR_FIRST_NAMES,
    SAFEGUARDING_ACTIONS,
    SEEN_BY_MENTOR,
    SESSION_NOTES,
)

NOTE_FALLBACK = "Met {name} and worked on {area}."
# COPY's text format needs tabs, newlines and backslashes escaped; the generated text is
# made only from these lists, which have none, so rows are written without escaping.
COPY_TEXT_SOURCES = (
    FIRST_NAMES_MALE,
    FIRST_NAMES_FEMALE,
    LAST_NAMES,
    MENTOR_FIRST_NAMES,
    list(SESSION_NOTES.values()),
    [NOTE_FALLBACK],
)


def check_copy_safe():
    """Refuse to build if any text the rows are made of would need escaping for COPY."""
    areas = list(m.SupportArea.objects.values_list("name", flat=True))
    for text in [*(t for strings in COPY_TEXT_SOURCES for t in strings), *areas]:
        if any(ch in text for ch in "\t\n\r\\"):
            raise RuntimeError(f"{text!r} would need escaping for COPY.")


def session_rows(plan, *, rng, now, first_id, session_ids, area_ids):
    """
    The support sessions of ``plan``, client by client, with ids from ``first_id``; the
    support areas each covered go to the arrays ``session_ids`` and ``area_ids``.
    """
    rnd = rng.random
    kinds, kind_cum, kind_total = weights.cumulative(weights.SESSION_KIND_WEIGHTS)
    modes, mode_cum, mode_total = weights.cumulative(weights.MODE_WEIGHTS)
    attendances, att_cum, att_total = weights.cumulative(weights.ATTENDANCE_WEIGHTS)
    prison = m.SupportSession.Mode.PRISON_VISIT
    kinds, modes = [str(k) for k in kinds], [str(x) for x in modes]
    attendances = [str(a) for a in attendances]
    durations = weights.SESSION_MINUTES
    n_durations = len(durations)
    concern_share = weights.SAFEGUARDING_SHARE
    # A token unique to each generated session: a random prefix for this data set and
    # the session's position in it.
    bits = f"{rng.getrandbits(64):016x}"
    prefix = f"{bits[:8]}-{bits[8:12]}-4{bits[13:16]}-8{rng.getrandbits(12):03x}-"
    area_names = {a.id: a.name.lower() for a in plan.support_areas}
    templates = {a.id: SESSION_NOTES.get(a.slug, NOTE_FALLBACK) for a in plan.support_areas}
    if not plan.sizes.sessions:
        return
    base = min(c.started for c in plan.clients if c.started).toordinal()
    dates = [date.fromordinal(base + i) for i in range(plan.today.toordinal() - base + 1)]
    # Logged on the day of the session, in working hours (none later than now), as a
    # coordinator would: "recently logged" then means what it does in use, not the
    # moment of the build.
    opening = [timestamps.opening_time(d) for d in dates]
    logged_at = timestamps.logged_at
    # Concerns raised more than weights.SAFEGUARDING_OPEN_DAYS ago were followed up by
    # the next day; later ones are still open on the coordinators' home pages.
    followed_up_by = plan.today.toordinal() - weights.SAFEGUARDING_OPEN_DAYS
    follow_up = SAFEGUARDING_ACTIONS[0]
    next_day = timedelta(days=1)
    sid = first_id
    position = 0
    add_session, add_area = session_ids.append, area_ids.append
    for c in plan.clients:
        n = c.sessions
        if not n:
            continue
        cid, needs = c.id, c.needs
        k_needs = len(needs)
        notes = {a: templates[a].format(name=c.first_name, area=area_names[a]) for a in needs}
        start = c.started.toordinal()
        last = c.last.toordinal()
        step = (last - start + 1) / n
        release = c.release.toordinal() if c.release else 0
        assigned = c.plan
        first_mentor = assigned[0][0].id
        if len(assigned) > 1:
            switch, second_mentor = assigned[1][1].toordinal(), assigned[1][0].id
        else:
            switch, second_mentor = last + 1, first_mentor
        for k in range(n):
            day = start + int((k + rnd()) * step)
            if day > last:
                day = last
            if k_needs:
                i = int(rnd() * k_needs)
                area = needs[i]
                note = notes[area]
                add_session(sid)
                add_area(area)
                if k_needs > 1 and rnd() < 0.5:
                    add_session(sid)
                    add_area(needs[(i + 1 + int(rnd() * (k_needs - 1))) % k_needs])
            else:
                note = ""
            yield (
                sid,
                cid,
                second_mentor if day >= switch else first_mentor,
                dates[day - base],
                None,
                durations[int(rnd() * n_durations)],
                kinds[bisect(kind_cum, rnd() * kind_total)],
                prison if day < release else modes[bisect(mode_cum, rnd() * mode_total)],
                attendances[bisect(att_cum, rnd() * att_total)],
                note,
                concern := rnd() < concern_share,
                opening[day - base] + next_day if concern and day <= followed_up_by else None,
                follow_up if concern and day <= followed_up_by else "",
                None,
                logged := logged_at(opening[day - base], sid, now),
                logged,
                1,
                f"{prefix}{position:012x}",
            )
            sid += 1
            position += 1


def offences(plan, rng):
    """
    The offences, as (client id, offence date, outcome date, disposal, type, source) rows
    in order of client and date, and how many reoffences the reoffending rate needs: those
    come first, and the rest of the sizes' offences are the histories behind referrals.
    """
    today = plan.today
    proven = weights.PROVEN_DISPOSALS
    types, sources = m.Offence.OffenceType.values, m.Offence.Source.values
    pending = m.Offence.Disposal.PENDING

    def offence(c, offence_day, outcome_day, disposal):
        if outcome_day > today:
            disposal, outcome_day = pending, None
        kind, source = rng.choice(types), rng.choice(sources)
        return (c.id, offence_day, outcome_day, disposal, kind, source)

    reoffences, others = [], []
    for c in plan.clients:
        index = c.index_date
        if index is None:
            continue
        if c.reoffends:
            for _ in range(2 if rng.random() < weights.SECOND_REOFFENCE_SHARE else 1):
                offence_day = index + timedelta(days=rng.randint(*weights.REOFFENCE_DAYS))
                outcome_day = offence_day + timedelta(days=rng.randint(*weights.OUTCOME_DAYS))
                if offence_day <= today:
                    disposal = rng.choice(proven)
                    reoffences.append(offence(c, offence_day, outcome_day, disposal))
        elif rng.random() < weights.NOT_PROVEN_SHARE:
            # Arrested in the follow-up year, but no further action or acquitted.
            offence_day = index + timedelta(days=rng.randint(*weights.REOFFENCE_DAYS))
            outcome_day = offence_day + timedelta(days=rng.randint(*weights.NOT_PROVEN_DAYS))
            disposal = rng.choice(weights.NOT_PROVEN_DISPOSALS)
            if offence_day <= today:
                others.append(offence(c, offence_day, outcome_day, disposal))
        elif rng.random() < weights.LATER_OFFENCE_SHARE:
            # Convicted of an offence committed after the 12-month follow-up.
            offence_day = index + timedelta(days=rng.randint(*weights.LATER_OFFENCE_DAYS))
            outcome_day = offence_day + timedelta(days=rng.randint(*weights.OUTCOME_DAYS))
            if offence_day <= today:
                others.append(offence(c, offence_day, outcome_day, rng.choice(proven)))
    total = plan.sizes.offences
    after = (reoffences + others)[:total]
    # The rest are the offence histories that led to the referrals: one to four proven
    # offences between the age of 12 and ten days before the referral.
    history, outcome_days = [], weights.HISTORY_OUTCOME_DAYS
    while len(history) < total - len(after):
        c = plan.clients[rng.randrange(len(plan.clients))]
        earliest = c.born + timedelta(days=12 * 365)
        latest = c.referred - timedelta(days=10)
        how_many = rng.randint(*weights.HISTORY_OFFENCES)
        for _ in range(min(how_many, total - len(after) - len(history))):
            days = rng.randrange(max(1, (latest - earliest).days))
            offence_day = earliest + timedelta(days=days)
            outcome_day = offence_day + timedelta(days=rng.randint(*outcome_days))
            outcome_day = max(min(latest, outcome_day), offence_day)
            history.append(offence(c, offence_day, outcome_day, rng.choice(proven)))
    return sorted(history + after, key=lambda r: (r[0], r[1])), len(reoffences)


def milestones_goals_placements(plan, rng, employers):
    """
    The milestones, goals and placements of ``plan``'s started clients, as three lists of
    rows; a placement's employer is one of ``employers`` (their ids by borough id).
    """
    today = plan.today
    area_names = {a.id: a.name for a in plan.support_areas}
    milestones, goals, placements = [], [], []
    for c in plan.clients:
        if not c.started:
            continue
        end = c.ended or today
        span = max(1, (end - c.started).days)
        completed = c.closure == m.Client.ClosureReason.COMPLETED
        how_many = rng.randint(
            *(weights.MILESTONES_IF_COMPLETED if completed else weights.MILESTONES_OTHERWISE)
        )
        for kind in weights.as_recorded(rng.sample(weights.MILESTONE_KINDS, how_many)):
            achieved = c.started + timedelta(days=rng.randrange(span))
            seen = rng.random() < weights.SEEN_BY_MENTOR_SHARE
            evidence = SEEN_BY_MENTOR if seen else CONFIRMED_BY_LETTER
            verified = rng.random() < weights.VERIFIED_SHARE
            if kind is None:
                continue
            milestones.append((c.id, kind, achieved, evidence, verified, 1))
            if (
                kind == m.Milestone.Kind.ENTERED_EMPLOYMENT
                and rng.random() < weights.PLACEMENT_SHARE
            ):
                employer = rng.choice(employers[c.area.id])
                placement_kind = rng.choice(weights.PLACEMENT_KINDS)
                placements.append((c.id, employer, placement_kind, achieved, None, "", 1))
        for area in c.needs[: weights.GOALS_AT_MOST]:
            if not c.ended:
                status = m.Goal.Status.OPEN
            elif completed:
                status = rng.choice(weights.GOALS_IF_COMPLETED)
            else:
                status = rng.choice(weights.GOALS_OTHERWISE)
            target = c.started + timedelta(days=rng.choice(weights.GOAL_DAYS))
            description = GOAL_DESCRIPTION.format(area=area_names[area].lower())
            goals.append((c.id, area, description, c.started, target, status, 1))
    return milestones, goals, placements

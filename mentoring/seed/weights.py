"""
The proportions both generated data sets share: how often each thing happens, the weights
of each draw and the ranges its days are drawn from. The demo (``demo.py``) and the scale
data set (``scale/``) both draw from these tables, so that they keep one shape.

Where the two draw differently from one table, the table says how: both ways stay, since
changing either would change every later draw of that data set for the same seed.

Weighted tables are (value, weight) pairs. A range (low, high) is drawn with ``randint``
(both ends included) unless its comment says ``randrange`` (high excluded).
"""

from datetime import timedelta

from mentoring import models as m

# Clients -----------------------------------------------------------------------------------

FEMALE_SHARE = 0.14
# Ages at referral: mostly 16 to 25, the programme's target ages, with 19 the most common
# (low, high and mode of a triangular draw); a few are just outside.
AGE_TRIANGLE = (16, 25.99, 19)
OUTSIDE_AGE_SHARE = 0.02
OUTSIDE_AGES = [15, 26]
BIRTHDAY_DAYS = (30, 330)  # days since the last birthday on referral: randrange
FIRST_REFERRAL_DAYS = (7, 60)  # from an area's launch to its first referral
REFERRAL_WEIGHTS = [
    (m.Client.ReferralSource.YOUTH_OFFENDING_TEAM, 25),
    (m.Client.ReferralSource.PROBATION, 25),
    (m.Client.ReferralSource.PRISON, 18),
    (m.Client.ReferralSource.POLICE, 10),
    (m.Client.ReferralSource.COURT, 5),
    (m.Client.ReferralSource.SOCIAL_SERVICES, 6),
    (m.Client.ReferralSource.SELF, 4),
    (m.Client.ReferralSource.FAMILY, 4),
    (m.Client.ReferralSource.SCHOOL, 2),
    (m.Client.ReferralSource.OTHER, 1),
]
RISK_WEIGHTS = list(zip(m.Client.RiskLevel.values, [30, 45, 25], strict=True))
GANG_SHARE_HIGH_RISK = 0.5
GANG_SHARE_OTHERS = 0.2
NEEDS = (2, 4)  # support needs of a client
START_DAYS = (3, 45)  # from referral to the start of support
# Referrals older than DECISION_DAYS were declined at this rate; the others started.
DECLINED_SHARE = 0.08
DECISION_DAYS = 45
# Clients referred by a prison, and this share of the others, start support in custody
# and are released RELEASE_DAYS after it starts.
RELEASE_SHARE = 0.1
RELEASE_DAYS = (14, 120)
CASE_TRIANGLE = (75, 480, 200)  # days of support: low, high and mode of a triangular draw
# Exactly this share of ended cases close as completed; the rest for one of these reasons
# (disengaging twice as likely as each of the others).
COMPLETION_SHARE = 0.80
NON_COMPLETION_REASONS = [
    m.Client.ClosureReason.DISENGAGED,
    m.Client.ClosureReason.DISENGAGED,
    m.Client.ClosureReason.MOVED_AWAY,
    m.Client.ClosureReason.TRANSFERRED,
    m.Client.ClosureReason.OTHER,
]

# Mentors ------------------------------------------------------------------------------------

# Each area's first mentors start at its launch and are still mentoring, so that every area
# has cover from its first day.
FOUNDING_MENTORS = 2
# The later mentors who have left, after MENTOR_SERVICE_DAYS. The demo draws those days
# with randrange (400 to 2,499), the scale data set with randint (400 to 2,500).
MENTOR_LEAVER_SHARE = 0.35
MENTOR_SERVICE_DAYS = (400, 2500)
LIVED_EXPERIENCE_SHARE = 0.85
LISTENER_TRAINED_SHARE = 0.4
QUALIFICATIONS = ["IAG Level 3", "IAG Level 2", "", ""]
CASELOAD_LIMITS = [6, 8, 8, 8, 10]
FIRST_VETTING_DAYS = (0, 60)  # from a mentor's start to their first vetting check: randrange

# Cases --------------------------------------------------------------------------------------

# Cases longer than SWITCH_AFTER_DAYS that change mentor once, for one of SWITCH_REASONS.
SWITCH_SHARE = 0.12
SWITCH_AFTER_DAYS = 120
SWITCH_REASONS = [m.Assignment.EndReason.REASSIGNED, m.Assignment.EndReason.CLIENT_REQUEST]
# Current clients who have drifted: no contact for DRIFT_DAYS.
DRIFT_SHARE = 0.2
DRIFT_DAYS = (15, 40)

# Support sessions ---------------------------------------------------------------------------

SESSION_MINUTES = (30, 45, 60, 60, 60, 90, 120, 180)
SESSION_KIND_WEIGHTS = list(zip(m.SupportSession.Kind.values, [30, 20, 50], strict=True))
MODE_WEIGHTS = [
    (m.SupportSession.Mode.IN_PERSON, 55),
    (m.SupportSession.Mode.PHONE, 18),
    (m.SupportSession.Mode.VIDEO, 5),
    (m.SupportSession.Mode.HOME_VISIT, 9),
    (m.SupportSession.Mode.COURT, 4),
    (m.SupportSession.Mode.TEXT, 9),
]
ATTENDANCE_WEIGHTS = [
    (m.SupportSession.Attendance.ATTENDED, 78),
    (m.SupportSession.Attendance.LATE, 7),
    (m.SupportSession.Attendance.DID_NOT_ATTEND, 8),
    (m.SupportSession.Attendance.CANCELLED_BY_CLIENT, 5),
    (m.SupportSession.Attendance.CANCELLED_BY_MENTOR, 2),
]
# Sessions that raise a safeguarding concern. One raised more than SAFEGUARDING_OPEN_DAYS
# ago has been followed up (a coordinator recorded what was done); later ones are open.
SAFEGUARDING_SHARE = 0.01
SAFEGUARDING_OPEN_DAYS = 14

# Offences -----------------------------------------------------------------------------------

# A client is in the reoffending cohort once their index date is this long ago: the
# 18 months metrics.WAITING_DAYS gives an offence to be committed and proven.
COHORT_DAYS = 548
# Exactly this share of each area's cohort reoffends, the middle of the case study's
# 15-20%, so that every area lands in its band; clients after the cohort line have the
# same chance.
REOFFENDING_SHARE = 0.175
SECOND_REOFFENCE_SHARE = 0.15
REOFFENCE_DAYS = (20, 365)  # from the index date: inside the year of follow-up
OUTCOME_DAYS = (14, 150)  # from a proven offence to its outcome
PROVEN_DISPOSALS = [d for d in m.Offence.Disposal.values if d not in m.Offence.NOT_PROVEN]
# Of the clients who do not reoffend: arrested in the follow-up year but not proven...
NOT_PROVEN_SHARE = 0.06
NOT_PROVEN_DAYS = (10, 120)  # from the offence to its outcome
NOT_PROVEN_DISPOSALS = [m.Offence.Disposal.NO_FURTHER_ACTION, m.Offence.Disposal.ACQUITTED]
# ...or, of the rest, convicted of an offence committed after the follow-up.
LATER_OFFENCE_SHARE = 0.06
LATER_OFFENCE_DAYS = (400, 1200)  # from the index date
# The offence histories that led to the referrals: one to four proven offences between the
# age of 12 and ten days before the referral.
HISTORY_OFFENCES = (1, 4)
HISTORY_OUTCOME_DAYS = (7, 200)

# Milestones, placements and goals ---------------------------------------------------------

MILESTONE_KINDS = [k for k in m.Milestone.Kind.values if k != m.Milestone.Kind.OTHER]


def as_recorded(kinds):
    """
    The milestone kinds drawn for a client as they are recorded. "Became a peer mentor"
    comes only with the mentor record it goes with (the demo's peer pathway), so a draw of
    it stands for the step before, "Started volunteering", or for nothing (None) when that
    was drawn too. Every draw still happens, so the data after it stays the same.
    """
    became, started = m.Milestone.Kind.BECAME_PEER_MENTOR, m.Milestone.Kind.STARTED_VOLUNTEERING
    if became not in kinds:
        return kinds
    return [(None if started in kinds else started) if k == became else k for k in kinds]


MILESTONES_IF_COMPLETED = (1, 3)
MILESTONES_OTHERWISE = (0, 1)
SEEN_BY_MENTOR_SHARE = 0.5  # of milestones: the others were confirmed by letter
VERIFIED_SHARE = 0.7
# Entering employment starts a placement that day for this share. The demo draws its kind
# and then an employer, and ends work experience and training after PLACEMENT_WEEKS; the
# scale data set draws the employer first and leaves every placement going on.
PLACEMENT_SHARE = 0.6
PLACEMENT_KINDS = m.Placement.Kind.values
PLACEMENT_WEEKS = {m.Placement.Kind.WORK_EXPERIENCE: 2, m.Placement.Kind.TRAINING: 12}
# A goal for each of a client's first GOALS_AT_MOST needs, due after one of GOAL_DAYS. When
# the case closes it was met, or partly, by a client who completed, and partly or not by
# the others.
GOALS_AT_MOST = 3
GOAL_DAYS = [90, 180, 270]
GOALS_IF_COMPLETED = [
    m.Goal.Status.ACHIEVED,
    m.Goal.Status.ACHIEVED,
    m.Goal.Status.PARTIALLY_ACHIEVED,
]
GOALS_OTHERWISE = [m.Goal.Status.NOT_ACHIEVED, m.Goal.Status.PARTIALLY_ACHIEVED]

# Funding ------------------------------------------------------------------------------------

# An area's grant for a year pays this share of its new clients' cost.
GRANT_COVER = ["0.7", "0.8", "0.9", "1.0", "1.1"]
# Who pays it, equally likely (but the residents' group pays for Kensington & Chelsea's
# first year). Same chances, but the demo and the scale data set list them in a different
# order, so the same draw picks a different funder: each keeps its own.
GRANT_FUNDERS_DEMO = [
    m.Funder.Kind.LOCAL_AUTHORITY,
    m.Funder.Kind.TRUST,
    m.Funder.Kind.POLICE,
    m.Funder.Kind.CORPORATE,
]
GRANT_FUNDERS_SCALE = [
    m.Funder.Kind.LOCAL_AUTHORITY,
    m.Funder.Kind.POLICE,
    m.Funder.Kind.TRUST,
    m.Funder.Kind.CORPORATE,
]


def weighted_choice(rng, pairs):
    """One value of the (value, weight) ``pairs``, drawn with ``rng.choices``."""
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


def cumulative(pairs):
    """
    The values of the (value, weight) ``pairs``, their running totals and the total: to
    draw ``values[bisect(running, rng.random() * total)]`` many times without recounting.
    """
    values, weights = zip(*pairs, strict=True)
    total, running = 0, []
    for weight in weights:
        total += weight
        running.append(total)
    return values, running, total


# Check-ins after completed cases: recorded within three weeks of the due day for most,
# fewer of those due in the last month (they are the coordinators' queue), and of the
# young people reached, most housed and many in education, training or work.
FOLLOWUP_LATE_DAYS = 21
FOLLOWUP_RECENT_DAYS = 30
FOLLOWUP_DONE = 0.8
FOLLOWUP_DONE_RECENT = 0.25
FOLLOWUP_REACHED = 0.7
FOLLOWUP_ANSWERS = {"in_ete": 0.6, "stable_accommodation": 0.8, "new_offence_told": 0.08}


def check_ins(ended_on, today, rng):
    """
    The check-ins recorded after a case completed on ``ended_on``, as FollowUp fields, for
    the demo and the scale data alike: of those due by ``today``, most recorded within
    three weeks of the due day, some young people not reached; of those due in the last
    month, few yet, so that each coordinator's home page has follow-ups due.
    """
    recent = today - timedelta(days=FOLLOWUP_RECENT_DAYS)
    for point in m.FollowUp.Point:
        due_on = m.FollowUp.due_on_for(ended_on, point)
        done_on = due_on + timedelta(days=rng.randrange(FOLLOWUP_LATE_DAYS))
        share = FOLLOWUP_DONE_RECENT if due_on > recent else FOLLOWUP_DONE
        if done_on > today or rng.random() >= share:
            continue
        reached = rng.random() < FOLLOWUP_REACHED
        yield {
            "point": int(point),
            "done_on": done_on,
            "reached": reached,
            **{
                name: (rng.random() < chance) if reached else None
                for name, chance in FOLLOWUP_ANSWERS.items()
            },
        }


# The peer pathway: in every area a client who completed at least PATHWAY_SETTLED_DAYS
# ago volunteered, trained and became a mentor (and, if it is that long ago, paid staff),
# this many days after their case closed; the next two completers went part of the way,
# and the client supported longest volunteers while still supported, from
# PATHWAY_VOLUNTEERS_AFTER_DAYS after their start (or half-way to today, if sooner).
PATHWAY_SETTLED_DAYS = 730
PATHWAY_DAYS = {
    m.PathwayStep.Step.VOLUNTEERING: 30,
    m.PathwayStep.Step.LEVEL_2: 120,
    m.PathwayStep.Step.LEVEL_3: 300,
    m.PathwayStep.Step.PEER_MENTOR: 420,
    m.PathwayStep.Step.PAID_STAFF: 1500,
}
PATHWAY_PART_WAY = [
    [(m.PathwayStep.Step.VOLUNTEERING, 45), (m.PathwayStep.Step.LEVEL_2, 200)],
    [(m.PathwayStep.Step.VOLUNTEERING, 60)],
]
PATHWAY_VOLUNTEERS_AFTER_DAYS = 120
PATHWAY_VETTED_BEFORE_DAYS = 21

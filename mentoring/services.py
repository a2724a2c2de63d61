"""
Writes that touch more than one row, each in one transaction.

Views, the admin and management commands call these rather than saving models directly,
so the same rules hold whichever door a change comes in by.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import (
    AccessLog,
    Assignment,
    Borough,
    Client,
    FollowUp,
    FormerReference,
    Goal,
    Mentor,
    Milestone,
    Offence,
    PathwayStep,
    Placement,
    SupportSession,
)

CLIENT_REFERENCE_FORMAT = "{code}-{number:05d}"
MENTOR_REFERENCE_FORMAT = "M-{code}-{number:03d}"


@transaction.atomic
def _allocate_numbers(borough, counter, count):
    # The UPDATE locks the borough row until the transaction ends, so two people adding
    # clients to the same borough at once get different numbers.
    Borough.objects.filter(pk=borough.pk).update(**{counter: F(counter) + count})
    last = Borough.objects.values_list(counter, flat=True).get(pk=borough.pk)
    setattr(borough, counter, last)
    return range(last - count + 1, last + 1)


def allocate_client_references(borough, count=1):
    """Reserve ``count`` new client references in ``borough``, e.g. ``SWK-00042``."""
    return [
        CLIENT_REFERENCE_FORMAT.format(code=borough.code, number=n)
        for n in _allocate_numbers(borough, "last_client_number", count)
    ]


def allocate_mentor_references(borough, count=1):
    """Reserve ``count`` new mentor references in ``borough``, e.g. ``M-SWK-007``."""
    return [
        MENTOR_REFERENCE_FORMAT.format(code=borough.code, number=n)
        for n in _allocate_numbers(borough, "last_mentor_number", count)
    ]


@transaction.atomic
def client_save(*, client, by=None):
    """Save a new or changed client, giving a new one its reference and creator."""
    if client._state.adding:
        if not client.reference:
            [client.reference] = allocate_client_references(client.borough)
        if by is not None and by.is_authenticated:
            client.created_by = by
    return versioned_save(client)


def versioned_save(record):
    """
    Save a record that has a ``version``: a change raises it, so that a form opened on the
    record before this save (``expected_version``) is refused instead of overwriting it.
    The admin saves every versioned record (``admin.VERSIONED``) through here too.
    """
    if not record._state.adding:
        record.version = F("version") + 1
    record.save()
    if not isinstance(record.version, int):
        record.refresh_from_db(fields=["version"])
    return record


@transaction.atomic
def mentor_save(*, mentor):
    """
    Save a new or changed mentor, giving a new one a reference in their home borough. A
    mentor who has left (an end date) has their open assignments ended on that day,
    "Mentor left the programme", so that their clients show as without a mentor on their
    coordinators' home page instead of staying with someone who has gone. Returns the
    assignments it ended.
    """
    if mentor._state.adding and not mentor.reference:
        [mentor.reference] = allocate_mentor_references(mentor.home_borough)
    mentor.save()
    ended = []
    if mentor.ended_on:
        for assignment in Assignment.objects.select_for_update().filter(
            mentor=mentor, ended_on__isnull=True
        ):
            _end_assignment(assignment, mentor.ended_on, Assignment.EndReason.MENTOR_LEFT)
            ended.append(assignment)
    return ended


def _end_assignment(assignment, day, reason):
    """End an open assignment on ``day`` (never before it started) for ``reason``."""
    assignment.ended_on = max(day, assignment.started_on)
    assignment.end_reason = reason
    assignment.save()


def mentor_from_client(client, started_on):
    """
    The mentor ``client`` grows into on the peer pathway, unsaved: their names, their
    borough as home, lived experience, and the link to the record of their own support.
    The one recipe for ``client_becomes_mentor`` and the demo data.
    """
    return Mentor(
        first_name=client.first_name,
        last_name=client.last_name,
        preferred_name=client.preferred_name,
        home_borough=client.borough,
        lived_experience=True,
        started_on=started_on,
        former_client=client,
        was_client=True,
        client_support_started_on=client.started_on,
    )


def becomes_mentor_refusal(client):
    """Why ``client`` cannot become a mentor from their record, or "" if they can."""
    if client.anonymised_on:
        return "This client's details were removed under the retention policy."
    mentor = Mentor.objects.filter(former_client=client).only("reference").first()
    if mentor is not None:
        return f"{client.reference} already became a mentor: {mentor.reference}."
    if client.started_on is None:
        return (
            "Support never started for this client: only a young person SOS supported can "
            "become a mentor from their record."
        )
    return ""


@transaction.atomic
def client_becomes_mentor(*, client, started_on, confirmed, by=None):
    """
    ``client`` becomes a mentor from ``started_on`` (the peer pathway): a Mentor made by
    ``mentor_from_client``, with a reference in the client's borough, the PEER_MENTOR step
    of their pathway on that day (one recorded before stays) and a "Became a peer mentor"
    milestone (unless they have one). While their own case is open, only when
    ``confirmed``. Refused with a ValidationError, nothing written, for a client who
    already became a mentor, whose support never started or who was anonymised, and for
    a day in the future or before their support started. Returns the mentor.
    """
    client = Client.objects.select_for_update().select_related("borough").get(pk=client.pk)
    if refusal := becomes_mentor_refusal(client):
        raise ValidationError(refusal)
    if started_on > timezone.localdate():
        raise ValidationError({"started_on": "This date is in the future."})
    if started_on < client.started_on:
        raise ValidationError(
            {
                "started_on": "A client can start mentoring on or after their own support "
                f"started, on {client.started_on:%d/%m/%Y}."
            }
        )
    if client.status in (Client.Status.REFERRED, Client.Status.ACTIVE) and not confirmed:
        raise ValidationError({"confirm": "This client's own case is still open: confirm it."})
    mentor = mentor_from_client(client, started_on)
    mentor.full_clean(exclude=["reference"])
    mentor_save(mentor=mentor)
    # No mentor reference in the history's reason: retention would leave it there, naming
    # the mentor beside an anonymised record. (The milestone's evidence is blanked.)
    reason = "Became a mentor"
    if not client.pathway_steps.filter(step=PathwayStep.Step.PEER_MENTOR).exists():
        step = PathwayStep(client=client, step=PathwayStep.Step.PEER_MENTOR, reached_on=started_on)
        _save_as(step, by, reason)
    if not client.milestones.filter(kind=Milestone.Kind.BECAME_PEER_MENTOR).exists():
        milestone = Milestone(
            client=client,
            kind=Milestone.Kind.BECAME_PEER_MENTOR,
            achieved_on=started_on,
            evidence=f"Mentor record {mentor.reference}",
            verified=True,
        )
        _save_as(milestone, by, reason)
    return mentor


def _save_as(record, by, reason):
    """Save a new record whose history entry names ``by`` and ``reason``."""
    record.full_clean()
    record._change_reason = reason
    if by is not None and by.is_authenticated:
        record._history_user = by
    record.save()


class EditConflict(Exception):
    """Someone else saved the record after this person opened it."""

    def __init__(self, current):
        super().__init__("The record was changed by someone else.")
        self.current = current


def _check_version(model, pk, expected_version):
    current = model.objects.select_for_update().get(pk=pk)
    if expected_version is not None and current.version != expected_version:
        raise EditConflict(current)
    return current


@transaction.atomic
def client_update(*, client, expected_version):
    """Save edits to a client unless someone else saved it since ``expected_version``."""
    _check_version(Client, client.pk, expected_version)
    return client_save(client=client)


# What a client's record holds, moved by ``clients_merge``: (name, model).
CLIENT_RECORDS = [
    ("assignments", Assignment),
    ("sessions", SupportSession),
    ("offences", Offence),
    ("milestones", Milestone),
    ("goals", Goal),
    ("placements", Placement),
    ("check-ins", FollowUp),
    ("pathway steps", PathwayStep),
]
MERGE_PROBLEMS_SHOWN = 5


def _merge_problem(record, keep):
    """Why ``record``, moved to ``keep``, breaks a rule of its own, or None."""
    if isinstance(record, Assignment) and record.ended_on is not None:
        # A past match stays as it was (its mentor need not serve keep's borough now).
        if record.started_on < keep.referred_on:
            return "A mentor cannot be assigned before the referral."
        return None
    if isinstance(record, Assignment) and keep.status != Client.Status.ACTIVE:
        return (
            f"{keep.reference}'s case is not active, and this match is current: end it "
            "first, or keep the other record."
        )
    if (
        isinstance(record, FollowUp)
        and FollowUp.objects.filter(client=keep, point=record.point).exists()
    ):
        return f"{keep.reference} has its {record.name} already: delete one of the two first."
    if isinstance(record, PathwayStep) and keep.pathway_steps.filter(step=record.step).exists():
        return f"{keep.reference} has this step of the pathway too: correct one of the two."
    try:
        record.clean()
    except ValidationError as error:
        return " ".join(error.messages)
    return None


def _move_or_refuse(records, client, refusal):
    """
    Give every record of ``records`` ({name: [record]}) to ``client``, unsaved, or raise a
    ValidationError that starts with ``refusal`` and names the first records that would
    break a rule there, as they read before the move.
    """
    problems = []
    for rows in records.values():
        for record in rows:
            label = str(record)
            record.client = client
            problem = _merge_problem(record, client)
            if problem:
                problems.append(f"{label}: {problem}")
    if problems:
        more = len(problems) - MERGE_PROBLEMS_SHOWN
        raise ValidationError(
            [
                refusal,
                *problems[:MERGE_PROBLEMS_SHOWN],
                *([f"And {more} more."] if more > 0 else []),
            ]
        )


def _save_moved(records, reason):
    """Save the records ``_move_or_refuse`` moved, each with a history entry for ``reason``."""
    for rows in records.values():
        for record in rows:
            record._change_reason = reason
            if hasattr(record, "version"):
                versioned_save(record)
            else:
                record.save()


@transaction.atomic
def clients_merge(*, keep, other, reason):
    """
    Bring ``other`` into ``keep``: two records of one young person become one. ``keep``'s
    own details stay; ``other``'s assignments, sessions, offences, milestones, goals,
    placements and pathway steps, its support needs, its access log and the mentor it
    became (if it did) move to ``keep``, and ``other`` is deleted, its reference kept as
    one of ``keep``'s former references (``other``'s own too). Every moved record, ``keep``
    and ``other``'s deletion get a history entry whose reason names both references and
    ``reason``. Returns {name: number moved}.

    Refused with a ValidationError, and nothing written, when the two do not share a date
    of birth and a first or last name (``Client.objects.named_alike``), when both have a
    current mentor or both became mentors, or when a moved record would break a rule on
    ``keep`` (a session before its referral or after it closed, a step of the pathway it
    has too...): correct the records first.
    """
    locked = Client.objects.select_for_update().in_bulk([keep.pk, other.pk])  # one order
    if keep.pk == other.pk or len(locked) != 2:
        raise ValidationError("Choose two different client records.")
    keep, other = locked[keep.pk], locked[other.pk]
    alike = Client.objects.filter(pk=other.pk).named_alike(
        keep.first_name, keep.last_name, keep.date_of_birth
    )
    if not keep.date_of_birth or not alike.exists():
        raise ValidationError(
            f"{keep.reference} and {other.reference} do not share a date of birth and a first "
            "or last name. If they are one young person, correct the record that is wrong "
            "first."
        )
    records = {
        name: list(model.objects.filter(client=other).order_by("pk"))
        for name, model in CLIENT_RECORDS
    }
    if (
        any(a.ended_on is None for a in records["assignments"])
        and keep.assignments.filter(ended_on__isnull=True).exists()
    ):
        raise ValidationError(
            f"Both {keep.reference} and {other.reference} have a current mentor: end one of "
            "the matches first."
        )
    became = Mentor.objects.filter(former_client__in=[keep, other]).order_by("pk")
    if len(became) > 1:
        raise ValidationError(
            f"Both {keep.reference} and {other.reference} became mentors "
            f"({', '.join(m.reference for m in became)}): one young person is one mentor."
        )
    _move_or_refuse(
        records,
        keep,
        f"{other.reference}'s records would break a rule on {keep.reference}: change "
        f"{keep.reference}'s dates, or bring {keep.reference} into {other.reference} instead.",
    )
    note = f"{_merge_note(other.reference, keep.reference)}{reason}"[:100]
    _save_moved(records, note)
    AccessLog.objects.filter(client=other).update(client=keep)  # its reference stays
    Mentor.objects.filter(former_client=other).update(former_client=keep)
    FormerReference.objects.filter(client=other).update(client=keep)
    FormerReference.objects.create(reference=other.reference, client=keep)
    needs = list(other.needs.all())
    other._change_reason = note
    other.delete()
    keep._change_reason = note
    client_save(client=keep)
    keep.needs.add(*needs)  # in keep's entry: what it had before stays in the one before
    return {name: len(rows) for name, rows in records.items()}


def _merge_note(reference, into):
    """The start of the history reason of a record ``reference`` brought into ``into``."""
    return f"{reference} brought into {into}: "


def brought_in(*, keep, reference):
    """
    What separating ``reference`` from ``keep`` would restore (``clients_separate``): the
    record's history snapshot from its deletion (``.instance`` is the record as it was)
    and {name: records the merge moved that ``keep`` still holds}. Raises ValidationError
    when ``reference`` is not a former reference of ``keep`` that a merge into ``keep`` left.
    """
    brought = _merge_note(reference, keep.reference)
    deleted = (
        Client.history.filter(reference=reference, history_type="-")
        .order_by("-history_date", "-history_id")
        .first()
    )
    if not (
        keep.former_references.filter(reference=reference).exists()
        and deleted
        and (deleted.history_change_reason or "").startswith(brought)
    ):
        raise ValidationError(
            f"{reference} was not brought into {keep.reference} as it is: only the latest "
            "record brought into a client can be separated from it."
        )
    note = deleted.history_change_reason
    records = {
        name: list(
            model.objects.filter(
                client=keep,
                pk__in=model.history.filter(
                    history_change_reason=note, history_type="~", client_id=keep.pk
                ).values("id"),
            ).order_by("pk")
        )
        for name, model in CLIENT_RECORDS
    }
    return deleted, records


def _needs_in(snapshots):
    """The support needs the newest of ``snapshots`` that recorded them held, or None."""
    last = snapshots.filter(many_to_many__isnull=False).order_by("-history_date", "-history_id")
    last = last.first()
    return None if last is None else set(last.many_to_many.get("needs", ()))


@transaction.atomic
def clients_separate(*, keep, reference, reason):
    """
    Undo ``clients_merge``: the record ``reference`` that was brought into ``keep`` comes
    back as it was deleted (same id, reference and details, its support needs as its last
    snapshot held them), and the records that the merge moved, and that ``keep`` still
    holds, go back to it, with the access log lines that read it and the former
    references it had brought along. Support needs that only it had brought are taken off
    ``keep``. Records added to ``keep`` since stay on ``keep``, as does the link of a
    mentor who grew from either record (which one is not recorded). Every record moved back,
    ``keep`` and the restored record get a history entry whose reason names both
    references and ``reason``. Returns ``(restored client, {name: number moved back})``.

    Refused with a ValidationError, and nothing written, when ``reference`` is not a former
    reference of ``keep`` that a merge into ``keep`` left (separate records in the reverse
    order of bringing them together), or when a record moved back would break a rule of
    the restored one (it was changed since the merge): correct it first.
    """
    keep = Client.objects.select_for_update().get(pk=keep.pk)
    deleted, records = brought_in(keep=keep, reference=reference)
    other = deleted.instance
    _move_or_refuse(
        records,
        other,
        f"Records that were {reference}'s were changed on {keep.reference} since and would "
        f"break a rule on {reference}: correct them first.",
    )
    own_needs = _needs_in(Client.history.filter(id=other.pk)) or set()
    keep_needs = _needs_in(
        keep.history.exclude(history_change_reason=deleted.history_change_reason).filter(
            history_date__lte=deleted.history_date
        )
    )
    brought_along = [
        former.reference
        for former in keep.former_references.exclude(reference=reference)
        if Client.history.filter(
            reference=former.reference,
            history_type="-",
            history_change_reason__startswith=_merge_note(former.reference, reference),
        ).exists()
    ]
    separated = f"{reference} separated from {keep.reference}: {reason}"[:100]
    keep.former_references.filter(reference=reference).delete()
    other._change_reason = separated  # its version starts again: history does not keep it
    other.save(force_insert=True)
    Client.objects.filter(pk=other.pk).update(created_at=deleted.created_at)
    other.needs.set(own_needs)
    _save_moved(records, separated)
    keep.former_references.filter(reference__in=brought_along).update(client=other)
    AccessLog.objects.filter(client=keep, client_reference__in=[reference, *brought_along]).update(
        client=other
    )
    keep._change_reason = separated
    client_save(client=keep)
    if keep_needs is not None:  # unknown before the history kept links: nothing is taken
        keep.needs.remove(*(own_needs - keep_needs))
    return other, {name: len(rows) for name, rows in records.items()}


@transaction.atomic
def client_start(*, client, started_on, release_date=None):
    client.status = Client.Status.ACTIVE
    client.started_on = started_on
    client.release_date = release_date
    client.full_clean()
    return client_save(client=client)


@transaction.atomic
def client_decline(*, client):
    client.status = Client.Status.DECLINED
    client.full_clean()
    return client_save(client=client)


@transaction.atomic
def client_close(*, client, ended_on, reason):
    """Close the case and end its open assignment on the same day."""
    client.status = Client.Status.CLOSED
    client.ended_on = ended_on
    client.closure_reason = reason
    client.full_clean()
    open_assignment = client.assignments.filter(ended_on__isnull=True).first()
    if open_assignment:
        _end_assignment(open_assignment, ended_on, Assignment.EndReason.CASE_CLOSED)
    return client_save(client=client)


# What a transfer copies to the new area's referral: who the young person is, how to reach
# them and what they need; not the case's dates, status or mentor, which start again there.
TRANSFER_COPIES = [
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "gender",
    "ethnicity",
    "risk_level",
    "gang_affiliated",
    "consent_recorded_on",
    "phone",
    "email",
    "address",
]


@transaction.atomic
def client_transfer(*, client, borough, on, note, by=None):
    """
    An active client moves to another area of the programme: a referral of the same young
    person opens in ``borough`` on ``on`` with their details, contact and support needs,
    from "Another SOS area" and linked to this record (``transferred_from``), for that
    area's coordinators to start or decline; and the case closes here that day
    (TRANSFERRED), ending the current match. Each record's history gives the other's
    reference and ``note``. Returns the new referral.
    """
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.status != Client.Status.ACTIVE:
        raise ValidationError("Only an active case can be transferred.")
    if borough.pk == client.borough_id or not borough.is_active:
        raise ValidationError("Choose another area of the programme that takes referrals.")
    referral = Client(
        **{name: getattr(client, name) for name in TRANSFER_COPIES},
        borough=borough,
        referral_source=Client.ReferralSource.TRANSFER,
        referred_on=on,
        transferred_from=client,
    )
    referral.full_clean(exclude=["reference"])
    referral._change_reason = f"Transferred from {client.reference}: {note}"[:100]
    client_save(client=referral, by=by)
    referral.needs.set(client.needs.all())
    client._change_reason = f"Transferred to {referral.reference}: {note}"[:100]
    client_close(client=client, ended_on=on, reason=Client.ClosureReason.TRANSFERRED)
    return referral


@transaction.atomic
def assignment_change(*, client, mentor, started_on, end_reason=None):
    """
    Give ``client`` a new mentor from ``started_on``, ending any open assignment that day
    (with ``end_reason``, default REASSIGNED).
    """
    current = (
        Assignment.objects.select_for_update().filter(client=client, ended_on__isnull=True).first()
    )
    if current:
        if current.mentor_id == mentor.pk:
            return current
        _end_assignment(current, started_on, end_reason or Assignment.EndReason.REASSIGNED)
    assignment = Assignment(client=client, mentor=mentor, started_on=started_on)
    assignment.full_clean()
    assignment.save()
    return assignment


@transaction.atomic
def assignment_end(*, assignment, ended_on, reason):
    """
    End ``assignment`` on ``ended_on`` for ``reason`` without a successor. Returns it, or
    None when it is no longer open: someone ended or replaced it since the form was read,
    and their change stands.
    """
    current = (
        Assignment.objects.select_for_update()
        .filter(pk=assignment.pk, ended_on__isnull=True)
        .first()
    )
    if current is None:
        return None
    _end_assignment(current, ended_on, reason)
    return current


class SubmissionReused(Exception):
    """A session form's one-time token was already used by another person."""


def session_log(*, session, support_areas, by):
    """
    Save a new support session once. A second submission of the same form carries the
    same token and gets back the session the first one saved, so a double click or a
    resubmitted form never makes two rows.
    """
    existing = SupportSession.objects.filter(submission_token=session.submission_token).first()
    if existing:
        if existing.logged_by_id != by.pk:
            # Only the person who first sent a form may get its session back: anyone else
            # replaying the token would learn of a record they may not see.
            raise SubmissionReused
        return existing, False
    session.logged_by = by
    try:
        with transaction.atomic():
            session.save()
            session.support_areas.set(support_areas)
    except IntegrityError:
        # The twin request won the race between our check and our insert.
        existing = SupportSession.objects.get(submission_token=session.submission_token)
        if existing.logged_by_id != by.pk:
            raise SubmissionReused from None
        return existing, False
    return session, True


@transaction.atomic
def session_update(*, session, support_areas, expected_version):
    record_update(record=session, expected_version=expected_version)
    session.support_areas.set(support_areas)
    return session


@transaction.atomic
def record_update(*, record, expected_version):
    """
    Save a change to a versioned record (a session, an offence's outcome, a milestone's
    evidence seen, a placement's end, a goal's review), unless someone saved the record
    since ``expected_version``: then ``EditConflict``, and nothing is written.
    """
    _check_version(type(record), record.pk, expected_version)
    return versioned_save(record)


class AlreadyRecorded(Exception):
    """Someone recorded this check-in first."""

    def __init__(self, record):
        super().__init__(record)
        self.record = record


def followup_record(*, followup, by):
    """
    Save a new check-in after a completed case, by ``by``. Two people recording the same
    one at once: the second gets ``AlreadyRecorded`` with the first's, and writes nothing.
    """
    if by is not None and by.is_authenticated:
        followup.recorded_by = by
    try:
        with transaction.atomic():
            followup.save()
    except IntegrityError:
        first = FollowUp.objects.filter(client=followup.client_id, point=followup.point).first()
        if first is None:
            raise
        raise AlreadyRecorded(first) from None
    return followup


class AlreadyHandled(Exception):
    """Someone recorded the follow-up of this safeguarding concern first."""

    def __init__(self, session):
        super().__init__(session)
        self.session = session


@transaction.atomic
def safeguarding_handle(*, session, action, by):
    """
    Record what was done about the safeguarding concern a session raised, by whom and
    when. The row is locked so that two coordinators cannot both record a follow-up.
    """
    current = SupportSession.objects.select_for_update().get(pk=session.pk)
    if current.safeguarding_handled_at is not None:
        raise AlreadyHandled(current)
    current.safeguarding_handled_at = timezone.now()
    current.safeguarding_handled_by = by
    current.safeguarding_action = action
    current.save(
        update_fields=[
            "safeguarding_handled_at",
            "safeguarding_handled_by",
            "safeguarding_action",
            "updated_at",
        ]
    )
    return current


def log_access(*, user, client, action, path=""):
    """Write one line of the access log: ``user`` did ``action`` to ``client``."""
    return AccessLog.objects.create(
        user=user,
        username=user.get_username(),
        client=client,
        client_reference=client.reference,
        action=action,
        path=path[:300],
    )

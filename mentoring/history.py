"""
Change history of one client's case: who changed what, when, from which value to which.

django-simple-history keeps a snapshot of a record after every save or delete (bulk
writes by ``import_records`` included, through ``bulk_create_with_history`` and
``bulk_update_with_history``). This module turns the snapshots of a client and of its
assignments, sessions, offences, milestones, goals, placements and pathway steps into a
readable list of changes, each one the difference between a snapshot and the one before
it. A client's support needs and a session's support areas are compared too, from the
links each snapshot recorded (``snapshots``).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.contrib.auth import get_user_model
from django.db import models
from django.utils import formats, timezone

from .models import (
    Assignment,
    Client,
    Employer,
    FollowUp,
    Goal,
    Mentor,
    Milestone,
    Offence,
    PathwayStep,
    Placement,
    SupportSession,
)

# The records of a client whose snapshots its history shows, beside its own.
RECORDS = [
    Assignment,
    SupportSession,
    Offence,
    Milestone,
    Goal,
    Placement,
    FollowUp,
    PathwayStep,
]
# Internal or automatic fields that say nothing to a reader.
HIDDEN_FIELDS = {"id", "created_at", "recorded_at", "submission_token", "client", "reference"}
ACTIONS = {"+": "Created", "~": "Changed", "-": "Deleted"}
EMPTY = "—"
UNKNOWN = object()  # links a snapshot did not record (see ``snapshots``)


@dataclass
class Change:
    when: datetime
    who: str
    reason: str
    action: str
    record: str
    fields: list = field(default_factory=list)  # (label, old, new)
    order: int = 0

    @property
    def changes(self):
        return [{"field": label, "from": old, "to": new} for label, old, new in self.fields]


def _display(model_field, value, names):
    if value is None or value == "":
        return EMPTY
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.ForeignKey):
        return names.get((model_field.related_model, value), f"#{value}")
    return readable(value)


def readable(value):
    """
    A stored value as a person reads it: Yes/No, dates as 26/11/2026, lists joined by
    commas, an em dash for nothing. The change history and the subject access page (which
    goes to the young person themself) both write values so.
    """
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def _record_label(model, snapshot, names):
    if model is Client:
        return "Client record"
    if model is SupportSession:
        return f"Session of {formats.date_format(snapshot.date, 'SHORT_DATE_FORMAT')}"
    if model is Offence:
        return f"Offence of {formats.date_format(snapshot.offence_date, 'SHORT_DATE_FORMAT')}"
    if model is Milestone:
        return f"Milestone: {snapshot.get_kind_display()}"
    if model is Goal:
        return f"Goal: {snapshot.description[:60]}"
    if model is Placement:
        kind = snapshot.get_kind_display()
        return f"Placement: {kind} at {names.get((Employer, snapshot.employer_id), 'an employer')}"
    if model is PathwayStep:
        return f"Pathway step: {snapshot.get_step_display()}"
    if model is Assignment:
        return f"Assignment to {names.get((Mentor, snapshot.mentor_id), 'a mentor')}"
    if model is FollowUp:
        return f"The {snapshot.point}-month check-in"
    return model._meta.verbose_name.capitalize()


def _fields(model):
    history_model = model.history.model
    tracked = {f.name for f in history_model._meta.fields}
    return [
        f for f in model._meta.concrete_fields if f.name in tracked and f.name not in HIDDEN_FIELDS
    ]


def _link_fields(model):
    """The many-to-many fields whose links the model's snapshots keep."""
    if not hasattr(model.history.model, "many_to_many"):
        return []
    return list(model._meta.many_to_many)


def _links(snapshot, f):
    if snapshot.many_to_many is None or f.name not in snapshot.many_to_many:
        return UNKNOWN
    return tuple(snapshot.many_to_many[f.name])


def _display_links(f, ids, names):
    if not ids:
        return EMPTY
    return ", ".join(sorted(names.get((f.related_model, pk), f"#{pk}") for pk in ids))


def _names(snapshots_by_model):
    """Readable names for the objects the snapshots point at: one query per kind."""
    User = get_user_model()
    wanted = {}
    for model, snapshots in snapshots_by_model.items():
        for f in _fields(model):
            if isinstance(f, models.ForeignKey):
                ids = {getattr(s, f.attname) for s in snapshots} - {None}
                wanted.setdefault(f.related_model, set()).update(ids)
        for f in _link_fields(model):
            for s in snapshots:
                links = _links(s, f)
                if links is not UNKNOWN:
                    wanted.setdefault(f.related_model, set()).update(links)
        wanted.setdefault(User, set()).update({s.history_user_id for s in snapshots} - {None})
    names = {}
    for related, ids in wanted.items():
        if not ids:
            continue
        if related is User:
            rows = User.objects.filter(pk__in=ids).values_list("pk", "username")
            names.update(((User, pk), username) for pk, username in rows)
        else:
            names.update(
                ((related, pk), str(obj)) for pk, obj in related.objects.in_bulk(ids).items()
            )
    return names


def _moves(snapshots_by_model):
    """
    {client id: reference} of the client records that the client's records came from
    (``services.clients_merge``), read from their history since they are deleted: one
    query, none when nothing was moved.
    """
    ids = set()
    for model in RECORDS:
        previous = {}
        snapshots = snapshots_by_model[model]
        for snapshot in snapshots:
            before = previous.get(snapshot.id)
            if before is not None and before.client_id != snapshot.client_id:
                ids.update((before.client_id, snapshot.client_id))
            previous[snapshot.id] = snapshot
    if not ids:
        return {}
    return dict(Client.history.filter(id__in=ids).values_list("id", "reference").distinct())


def _while_here(snapshots, pk):
    """
    The snapshots of records up to their last one held by client ``pk``: what came after
    a record was moved to another client is that client's, not this one's.
    """
    last = {s.id: i for i, s in enumerate(snapshots) if s.client_id == pk}
    return [s for i, s in enumerate(snapshots) if i <= last.get(s.id, -1)]


def client_changes(client):
    """
    Every change to ``client`` and its records, newest first. A record brought in from
    another client record (two records of one young person brought together) brings its
    history before the move with it, and the move shows as a change of client record.
    """
    order = ("history_date", "history_id")
    snapshots_by_model = {Client: list(Client.history.filter(id=client.pk).order_by(*order))}
    for model in RECORDS:
        held = model.history.filter(client_id=client.pk).values("id")  # ever, even if moved
        snapshots = model.history.filter(id__in=held).order_by(*order)
        snapshots_by_model[model] = _while_here(snapshots, client.pk)
    names = _names(snapshots_by_model)
    references = _moves(snapshots_by_model)
    User = get_user_model()
    changes = []
    for model, snapshots in snapshots_by_model.items():
        fields = _fields(model)
        link_fields = _link_fields(model)
        previous = {}
        known_links = {}  # (record id, field name): the last links recorded
        for snapshot in snapshots:
            before = previous.get(snapshot.id)
            previous[snapshot.id] = snapshot
            rows = []
            if (
                model is not Client
                and before is not None
                and before.client_id != snapshot.client_id
            ):
                rows.append(
                    (
                        "Client record",
                        references.get(before.client_id, f"#{before.client_id}"),
                        references.get(snapshot.client_id, f"#{snapshot.client_id}"),
                    )
                )
            for f in fields:
                new = getattr(snapshot, f.attname)
                old = getattr(before, f.attname) if before is not None else None
                if before is not None and old == new:
                    continue
                if before is None and snapshot.history_type == "+" and new in (None, ""):
                    continue
                if snapshot.history_type == "-":
                    continue
                rows.append(
                    (
                        str(f.verbose_name).capitalize(),
                        _display(f, old, names),
                        _display(f, new, names),
                    )
                )
            for f in link_fields:
                # A snapshot that did not record the links (older ones, bulk updates)
                # leaves the last known ones standing; a change is shown only between two
                # recorded states, or from nothing when the record was created.
                new = _links(snapshot, f)
                if new is UNKNOWN or snapshot.history_type == "-":
                    continue
                old = known_links.get((snapshot.id, f.name), UNKNOWN if before is not None else ())
                known_links[snapshot.id, f.name] = new
                if old is UNKNOWN or old == new:
                    continue
                rows.append(
                    (
                        str(f.verbose_name).capitalize(),
                        _display_links(f, old, names),
                        _display_links(f, new, names),
                    )
                )
            if snapshot.history_type == "~" and not rows:
                continue  # saved without a visible change
            changes.append(
                Change(
                    when=snapshot.history_date,
                    who=names.get((User, snapshot.history_user_id), "")
                    or ("system" if snapshot.history_user_id is None else "a deleted user"),
                    reason=snapshot.history_change_reason or "",
                    action=ACTIONS[snapshot.history_type],
                    record=_record_label(model, snapshot, names),
                    fields=rows,
                    order=snapshot.history_id,
                )
            )
    changes.sort(key=lambda c: (c.when, c.order), reverse=True)
    return changes


def as_data(changes):
    """The changes as plain data for the subject access export."""
    return [
        {
            "when": c.when,
            "who": c.who,
            "reason": c.reason,
            "action": c.action,
            "record": c.record,
            "changes": c.changes,
        }
        for c in changes
    ]

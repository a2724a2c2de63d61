"""
Change-history snapshots that include a record's many-to-many fields.

django-simple-history snapshots a record's own columns after every save or delete; a
client's support needs and a session's support areas live in link tables, so a change to
them alone would leave no trace. ``HistoricalRecordsWithLinks`` keeps, in every snapshot,
the ids each of the record's many-to-many fields holds (``{"needs": [2, 5]}``):

- a save records the links as they are in the database (none for a new record);
- a change to the links in the same transaction as that save (a form saves the record,
  then its many-to-many fields) amends that snapshot, so one edit is one change;
- a change to the links on its own is a change of its own, by the signed-in user.

``many_to_many`` is empty (null) where the links were not recorded: snapshots older than
this, and bulk updates that do not touch the links; ``history.client_changes`` then carries
the last known value forward.
"""

from functools import partial

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import m2m_changed
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record, pre_create_historical_record


class LinksSnapshot(models.Model):
    """Base of the history models of records with many-to-many fields."""

    many_to_many = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        help_text="The ids each many-to-many field held, e.g. {'needs': [2, 5]}.",
    )

    class Meta:
        abstract = True


def _links(instance, field):
    """The ids ``field`` of ``instance`` holds now, in the database, sorted."""
    through = field.remote_field.through
    source = field.m2m_field_name()
    target = field.m2m_reverse_name()
    return sorted(
        through._default_manager.using(instance._state.db)
        .filter(**{source: instance.pk})
        .values_list(target, flat=True)
    )


class HistoricalRecordsWithLinks(HistoricalRecords):
    """``HistoricalRecords`` whose snapshots also hold the record's many-to-many links."""

    def __init__(self, **kwargs):
        kwargs["bases"] = [LinksSnapshot, *kwargs.get("bases", ())]
        super().__init__(**kwargs)

    def finalize(self, sender, **kwargs):
        super().finalize(sender, **kwargs)
        if sender is not self.cls:
            return
        history_model = getattr(sender, self.manager_name).model
        pre_create_historical_record.connect(self._fill, sender=history_model, weak=False)
        post_create_historical_record.connect(self._remember, sender=history_model, weak=False)
        for field in sender._meta.many_to_many:
            m2m_changed.connect(
                partial(self._links_changed, field=field),
                sender=field.remote_field.through,
                weak=False,
            )

    def _fill(self, instance, history_instance, **kwargs):
        if history_instance.history_type == "-":
            return  # the links went with the record: nothing to read
        history_instance.many_to_many = {
            field.name: [] if history_instance.history_type == "+" else _links(instance, field)
            for field in self.cls._meta.many_to_many
        }

    def _remember(self, instance, history_instance, **kwargs):
        """Keep the snapshot on the instance until its transaction ends, to be amended."""
        if history_instance.history_type == "-":
            return
        instance._links_snapshot = history_instance

        def forget():
            if instance.__dict__.get("_links_snapshot") is history_instance:
                del instance._links_snapshot

        transaction.on_commit(forget, using=history_instance._state.db)

    def _links_changed(self, sender, instance, action, reverse, pk_set, field, **kwargs):
        if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
            return
        if reverse:
            # ``instance`` is the other side (a support area): snapshot each record changed.
            if action == "pre_clear":
                instance._links_cleared = list(
                    self.cls._default_manager.filter(**{field.name: instance}).values_list(
                        "pk", flat=True
                    )
                )
                return
            if action == "post_clear":
                pk_set = instance.__dict__.pop("_links_cleared", [])
            elif action not in ("post_add", "post_remove"):
                return
            for record in self.cls._default_manager.filter(pk__in=pk_set):
                self.create_historical_record(record, "~")
            return
        if action not in ("post_add", "post_remove", "post_clear"):
            return
        if hasattr(instance, "skip_history_when_saving"):
            return
        snapshot = instance.__dict__.get("_links_snapshot")
        if snapshot is None:
            self.create_historical_record(instance, "~")
            return
        links = dict(snapshot.many_to_many or {})
        held = set(links.get(field.name, ()))
        if action == "post_add":
            held |= pk_set
        elif action == "post_remove":
            held -= pk_set
        else:
            held = set()
        links[field.name] = sorted(held)
        snapshot.many_to_many = links
        type(snapshot)._default_manager.using(snapshot._state.db).filter(pk=snapshot.pk).update(
            many_to_many=links
        )

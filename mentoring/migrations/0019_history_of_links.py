"""
The change history of clients and sessions also keeps their many-to-many links (a client's
support needs, a session's support areas): see ``mentoring/snapshots.py``.

Snapshots taken before this hold no links (null). So that the first change to a record's
links after this migration can be shown as "from ... to ...", every client and session that
has a history gets one more snapshot now: its latest snapshot's columns, unchanged, with the
links it holds today. The history page lists no change for it (nothing visible changed).
"""

from django.db import migrations, models
from django.utils import timezone

REASON = "links recorded from here on (migration 0019)"
CHUNK = 2000


def record_links(apps, schema_editor):
    now = timezone.now()
    for model_name, field_name, through_source, through_target in (
        ("client", "needs", "client_id", "supportarea_id"),
        ("supportsession", "support_areas", "supportsession_id", "supportarea_id"),
    ):
        model = apps.get_model("mentoring", model_name)
        history = apps.get_model("mentoring", f"historical{model_name}")
        through = getattr(model, field_name).through
        latest = (
            history.objects.values("id")
            .annotate(last=models.Max("history_id"))
            .values_list("last", flat=True)
        )
        ids = list(latest)
        for start in range(0, len(ids), CHUNK):
            rows = list(
                history.objects.filter(history_id__in=ids[start : start + CHUNK]).exclude(
                    history_type="-"
                )
            )
            links = {}
            for source, target in through.objects.filter(
                **{f"{through_source}__in": [r.id for r in rows]}
            ).values_list(through_source, through_target):
                links.setdefault(source, []).append(target)
            for row in rows:
                row.history_id = None
                row.history_date = now
                row.history_type = "~"
                row.history_user_id = None
                row.history_change_reason = REASON
                row.many_to_many = {field_name: sorted(links.get(row.id, []))}
            history.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("mentoring", "0018_admin_list_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalclient",
            name="many_to_many",
            field=models.JSONField(
                blank=True,
                editable=False,
                help_text="The ids each many-to-many field held, e.g. {'needs': [2, 5]}.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="historicalsupportsession",
            name="many_to_many",
            field=models.JSONField(
                blank=True,
                editable=False,
                help_text="The ids each many-to-many field held, e.g. {'needs': [2, 5]}.",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="client",
            name="needs",
            field=models.ManyToManyField(
                blank=True,
                related_name="clients",
                to="mentoring.supportarea",
                verbose_name="support needs",
            ),
        ),
        migrations.RunPython(record_links, migrations.RunPython.noop),
    ]

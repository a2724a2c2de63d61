"""
Safeguarding concerns stay open until a coordinator records what was done about them.

Before this, the home page showed the concerns of the last 14 days and then let them go,
and what was done was kept nowhere. Concerns from sessions dated in the last 14 days were
still on the home page: they stay open, to be followed up. Older ones are closed as of
the day they left the home page (the session's date + 14 days), by nobody, with a note
saying so: they do not all come back at once, nor crowd the list of recent follow-ups.
"""

from datetime import datetime, time, timedelta

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

from mentoring import summaries

BEFORE_FOLLOW_UPS = (
    "Left the home page after 14 days, before SOS recorded what was done about "
    "concerns (migration 0020)."
)
SHOWN_FOR_DAYS = 14


def drop_triggers(apps, schema_editor):
    """SQLite adds a foreign key by rebuilding the table, which the summaries' triggers
    on it and on its link table would not survive: they go first and come back last."""
    summaries.uninstall(schema_editor)


def install_triggers(apps, schema_editor):
    summaries.install(schema_editor)


def close_old_concerns(apps, schema_editor):
    session = apps.get_model("mentoring", "SupportSession")
    old = session.objects.filter(
        safeguarding_concern=True,
        safeguarding_handled_at__isnull=True,
        date__lte=timezone.localdate() - timedelta(days=SHOWN_FOR_DAYS),
    ).only("pk", "date")
    closed = []
    for concern in old.iterator(chunk_size=2000):
        left = concern.date + timedelta(days=SHOWN_FOR_DAYS)
        concern.safeguarding_handled_at = timezone.make_aware(datetime.combine(left, time(0)))
        concern.safeguarding_action = BEFORE_FOLLOW_UPS
        closed.append(concern)
    session.objects.bulk_update(
        closed, ["safeguarding_handled_at", "safeguarding_action"], batch_size=1000
    )


class Migration(migrations.Migration):
    dependencies = [
        ("mentoring", "0019_history_of_links"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_triggers, install_triggers),
        migrations.RemoveIndex(
            model_name="supportsession",
            name="mentoring_session_safeguarding",
        ),
        migrations.AddField(
            model_name="historicalsupportsession",
            name="safeguarding_action",
            field=models.TextField(
                blank=True,
                editable=False,
                verbose_name="what was done about the safeguarding concern",
            ),
        ),
        migrations.AddField(
            model_name="historicalsupportsession",
            name="safeguarding_handled_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="safeguarding concern handled"
            ),
        ),
        migrations.AddField(
            model_name="historicalsupportsession",
            name="safeguarding_handled_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="safeguarding concern handled by",
            ),
        ),
        migrations.AddField(
            model_name="supportsession",
            name="safeguarding_action",
            field=models.TextField(
                blank=True,
                editable=False,
                verbose_name="what was done about the safeguarding concern",
            ),
        ),
        migrations.AddField(
            model_name="supportsession",
            name="safeguarding_handled_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="safeguarding concern handled"
            ),
        ),
        migrations.AddField(
            model_name="supportsession",
            name="safeguarding_handled_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="safeguarding concern handled by",
            ),
        ),
        migrations.RunPython(close_old_concerns, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="supportsession",
            index=models.Index(
                condition=models.Q(
                    ("safeguarding_concern", True), ("safeguarding_handled_at__isnull", True)
                ),
                fields=["date"],
                name="mentoring_session_sg_open",
            ),
        ),
        migrations.AddIndex(
            model_name="supportsession",
            index=models.Index(
                condition=models.Q(("safeguarding_handled_at__isnull", False)),
                fields=["safeguarding_handled_at"],
                name="mentoring_session_sg_handled",
            ),
        ),
        migrations.RunPython(install_triggers, drop_triggers),
    ]

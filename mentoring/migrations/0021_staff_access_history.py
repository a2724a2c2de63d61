"""
A history of every staff profile, with the boroughs it gives access to: who could see
which boroughs, from when, and who changed it. Each existing profile gets a first
snapshot now, so that the first change after this shows what it changed from.
"""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

REASON = "access recorded from here on (migration 0021)"


def record_access(apps, schema_editor):
    profile = apps.get_model("mentoring", "StaffProfile")
    history = apps.get_model("mentoring", "HistoricalStaffProfile")
    now = timezone.now()
    boroughs = {}
    for profile_id, borough_id in profile.boroughs.through.objects.values_list(
        "staffprofile_id", "borough_id"
    ):
        boroughs.setdefault(profile_id, []).append(borough_id)
    history.objects.bulk_create(
        history(
            id=p.pk,
            user_id=p.user_id,
            role=p.role,
            history_date=now,
            history_type="~",
            history_change_reason=REASON,
            many_to_many={"boroughs": sorted(boroughs.get(p.pk, []))},
        )
        for p in profile.objects.all()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("mentoring", "0020_safeguarding_follow_up"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HistoricalStaffProfile",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                (
                    "many_to_many",
                    models.JSONField(
                        blank=True,
                        editable=False,
                        help_text="The ids each many-to-many field held, e.g. {'needs': [2, 5]}.",
                        null=True,
                    ),
                ),
                (
                    "role",
                    models.CharField(
                        choices=[
                            ("COORDINATOR", "Coordinator"),
                            ("MANAGER", "Manager"),
                            ("MENTOR", "Mentor"),
                        ],
                        max_length=20,
                    ),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "historical staff profile",
                "verbose_name_plural": "historical staff profiles",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.RunPython(record_access, migrations.RunPython.noop),
    ]

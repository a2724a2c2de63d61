"""
After support ends: follow-up check-ins at 3, 6 and 12 months, and the peer pathway (dated
steps, and the mentor record a former client became).

SQLite adds the mentor's one-to-one link and check by rebuilding the table, which the
summaries' triggers on it would not survive: they go first and come back last, with the
trigger SQL frozen in 0029.
"""

from importlib import import_module

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

_0029 = import_module("mentoring.migrations.0029_client_transfer")


class Migration(migrations.Migration):
    dependencies = [
        ("mentoring", "0035_safeguarding_alert"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(_0029.drop_triggers, _0029.install_triggers),
        migrations.CreateModel(
            name="FollowUp",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "point",
                    models.PositiveSmallIntegerField(
                        choices=[(3, "3 months"), (6, "6 months"), (12, "12 months")]
                    ),
                ),
                (
                    "done_on",
                    models.DateField(
                        help_text="When they were reached, or last tried.", verbose_name="done on"
                    ),
                ),
                ("reached", models.BooleanField(help_text="Whether the young person was reached.")),
                (
                    "in_ete",
                    models.BooleanField(
                        blank=True, null=True, verbose_name="in education, training or employment"
                    ),
                ),
                (
                    "stable_accommodation",
                    models.BooleanField(
                        blank=True, null=True, verbose_name="in stable accommodation"
                    ),
                ),
                (
                    "new_offence_told",
                    models.BooleanField(
                        blank=True,
                        help_text="Their own word only: never counted as a proven reoffence.",
                        null=True,
                        verbose_name="tells of a new offence",
                    ),
                ),
                ("note", models.TextField(blank=True)),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
                ("version", models.PositiveIntegerField(default=1, editable=False)),
            ],
            options={
                "verbose_name": "follow-up check-in",
                "ordering": ["client", "point"],
            },
        ),
        migrations.CreateModel(
            name="HistoricalFollowUp",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                (
                    "point",
                    models.PositiveSmallIntegerField(
                        choices=[(3, "3 months"), (6, "6 months"), (12, "12 months")]
                    ),
                ),
                (
                    "done_on",
                    models.DateField(
                        help_text="When they were reached, or last tried.", verbose_name="done on"
                    ),
                ),
                ("reached", models.BooleanField(help_text="Whether the young person was reached.")),
                (
                    "in_ete",
                    models.BooleanField(
                        blank=True, null=True, verbose_name="in education, training or employment"
                    ),
                ),
                (
                    "stable_accommodation",
                    models.BooleanField(
                        blank=True, null=True, verbose_name="in stable accommodation"
                    ),
                ),
                (
                    "new_offence_told",
                    models.BooleanField(
                        blank=True,
                        help_text="Their own word only: never counted as a proven reoffence.",
                        null=True,
                        verbose_name="tells of a new offence",
                    ),
                ),
                ("note", models.TextField(blank=True)),
                ("recorded_at", models.DateTimeField(blank=True, editable=False)),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
            ],
            options={
                "verbose_name": "historical follow-up check-in",
                "verbose_name_plural": "historical follow-up check-ins",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalPathwayStep",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                (
                    "step",
                    models.CharField(
                        choices=[
                            ("VOLUNTEERING", "Volunteering"),
                            ("LEVEL_2", "Level 2 training (learning to advise)"),
                            ("LEVEL_3", "Level 3 Advice and Guidance"),
                            ("PEER_MENTOR", "Peer mentor"),
                            ("PAID_STAFF", "Paid staff"),
                        ],
                        max_length=20,
                    ),
                ),
                ("reached_on", models.DateField(verbose_name="reached on")),
                ("note", models.TextField(blank=True)),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
            ],
            options={
                "verbose_name": "historical peer pathway step",
                "verbose_name_plural": "historical peer pathway steps",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="PathwayStep",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "step",
                    models.CharField(
                        choices=[
                            ("VOLUNTEERING", "Volunteering"),
                            ("LEVEL_2", "Level 2 training (learning to advise)"),
                            ("LEVEL_3", "Level 3 Advice and Guidance"),
                            ("PEER_MENTOR", "Peer mentor"),
                            ("PAID_STAFF", "Paid staff"),
                        ],
                        max_length=20,
                    ),
                ),
                ("reached_on", models.DateField(verbose_name="reached on")),
                ("note", models.TextField(blank=True)),
                ("version", models.PositiveIntegerField(default=1, editable=False)),
            ],
            options={
                "verbose_name": "peer pathway step",
                "ordering": ["client", "reached_on", "pk"],
            },
        ),
        migrations.AddField(
            model_name="mentor",
            name="client_support_started_on",
            field=models.DateField(
                blank=True,
                editable=False,
                help_text="When their own support as a client started.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="mentor",
            name="former_client",
            field=models.OneToOneField(
                blank=True,
                editable=False,
                help_text="The client record this mentor grew from.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="became_mentor",
                to="mentoring.client",
            ),
        ),
        migrations.AddField(
            model_name="mentor",
            name="was_client",
            field=models.BooleanField(
                default=False,
                editable=False,
                help_text="Once an SOS client.",
                verbose_name="former SOS client",
            ),
        ),
        migrations.AddConstraint(
            model_name="mentor",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("former_client__isnull", True), ("was_client", True), _connector="OR"
                ),
                name="mentoring_mentor_former_client_was_client",
                violation_error_message="A mentor linked to a client record was a client.",
            ),
        ),
        migrations.AddField(
            model_name="followup",
            name="client",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="followups",
                to="mentoring.client",
            ),
        ),
        migrations.AddField(
            model_name="followup",
            name="recorded_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="historicalfollowup",
            name="client",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="mentoring.client",
            ),
        ),
        migrations.AddField(
            model_name="historicalfollowup",
            name="history_user",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="historicalfollowup",
            name="recorded_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="historicalpathwaystep",
            name="client",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="mentoring.client",
            ),
        ),
        migrations.AddField(
            model_name="historicalpathwaystep",
            name="history_user",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="pathwaystep",
            name="client",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="pathway_steps",
                to="mentoring.client",
            ),
        ),
        migrations.AddConstraint(
            model_name="followup",
            constraint=models.UniqueConstraint(
                fields=("client", "point"), name="mentoring_followup_once"
            ),
        ),
        migrations.AddConstraint(
            model_name="followup",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("in_ete__isnull", False),
                        ("new_offence_told__isnull", False),
                        ("reached", True),
                        ("stable_accommodation__isnull", False),
                    ),
                    models.Q(
                        ("in_ete__isnull", True),
                        ("new_offence_told__isnull", True),
                        ("reached", False),
                        ("stable_accommodation__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="mentoring_followup_answers_when_reached",
                violation_error_message="A check-in that reached the young person answers every question; one that did not reach them answers none.",
            ),
        ),
        migrations.AddConstraint(
            model_name="pathwaystep",
            constraint=models.UniqueConstraint(
                fields=("client", "step"), name="mentoring_pathwaystep_once"
            ),
        ),
        migrations.RunPython(_0029.install_triggers, _0029.drop_triggers),
    ]

"""
A young person who moves to another area of the programme: their case closes in one area
and a referral opens in the other, linked to it (``services.client_transfer``), from the
new referral source "Another SOS area".
"""

import django.db.models.deletion
from django.db import migrations, models

from mentoring import summaries


def drop_triggers(apps, schema_editor):
    """SQLite adds a foreign key by rebuilding the table, which the summaries' triggers
    on it would not survive: they go first and come back last (as in 0020)."""
    summaries.uninstall(schema_editor)


def install_triggers(apps, schema_editor):
    summaries.install(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("mentoring", "0028_former_reference"),
    ]

    operations = [
        migrations.RunPython(drop_triggers, install_triggers),
        migrations.AddField(
            model_name="client",
            name="transferred_from",
            field=models.OneToOneField(
                blank=True,
                editable=False,
                help_text="The record in the area this young person moved from.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="transferred_to",
                to="mentoring.client",
            ),
        ),
        migrations.AddField(
            model_name="historicalclient",
            name="transferred_from",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                editable=False,
                help_text="The record in the area this young person moved from.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="mentoring.client",
            ),
        ),
        migrations.AlterField(
            model_name="client",
            name="referral_source",
            field=models.CharField(
                choices=[
                    ("POLICE", "Police"),
                    ("PROBATION", "Probation"),
                    ("YOUTH_OFFENDING_TEAM", "Youth offending team"),
                    ("PRISON", "Prison"),
                    ("COURT", "Court"),
                    ("SOCIAL_SERVICES", "Social services"),
                    ("SCHOOL", "School"),
                    ("SELF", "Self-referral"),
                    ("FAMILY", "Family"),
                    ("TRANSFER", "Another SOS area"),
                    ("OTHER", "Other"),
                ],
                max_length=30,
            ),
        ),
        migrations.AlterField(
            model_name="historicalclient",
            name="referral_source",
            field=models.CharField(
                choices=[
                    ("POLICE", "Police"),
                    ("PROBATION", "Probation"),
                    ("YOUTH_OFFENDING_TEAM", "Youth offending team"),
                    ("PRISON", "Prison"),
                    ("COURT", "Court"),
                    ("SOCIAL_SERVICES", "Social services"),
                    ("SCHOOL", "School"),
                    ("SELF", "Self-referral"),
                    ("FAMILY", "Family"),
                    ("TRANSFER", "Another SOS area"),
                    ("OTHER", "Other"),
                ],
                max_length=30,
            ),
        ),
        migrations.RunPython(install_triggers, drop_triggers),
    ]

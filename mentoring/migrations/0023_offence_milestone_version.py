"""
Offences and milestones get a version, as clients and sessions have, so that a
coordinator's correction crossed by another person's save is refused.

SQLite adds a column with a default by rebuilding the table, which the figures' triggers
on offences and milestones would not survive: they go first and come back last (as in
0020). PostgreSQL adds the column in place; reinstalling there changes nothing.
"""

from django.db import migrations, models

from mentoring import summaries


def drop_triggers(apps, schema_editor):
    summaries.uninstall(schema_editor)


def install_triggers(apps, schema_editor):
    summaries.install(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("mentoring", "0022_safeguarding_open_by_client"),
    ]

    operations = [
        migrations.RunPython(drop_triggers, install_triggers),
        migrations.AddField(
            model_name="milestone",
            name="version",
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
        migrations.AddField(
            model_name="offence",
            name="version",
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
        migrations.RunPython(install_triggers, drop_triggers),
    ]

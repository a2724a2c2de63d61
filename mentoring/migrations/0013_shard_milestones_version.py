from django.db import migrations, models

from mentoring import summaries


def install(apps, schema_editor):
    """
    The triggers with two versions per case shard (summaries.py): a milestone raises only
    its shard's milestones version, an offence only its version, a client both.
    """
    summaries.install(schema_editor)


def uninstall(apps, schema_editor):
    summaries.uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("mentoring", "0012_case_shards"),
    ]

    operations = [
        migrations.AddField(
            model_name="caseshardversion",
            name="milestones_version",
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(install, uninstall),
    ]

"""
The day a goal stopped being open, for the client's timeline. Goals already achieved (or
not) take it from their change history: the first change after which they were no longer
open, on the day it was recorded. Goals with no such history are left without a date.
"""

from django.db import migrations, models
from django.utils import timezone

OPEN = "OPEN"


def from_history(apps, schema_editor):
    Goal = apps.get_model("mentoring", "Goal")
    HistoricalGoal = apps.get_model("mentoring", "HistoricalGoal")
    closed = Goal.objects.exclude(status=OPEN).filter(reviewed_on__isnull=True)
    for goal in closed.iterator():
        reviewed = None
        for row in HistoricalGoal.objects.filter(id=goal.pk).order_by("history_date", "pk"):
            if row.status == OPEN:
                reviewed = None
            elif reviewed is None:
                reviewed = timezone.localdate(row.history_date)
        if reviewed is not None:
            Goal.objects.filter(pk=goal.pk).update(reviewed_on=reviewed)


class Migration(migrations.Migration):
    dependencies = [
        ("mentoring", "0030_signed_in_session_to_accounts"),
    ]

    operations = [
        migrations.AddField(
            model_name="goal",
            name="reviewed_on",
            field=models.DateField(
                blank=True, editable=False, null=True, verbose_name="outcome recorded on"
            ),
        ),
        migrations.AddField(
            model_name="historicalgoal",
            name="reviewed_on",
            field=models.DateField(
                blank=True, editable=False, null=True, verbose_name="outcome recorded on"
            ),
        ),
        migrations.RunPython(from_history, migrations.RunPython.noop),
    ]

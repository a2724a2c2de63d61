"""``manage.py replication_report``: each area's figures by programme year."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from mentoring import metrics, replica
from mentoring.management import as_of_day


class Command(BaseCommand):
    help = (
        "Print each area's figures by programme year (year 1 from its launch, 365 days "
        "each) beside the area launched first, as JSON (default) or CSV with one row per "
        "area and year. Rates are fractions, empty (null) where the intake cohort is 0."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of",
            type=as_of_day,
            required=True,
            help="Compute as known on YYYY-MM-DD: later records are ignored.",
        )
        parser.add_argument(
            "--format", dest="output_format", choices=["json", "csv"], default="json"
        )

    def handle(self, *args, as_of, output_format, **options):
        if as_of > timezone.localdate():
            raise CommandError(
                f"--as-of {as_of} is in the future: figures are only known up to today."
            )
        # Read, like the dashboards, from the read replica when there is one.
        data = replica.on_replica(metrics.replication, None, as_of)
        if output_format == "csv":
            metrics.write_replication_csv(data, self.stdout)
        else:
            self.stdout.write(metrics.report_json(data))

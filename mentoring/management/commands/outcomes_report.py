"""``manage.py outcomes_report``: the outcome figures per borough and for the network."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from mentoring import metrics, replica
from mentoring.management import as_of_day
from mentoring.models import Borough


class Command(BaseCommand):
    help = (
        "Print the outcome figures as of a date, for the whole network and each borough, "
        "as JSON (default) or CSV with one row per scope. Rates are fractions between 0 and "
        "1, empty (null) where their denominator is 0; money has two decimals."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of",
            type=as_of_day,
            help="Compute as known on YYYY-MM-DD: later records are ignored (default: today).",
        )
        parser.add_argument(
            "--borough",
            metavar="SLUG",
            help="List only this borough; the network figures still cover every borough.",
        )
        parser.add_argument(
            "--format", dest="output_format", choices=["json", "csv"], default="json"
        )

    def handle(self, *args, as_of, borough, output_format, **options):
        # Read, like the dashboards, from the read replica when there is one.
        report = replica.on_replica(self.report, as_of or timezone.localdate(), borough)
        if output_format == "csv":
            metrics.write_report_csv(report, self.stdout)
        else:
            self.stdout.write(metrics.report_json(report))

    def report(self, as_of, borough):
        if borough and not Borough.objects.filter(slug=borough).exists():
            known = ", ".join(Borough.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(f"No borough with slug {borough!r}. Known: {known or 'none'}.")
        report = metrics.with_sustained_employment(metrics.report(None, as_of), None, as_of)
        report = metrics.with_pathway(report, None, as_of)
        if borough:
            report["boroughs"] = [b for b in report["boroughs"] if b["slug"] == borough]
        return report

"""``manage.py impact_report``: the funders' impact report, PDF, HTML or JSON (``impact``)."""

import getpass

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from mentoring import impact, replica
from mentoring.management import day_argument
from mentoring.models import Borough


class Command(BaseCommand):
    help = (
        "Write the impact report of the clients whose support started from --from to --to "
        "(inclusive), for the whole network or one area, as known on --as-of (default "
        "today): a PDF, a standalone HTML file or JSON. Counts of 1 to 9 people are never "
        "written. Each report made is logged."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, type=day_argument("--from"))
        parser.add_argument("--to", dest="end", required=True, type=day_argument("--to"))
        parser.add_argument("--borough", metavar="SLUG", help="Only this area (default: all).")
        parser.add_argument(
            "--as-of",
            type=day_argument("--as-of"),
            help="Figures as known on YYYY-MM-DD (default today): later records are ignored.",
        )
        parser.add_argument(
            "--format", dest="output_format", required=True, choices=sorted(impact.FORMATS)
        )
        parser.add_argument("--output", required=True, metavar="FILE")
        parser.add_argument(
            "--by",
            metavar="NAME",
            help="Who the report is made by, for the log (default: the system user).",
        )

    def handle(self, *args, start, end, borough, as_of, output_format, output, by, **options):
        today = timezone.localdate()
        as_of = as_of or today
        if as_of > today:
            raise CommandError(
                f"--as-of {as_of} is in the future: figures are only known up to today."
            )
        if start < impact.EARLIEST:
            raise CommandError(f"--from ({start}) cannot be before {impact.EARLIEST}.")
        if as_of < impact.EARLIEST:
            raise CommandError(f"--as-of ({as_of}) cannot be before {impact.EARLIEST}.")
        if start > end:
            raise CommandError(f"--from ({start}) is after --to ({end}).")
        if start > as_of:
            raise CommandError(
                f"--from ({start}) is after --as-of ({as_of}): nobody in the period had "
                "started yet."
            )
        if borough:
            area = Borough.objects.filter(slug=borough).first()
            if area is None:
                known = ", ".join(Borough.objects.order_by("slug").values_list("slug", flat=True))
                raise CommandError(f"No borough with slug {borough!r}. Known: {known or 'none'}.")
            scope = impact.area_scope(area)
        else:
            scope = impact.whole_network()
        context = replica.on_replica(impact.report_context, scope, start, end, as_of)
        content = {
            "json": lambda: impact.report_json(context).encode(),
            "html": lambda: impact.document(context).encode(),
            "pdf": lambda: impact.pdf(context),
        }[output_format]()
        try:
            with open(output, "wb") as stream:
                stream.write(content)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror}.") from None
        impact.log(
            user=None,
            username=by or f"impact_report ({getpass.getuser()})",
            scope=scope,
            start=start,
            end=end,
            as_of=as_of,
            format=output_format,
            by_command=True,
        )
        self.stdout.write(f"Impact report of {scope.name} written to {output} ({output_format}).")

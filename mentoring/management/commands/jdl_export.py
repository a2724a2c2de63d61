"""``manage.py jdl_export``: the Justice Data Lab submission for a period (``mentoring.jdl``)."""

import getpass

from django.core.management.base import BaseCommand, CommandError

from mentoring import jdl
from mentoring.management import day_argument
from mentoring.models import Borough


class Command(BaseCommand):
    help = (
        "Write the Justice Data Lab submission: one row per client whose support started "
        "from --from to --to (inclusive), with the identities the Lab matches on. At least "
        f"{jdl.MINIMUM_PEOPLE} people, or nothing is written. Every client in the file gets "
        "an access-log line with the reason. Send the file by the Lab's secure transfer, "
        "never by e-mail."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, type=day_argument("--from"))
        parser.add_argument("--to", dest="end", required=True, type=day_argument("--to"))
        parser.add_argument("--borough", metavar="SLUG", help="Only this area's clients.")
        parser.add_argument(
            "--reason", required=True, help="Why the data leaves the programme (access log)."
        )
        parser.add_argument("--output", required=True, metavar="FILE.csv")
        parser.add_argument(
            "--by",
            metavar="NAME",
            help="Who is sending it, for the access log (default: the system user).",
        )

    def handle(self, *args, start, end, borough, reason, output, by, **options):
        if start > end:
            raise CommandError(f"--from ({start}) is after --to ({end}).")
        reason = " ".join(reason.split())
        if not reason:
            raise CommandError("--reason must say why the data leaves the programme.")
        area = None
        if borough:
            area = Borough.objects.filter(slug=borough).first()
            if area is None:
                known = ", ".join(Borough.objects.order_by("slug").values_list("slug", flat=True))
                raise CommandError(f"No borough with slug {borough!r}. Known: {known or 'none'}.")
        try:
            clients = jdl.people(jdl.submission_clients(start=start, end=end, borough=area))
        except jdl.TooFewPeople as error:
            raise CommandError(str(error)) from None
        username = (by or f"jdl_export ({getpass.getuser()})")[:150]
        try:
            with open(output, "w", encoding="utf-8", newline="") as stream:
                count = jdl.export(clients=clients, reason=reason, stream=stream, username=username)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror}.") from None
        self.stdout.write(
            f"{count} people written to {output}. Send it by the Justice Data Lab's secure "
            "transfer, never by e-mail."
        )

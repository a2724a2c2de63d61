"""``manage.py seed_scale``: a London-wide data set for benchmarks and load tests."""

import argparse
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from mentoring.seed import scale
from mentoring.seed.logins import DEMO_PASSWORD


def _count(minimum):
    def parse(value):
        try:
            number = int(value.replace(",", "").replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, not {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {number}")
        return number

    return parse


def _day(value):
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date as YYYY-MM-DD, not {value!r}") from None


class Command(BaseCommand):
    help = (
        "Build a London-wide data set for benchmarks and load tests: by default 40 areas "
        "(every London borough and the City of London, then Bristol, Dorset and others), "
        "1,000 mentors, 100,000 clients, 2,000,000 support sessions and 60,000 offences, "
        "shaped like the demo data. With only --clients, mentors, sessions and offences "
        "scale in proportion (1 mentor, 20 sessions and 0.6 offences per client). "
        "Deterministic for a given --seed and --today. On PostgreSQL it loads with COPY in "
        "one transaction (a few minutes at full size), elsewhere with bulk_create. The "
        "change-history tables (Historical*) are NOT populated: generated rows have no "
        "history. Refuses to run if programme data is present, unless --reset is given. "
        "Creates benchmark logins (scale.coordinator.<code>, scale.manager, "
        "scale.manager.london, scale.mentor)."
    )

    def add_arguments(self, parser):
        sizes = scale.Sizes()
        parser.add_argument(
            "--clients",
            type=_count(1),
            default=sizes.clients,
            help=f"Clients (default {sizes.clients:,}).",
        )
        parser.add_argument(
            "--boroughs",
            type=_count(1),
            help=f"Areas, 1 to {scale.MAX_BOROUGHS} (default {sizes.boroughs}).",
        )
        parser.add_argument(
            "--mentors",
            type=_count(1),
            help=f"Mentors (default {sizes.mentors:,} for {sizes.clients:,} clients, "
            f"at least {scale.MIN_MENTORS_PER_BOROUGH} per area).",
        )
        parser.add_argument(
            "--sessions",
            type=_count(0),
            help=f"Support sessions (default {scale.SESSIONS_PER_CLIENT:g} per client).",
        )
        parser.add_argument(
            "--offences",
            type=_count(0),
            help=f"Offences (default {scale.OFFENCES_PER_CLIENT:g} per client).",
        )
        parser.add_argument("--seed", type=int, default=2006, help="Random seed (default 2006).")
        parser.add_argument(
            "--today",
            type=_day,
            help="Build the data as if today were YYYY-MM-DD (default: today).",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete ALL programme records and the demo users first.",
        )

    def handle(self, *args, **options):
        sizes = scale.Sizes.for_clients(
            options["clients"],
            boroughs=options["boroughs"],
            mentors=options["mentors"],
            sessions=options["sessions"],
            offences=options["offences"],
        )
        problems = sizes.problems()
        if problems:
            raise CommandError(" ".join(problems))
        today = options["today"] or timezone.localdate()
        if today < scale.EARLIEST_TODAY:
            raise CommandError(f"--today must be {scale.EARLIEST_TODAY:%Y-%m-%d} or later.")
        if today > timezone.localdate():
            raise CommandError("--today cannot be in the future.")
        self.stdout.write(
            f"Building {sizes.boroughs:,} areas, {sizes.mentors:,} mentors, "
            f"{sizes.clients:,} clients, {sizes.sessions:,} sessions and {sizes.offences:,} "
            f"offences on {connection.vendor} ({connection.settings_dict['NAME']}), "
            f"seed {options['seed']}, as of {today:%Y-%m-%d}."
        )
        builder = scale.ScaleBuilder(sizes, seed=options["seed"], today=today, stdout=self.stdout)
        try:
            counts = builder.build(reset=options["reset"])
        except scale.DataPresent:
            raise CommandError(
                "Programme data is already present: nothing loaded. Use --reset to delete it "
                "(all boroughs, clients and their records) and build the scale data set."
            ) from None
        except ValueError as error:
            raise CommandError(str(error)) from None
        summary = ", ".join(f"{n:,} {name}" for name, n in counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Scale data loaded in {builder.timings['total']:.1f} s (seed {options['seed']}): "
                f"{summary}."
            )
        )
        self.print_logins(builder.users)

    def print_logins(self, logins):
        if not logins:
            return
        if settings.DEV_MODE:
            self.stdout.write(
                f"\nBenchmark logins (development mode only), password '{DEMO_PASSWORD}':"
            )
            for username, description in logins:
                self.stdout.write(f"  {username:<26} {description}")
        else:
            self.stdout.write(
                "\nBenchmark logins: "
                + ", ".join(username for username, _ in logins)
                + ". They have no usable password outside development mode: set one with "
                "`manage.py changepassword USERNAME`."
            )

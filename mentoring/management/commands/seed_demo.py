"""``manage.py seed_demo``: load the fictional demo data set built from the case study."""

from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from mentoring.seed.demo import DemoBuilder
from mentoring.seed.logins import DEMO_PASSWORD


def _positive_float(value):
    try:
        number = float(value)
    except ValueError:
        raise CommandError(f"--scale must be a number, not {value!r}") from None
    if number <= 0:
        raise CommandError("--scale must be greater than 0")
    return number


class Command(BaseCommand):
    help = (
        "Load a realistic, fictional demo data set: seven areas, ~30 mentors, ~550 clients "
        "since 2006 with sessions, offences and milestones, and demo logins for each role. "
        "Does nothing if programme data is already present, unless --reset is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2006, help="Random seed (default 2006).")
        parser.add_argument(
            "--scale", type=_positive_float, default=1.0, help="Multiply the clients (default 1)."
        )
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            help="Build the data as if today were YYYY-MM-DD (default: today).",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete ALL programme records and the demo users first.",
        )

    def handle(self, *args, seed, scale, today, reset, verbosity, **options):
        today = today or timezone.localdate()
        if reset:
            DemoBuilder.reset()
            self.stdout.write("Deleted all programme records and demo users.")
        elif DemoBuilder.has_data():
            self.stdout.write(
                "Programme data is already present: nothing loaded. "
                "Use --reset to replace it with the demo data."
            )
            self.print_logins(DemoBuilder.existing_logins())
            return
        builder = DemoBuilder(seed=seed, scale=scale, today=today)
        counts = builder.build()
        summary = ", ".join(f"{n:,} {name}" for name, n in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded (seed {seed}): {summary}."))
        self.print_logins(builder.users)

    def print_logins(self, logins):
        if not logins:
            return
        if settings.DEV_MODE:
            self.stdout.write(f"\nDemo logins (development mode only), password '{DEMO_PASSWORD}':")
            for username, description in logins:
                self.stdout.write(f"  {username:<16} {description}")
        else:
            self.stdout.write(
                "Demo users have no usable password outside development mode: set one with "
                "`manage.py changepassword USERNAME`."
            )

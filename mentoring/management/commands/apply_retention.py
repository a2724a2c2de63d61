"""``manage.py apply_retention [--dry-run]``: anonymise clients past the retention period."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from mentoring import retention
from mentoring.management import as_of_day


def _years(value):
    try:
        years = int(value)
    except ValueError:
        years = -1
    if years < 1:
        raise CommandError(f"--years must be a whole number of years, 1 or more, not {value!r}")
    return years


class Command(BaseCommand):
    help = (
        "Remove the names, date of birth, contact details and free-text notes of clients "
        "whose case closed (or whose referral was declined) more than SOS_RETENTION_YEARS "
        "years ago, from their records, their change history and the admin log. Reference, "
        "dates and coded fields stay, so the outcome figures do not change. Each client is "
        "done in its own transaction; running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List who would be anonymised; change nothing."
        )
        parser.add_argument(
            "--as-of", type=as_of_day, help="Apply the policy as on YYYY-MM-DD (default: today)."
        )
        parser.add_argument(
            "--years",
            type=_years,
            help=f"Retention period in years (default: SOS_RETENTION_YEARS, now "
            f"{settings.SOS_RETENTION_YEARS}).",
        )

    def handle(self, *args, dry_run, as_of, years, **options):
        as_of = as_of or timezone.localdate()
        cutoff = retention.retention_cutoff(as_of, years)
        verb = "Would anonymise" if dry_run else "Anonymised"
        done = 0
        for reference, result in retention.apply(as_of, years=years, dry_run=dry_run):
            if dry_run or result is not None:
                done += 1
                self.stdout.write(f"{verb} {reference}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {done} client{'s' if done != 1 else ''} closed or declined before "
                f"{cutoff:%d/%m/%Y}."
            )
        )

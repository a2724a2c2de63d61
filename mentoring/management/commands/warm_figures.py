"""``manage.py warm_figures``: compute the day's dashboard figures before anyone asks."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from mentoring import metrics, replica
from mentoring.management import as_of_day
from mentoring.models import Borough


class Command(BaseCommand):
    help = (
        "Compute every borough's dashboard figures, and the network's, as of a day (default "
        "today) into the figures cache, so that nobody meets a dashboard computed from "
        "nothing. Run it after each deploy and daily just after midnight, with "
        "SOS_FIGURES_CACHE pointing at the Redis the app servers share."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of",
            type=as_of_day,
            help="The day the figures are for, as YYYY-MM-DD (default: today).",
        )

    def handle(self, *args, as_of, **options):
        as_of = as_of or timezone.localdate()
        if not settings.FIGURES_CACHE:
            self.stderr.write(
                "The figures cache is this process's own memory (SOS_FIGURES_CACHE is not "
                "set): what is computed here goes when the command ends. Set "
                "SOS_FIGURES_CACHE=redis://... for the app servers and this command alike."
            )
        start = time.perf_counter()
        # From the replica when there is one: the day's heaviest read, off the primary.
        boroughs = replica.on_replica(self.warm, as_of)
        self.stdout.write(
            f"Figures as of {as_of.isoformat()} for {len(boroughs)} boroughs and the network "
            f"in {time.perf_counter() - start:.1f} s."
        )

    def warm(self, as_of):
        metrics.dashboard(None, as_of)  # every borough's halves, and the network's sums
        boroughs = list(Borough.objects.order_by("name"))
        for borough in boroughs:
            metrics.dashboard(borough, as_of)  # its own dashboard: sums of cached halves
        return boroughs

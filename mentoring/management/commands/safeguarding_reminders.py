"""``manage.py safeguarding_reminders``: concerns not followed up in a day, to the managers."""

from django.core.management.base import BaseCommand

from mentoring import safeguarding


class Command(BaseCommand):
    help = (
        "E-mail the managers of an area about each safeguarding concern not followed up "
        "within 24 hours of the session being saved, once per concern, and try again any "
        "alert whose sending failed. Safe to run as often as wanted (every hour from cron "
        "or a systemd timer): nobody is e-mailed twice for one concern."
    )

    def handle(self, *args, **options):
        escalated, retried = safeguarding.reminders()
        self.stdout.write(
            f"{escalated} concern(s) escalated to managers; {retried} failed alert(s) sent now."
        )

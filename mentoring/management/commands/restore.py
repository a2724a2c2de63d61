"""``manage.py restore FILE``: a backup into the configured database, checked (``backup``)."""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from mentoring import backup, retention, summaries


class Command(BaseCommand):
    help = (
        "Restore a backup made by manage.py backup into the configured database, which must "
        "hold no programme data (or add --force to replace it). Then check it: every "
        "table's rows against the backup, no migration left to apply, the session "
        "summaries; and apply retention again, so that a record anonymised since the backup "
        f"does not come back. {backup.KEY_ENV} must be set for an encrypted backup."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace a database that holds programme data with the backup.",
        )

    def handle(self, *args, file, force, **options):
        try:
            header = backup.restore(file, backup.passphrase(), force=force)
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Restored {file} (backup of {header.created_at}).")
        problems = backup.check_restored(header)
        if problems:
            raise CommandError(
                "The restored database does not match the backup:\n  " + "\n  ".join(problems)
            )
        rows = sum(header.tables.values())
        self.stdout.write(
            f"Row counts match the backup: {len(header.tables)} tables, {rows:,} rows."
        )
        try:
            call_command("migrate", check=True, verbosity=0)
        except SystemExit:
            raise CommandError(
                "The backup is of an older version of SOS: run manage.py migrate, then "
                "manage.py summaries --check."
            ) from None
        self.stdout.write("No migration left to apply.")
        found = summaries.differences()
        if found:
            raise CommandError(
                f"The session summaries differ from the sessions in {len(found)} place(s): run "
                "manage.py summaries --rebuild."
            )
        self.stdout.write("Session summaries match the sessions.")
        today = timezone.localdate()
        due = retention.due(today).count()
        # Many records due (a backup from long ago) take a while: say so first, and what
        # to do if it is stopped.
        self.stdout.write(
            f"Applying retention again: {due} client record(s) past the retention period to "
            "anonymise. If this is stopped, the restore is done: run manage.py "
            "apply_retention to finish."
        )
        anonymised = [ref for ref, result in retention.apply(today) if result]
        self.stdout.write(
            f"Retention applied again: {len(anonymised)} client record(s) past the retention "
            "period anonymised."
        )
        self.stdout.write(self.style.SUCCESS("Restore complete."))

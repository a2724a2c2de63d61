"""``manage.py backup FILE``: a consistent backup of the configured database (``backup``)."""

from django.core.management.base import BaseCommand, CommandError

from mentoring import backup


class Command(BaseCommand):
    help = (
        "Write a consistent backup of the configured database to FILE while the app keeps "
        "running: pg_dump (custom format) for PostgreSQL, the online backup API for SQLite. "
        f"Encrypted when {backup.KEY_ENV} is set. The file appears under its name only "
        "when complete."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE")
        parser.add_argument(
            "--inside-project",
            action="store_true",
            help="Allow FILE inside the project folder (refused by default: a backup there "
            "is easily committed or deployed with the code).",
        )

    def handle(self, *args, file, inside_project, **options):
        if backup.inside_project(file) and not inside_project:
            raise CommandError(
                f"{file} is inside the project folder: write backups elsewhere (e.g. "
                "/var/backups/sos/), or add --inside-project."
            )
        secret = backup.passphrase()
        try:
            written = backup.backup(file, secret)
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        rows = sum(written.tables.values())
        protection = "encrypted" if written.encrypted else f"not encrypted ({backup.KEY_ENV} unset)"
        self.stdout.write(
            f"Backup written to {written.path}: {written.size:,} bytes, "
            f"{len(written.tables)} tables, {rows:,} rows, {protection}."
        )

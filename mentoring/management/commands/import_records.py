"""``manage.py import_records DIR``: load programme records from CSV files, all or nothing."""

from django.core.management.base import BaseCommand, CommandError

from mentoring.importer import FILES, ImportFailed, import_records

WARNINGS_SHOWN = 20


class Command(BaseCommand):
    help = (
        f"Import {', '.join(FILES)} from DIR (each optional) in one transaction. Any bad row "
        "stops the import: nothing is written and every problem is listed as "
        "file:line: field: reason. Re-importing the same files changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", metavar="DIR")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the files and report; write nothing."
        )

    def handle(self, *args, directory, dry_run, verbosity, **options):
        progress = self.stderr.write if verbosity >= 1 else None
        try:
            results = import_records(directory, dry_run=dry_run, progress=progress)
        except ImportFailed as failure:
            report = "\n".join(str(problem) for problem in failure.problems)
            raise CommandError(
                f"{len(failure.problems)} problem(s) found, so nothing was imported:\n{report}"
            ) from None
        created, updated = (
            ("would be created", "would be updated") if dry_run else ("created", "updated")
        )
        for result in results:
            parts = [
                f"{n:,} {label}"
                for n, label in (
                    (result.created, created),
                    (result.updated, updated),
                    (result.unchanged, "already present"),
                )
                if n
            ]
            self.stdout.write(f"{result.name}: {result.rows:,} rows: {', '.join(parts) or 'none'}")
        warnings = [line for result in results for line in result.warnings]
        if warnings:
            self.stdout.write(f"To look at ({len(warnings)}):")
            for line in warnings[:WARNINGS_SHOWN]:
                self.stdout.write(f"  {line}")
            if len(warnings) > WARNINGS_SHOWN:
                self.stdout.write(f"  and {len(warnings) - WARNINGS_SHOWN} more")
        if not any(result.changed for result in results):
            self.stdout.write("Nothing to change: every record is already in the database.")
        elif dry_run:
            self.stdout.write("Dry run: nothing was written.")
        else:
            self.stdout.write(self.style.SUCCESS("Import complete."))

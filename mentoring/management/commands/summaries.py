"""
``manage.py summaries --check | --rebuild``: the session summaries against the sessions,
and the figures cache's case shards against the clients.
"""

from django.core.management.base import BaseCommand, CommandError

from mentoring import summaries


class Command(BaseCommand):
    help = (
        "Compare the session summary tables the dashboards add up (attended sessions per "
        "borough and day, and per support area) with a count made from the sessions "
        "(--check, which also checks that every case shard, a borough's clients referred in "
        "one year, has its figures version), or fill them afresh and raise every figures "
        "version (--rebuild). Database triggers keep them right on every write; a rebuild is "
        "needed only after a bulk load with triggers switched off."
    )

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--check", action="store_true", help="Report any difference.")
        action.add_argument("--rebuild", action="store_true", help="Refill both tables.")

    def handle(self, *args, check, rebuild, **options):
        if rebuild:
            summaries.rebuild()
            self.stdout.write("Session summaries rebuilt from the sessions.")
            return
        found = summaries.differences()
        if found:
            lines = [
                f"{table} {key}: has clients and no figures version"
                if table == summaries.SHARD
                else f"{table} {key}: holds {held}, the sessions give {counted}"
                for table, key, held, counted in found
            ]
            raise CommandError(
                f"{len(found)} difference(s) (at most 20 shown); run --rebuild:\n"
                + "\n".join(lines)
            )
        self.stdout.write("The session summaries match the sessions.")

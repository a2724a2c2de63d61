"""
Migrations match the models, the data migration seeds the support areas, a database
migrated from zero has exactly the triggers the code defines, and no migration imports the
app's code.
"""

import ast
import importlib
import re
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from mentoring import summaries
from mentoring.models import SupportArea

# The ten support areas named in DESIGN.md, in the order they are listed there.
DESIGN_SUPPORT_AREAS = [
    "Accommodation",
    "Education, training & employment",
    "Finance, benefits & debt",
    "Dependency & recovery",
    "Lifestyle & associates (gangs)",
    "Family & relationships",
    "Emotional wellbeing",
    "Health",
    "ID & documents",
    "Legal & court",
]


@pytest.mark.django_db
def test_models_have_no_unmigrated_changes():
    """Every model change has a migration: makemigrations --check finds nothing to write."""
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:
        pytest.fail(f"makemigrations --check exited with {exit_.code}:\n{out.getvalue()}")
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_data_migration_seeds_the_ten_support_areas_in_design_order():
    """The support areas are exactly DESIGN's ten, listed in DESIGN's order."""
    assert list(SupportArea.objects.values_list("name", flat=True)) == DESIGN_SUPPORT_AREAS


@pytest.mark.django_db
def test_support_area_slugs_are_unique_and_url_safe():
    """Each seeded area has its own slug of lower-case words joined by hyphens."""
    slugs = list(SupportArea.objects.values_list("slug", flat=True))
    assert len(set(slugs)) == 10
    assert all(slug.replace("-", "").isalnum() and slug == slug.lower() for slug in slugs)


@pytest.mark.django_db
def test_running_support_area_seed_again_adds_no_duplicates():
    """The seed updates areas in place, so re-running it leaves the same ten."""
    migration = importlib.import_module("mentoring.migrations.0002_support_areas")
    SupportArea.objects.filter(slug="health").update(name="Renamed", sort_order=99)
    migration.add_support_areas(apps, schema_editor=None)
    assert list(SupportArea.objects.values_list("name", flat=True)) == DESIGN_SUPPORT_AREAS


DROPPED_FK_INDEXES = importlib.import_module("mentoring.migrations.0015_drop_redundant_fk_indexes")


@pytest.mark.django_db
@pytest.mark.parametrize("model_name, field_name, covering", DROPPED_FK_INDEXES.COVERED)
def test_covered_foreign_keys_have_only_the_index_that_leads_with_them(
    model_name, field_name, covering
):
    """
    Migration 0015 left one index per covered foreign key: the composite one. A partial
    index on the column (some rows only, e.g. pending offences) is not a copy of it.
    """
    from django.db import connection

    model = apps.get_model("mentoring", model_name)
    column = model._meta.get_field(field_name).column
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    partial = {index.name for index in model._meta.indexes if index.condition is not None}
    assert constraints[covering]["columns"][0] == column
    assert [
        name for name in DROPPED_FK_INDEXES._own(constraints, column) if name not in partial
    ] == []


@pytest.mark.django_db
def test_dropping_an_index_without_its_covering_one_is_refused(monkeypatch):
    """The migration drops no index unless the composite one is there to serve its lookups."""
    from django.db import connection

    monkeypatch.setattr(DROPPED_FK_INDEXES, "COVERED", [("offence", "client", "no_such_index")])
    with pytest.raises(RuntimeError, match="no_such_index does not lead with client_id"):
        DROPPED_FK_INDEXES.drop(apps, connection.schema_editor())


# The triggers ------------------------------------------------------------------------
# Migrations carry their trigger SQL frozen, so a change to summaries.py reaches a database
# only through a new migration: these fail until there is one.
NEEDS_MIGRATION = "these triggers differ from summaries.py's: add a migration with its SQL"


def _words(sql):
    return " ".join(sql.split())


def _differing(held, expected):
    return sorted(
        key for key in held.keys() | expected.keys() if held.get(key) != expected.get(key)
    )


def _assert_migrated_from_zero():
    """The test database was built by running every migration, not from the models."""
    applied = MigrationRecorder(connection).applied_migrations()
    leaves = MigrationLoader(connection).graph.leaf_nodes("mentoring")
    assert leaves and all(leaf in applied for leaf in leaves), "built without migrations"


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's triggers")
def test_sqlite_database_migrated_from_zero_has_exactly_the_triggers_of_the_code():
    """Each trigger's name and SQL, as SQLite keeps it, is what summaries.py generates."""
    _assert_migrated_from_zero()
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        held = {name: _words(sql) for name, sql in cursor.fetchall()}
    expected = {
        re.match(r"CREATE TRIGGER (\w+) ", sql).group(1): _words(sql)
        for sql in summaries.trigger_sql("sqlite")
    }
    assert len(expected) == len(summaries.trigger_sql("sqlite"))
    assert _differing(held, expected) == [], NEEDS_MIGRATION


def _postgresql_triggers(cursor):
    """{(trigger, table): definition} and {function: source} of the database's triggers."""
    cursor.execute(
        "SELECT tgname, tgrelid::regclass::text, pg_get_triggerdef(oid) "
        "FROM pg_trigger WHERE NOT tgisinternal"
    )
    triggers = {(name, table): definition for name, table, definition in cursor.fetchall()}
    cursor.execute(
        "SELECT proname, prosrc FROM pg_proc WHERE prorettype = 'trigger'::regtype "
        "AND pronamespace = current_schema()::regnamespace"
    )
    return triggers, {name: _words(source) for name, source in cursor.fetchall()}


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's triggers")
def test_postgresql_database_migrated_from_zero_has_exactly_the_triggers_of_the_code():
    """
    Each trigger's name, table and definition, and its function's source, are what
    summaries.py generates. PostgreSQL keeps a trigger's definition rewritten (its WHEN
    condition parsed), so the code's triggers are created in a savepoint, rolled back, and
    read the same way to compare.
    """
    _assert_migrated_from_zero()
    created = summaries.trigger_sql("postgresql")
    with connection.cursor() as cursor:
        held, held_functions = _postgresql_triggers(cursor)
        with transaction.atomic():
            for sql in summaries.drop_sql("postgresql") + created:
                cursor.execute(sql)
            generated, _functions = _postgresql_triggers(cursor)
            transaction.set_rollback(True)
    functions = {}
    tables = set()
    for sql in created:
        if function := re.fullmatch(r"CREATE FUNCTION (\w+)\(\) .*? AS \$\$(.*)\$\$", sql, re.S):
            functions[function.group(1)] = _words(function.group(2))
        else:
            tables.add(re.match(r"CREATE TRIGGER (\w+) .*? ON (\w+) ", sql).groups())
    assert _differing(held_functions, functions) == [], NEEDS_MIGRATION
    assert sorted(held) == sorted(tables), NEEDS_MIGRATION
    assert _differing(held, generated) == [], NEEDS_MIGRATION


# Imports -----------------------------------------------------------------------------
# Migrations are history: one that imports the app runs today's code, not its own time's.

PROJECT = Path(settings.BASE_DIR)
APP_PACKAGES = {"mentoring", "accounts", "sos"} | {
    path.parent.name for path in PROJECT.glob("*/__init__.py")
}
MIGRATION_FILES = sorted(PROJECT.glob("*/migrations/*.py"))


def _app_imports(source):
    """The imports in ``source`` of the project's own packages, or relative to it."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level or node.module.split(".")[0] in APP_PACKAGES:
                found.append("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            found += [
                alias.name for alias in node.names if alias.name.split(".")[0] in APP_PACKAGES
            ]
    return found


def test_no_migration_imports_the_apps_code():
    """Migrations import only Django, the standard library and third-party packages."""
    assert MIGRATION_FILES
    found = {
        str(path.relative_to(PROJECT)): _app_imports(path.read_text()) for path in MIGRATION_FILES
    }
    assert {path: imports for path, imports in found.items() if imports} == {}


@pytest.mark.parametrize(
    "source, imports",
    [
        ("from mentoring import summaries", ["mentoring"]),
        ("import mentoring.summaries", ["mentoring.summaries"]),
        ("from accounts.models import SignedInSession", ["accounts.models"]),
        ("import sos.settings as s", ["sos.settings"]),
        ("from . import summaries", ["."]),
        ("from ..summaries import install", ["..summaries"]),
        ("def f():\n    from mentoring.models import Client", ["mentoring.models"]),
        ("import uuid\nimport simple_history.models\nfrom django.db import migrations", []),
    ],
)
def test_app_import_check_finds_what_it_refuses(source, imports):
    """The check finds an import of the app anywhere in a file, and lets the others be."""
    assert _app_imports(source) == imports

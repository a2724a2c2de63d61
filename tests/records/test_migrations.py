"""Migrations match the models, and the data migration seeds the support areas."""

import importlib
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

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

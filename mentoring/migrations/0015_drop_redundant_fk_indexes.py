"""
Drop the single-column index Django gives each foreign key where a composite index that
leads with the same column already serves every lookup by it (each index must be
justified by a query; these had none: PostgreSQL reported no scans of them
at 100,000 clients, 29 MB of them on the sessions alone, written on every insert).

Only the indexes go. ``AlterField`` would also drop and re-add each foreign key
constraint on PostgreSQL (re-checking two million sessions under a lock) and rebuild the
tables on SQLite (losing the summaries' triggers), so the database side is a plain
``DROP INDEX`` of the index found on that one column, and its reverse creates it again.
"""

from django.db import migrations, models

# (model, field) whose own index is covered by the composite index named beside it.
COVERED = [
    ("accesslog", "client", "mentoring_access_client_at"),
    ("assignment", "mentor", "mentoring_assign_mentor_open"),
    ("client", "borough", "mentoring_client_bor_status"),
    ("offence", "client", "mentoring_offence_client"),
    ("sessionareaday", "borough", "mentoring_sessionareaday_key"),
    ("sessionday", "borough", "mentoring_sessionday_key"),
    ("supportsession", "client", "mentoring_session_client_date"),
    ("supportsession", "mentor", "mentoring_session_mentor_date"),
]


def _indexes(schema_editor, table):
    with schema_editor.connection.cursor() as cursor:
        return schema_editor.connection.introspection.get_constraints(cursor, table)


def _own(constraints, column):
    """The names of the plain, single-column indexes on ``column``."""
    return [
        name
        for name, c in constraints.items()
        if c["index"] and not c["unique"] and not c["primary_key"] and c["columns"] == [column]
    ]


def drop(apps, schema_editor):
    for model_name, field_name, covering in COVERED:
        model = apps.get_model("mentoring", model_name)
        table, column = model._meta.db_table, model._meta.get_field(field_name).column
        constraints = _indexes(schema_editor, table)
        # Never the only index on the column: the covering one must be there and lead with it.
        if constraints.get(covering, {}).get("columns", [None])[0] != column:
            raise RuntimeError(f"{table}: {covering} does not lead with {column}")
        for name in _own(constraints, column):
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def create(apps, schema_editor):
    for model_name, field_name, _ in COVERED:
        model = apps.get_model("mentoring", model_name)
        field = model._meta.get_field(field_name)
        if not _own(_indexes(schema_editor, model._meta.db_table), field.column):
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))


def _fk(to, on_delete, related_name, **options):
    return models.ForeignKey(
        db_index=False, on_delete=on_delete, related_name=related_name, to=to, **options
    )


class Migration(migrations.Migration):
    dependencies = [("mentoring", "0014_session_home_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop, create)],
            state_operations=[
                migrations.AlterField(
                    model_name=model_name,
                    name=field_name,
                    field=field,
                )
                for model_name, field_name, field in [
                    (
                        "accesslog",
                        "client",
                        _fk("mentoring.client", models.SET_NULL, "access_log", null=True),
                    ),
                    (
                        "assignment",
                        "mentor",
                        _fk("mentoring.mentor", models.PROTECT, "assignments"),
                    ),
                    ("client", "borough", _fk("mentoring.borough", models.PROTECT, "clients")),
                    ("offence", "client", _fk("mentoring.client", models.CASCADE, "offences")),
                    ("sessionareaday", "borough", _fk("mentoring.borough", models.CASCADE, "+")),
                    ("sessionday", "borough", _fk("mentoring.borough", models.CASCADE, "+")),
                    (
                        "supportsession",
                        "client",
                        _fk("mentoring.client", models.CASCADE, "sessions"),
                    ),
                    (
                        "supportsession",
                        "mentor",
                        _fk("mentoring.mentor", models.PROTECT, "sessions"),
                    ),
                ]
            ],
        )
    ]

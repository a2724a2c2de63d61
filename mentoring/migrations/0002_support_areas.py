"""Seed the support areas: the needs a client can have and a session can cover."""

from django.db import migrations

SUPPORT_AREAS = [
    ("accommodation", "Accommodation"),
    ("education-training-employment", "Education, training & employment"),
    ("finance-benefits-debt", "Finance, benefits & debt"),
    ("dependency-recovery", "Dependency & recovery"),
    ("lifestyle-associates", "Lifestyle & associates (gangs)"),
    ("family-relationships", "Family & relationships"),
    ("emotional-wellbeing", "Emotional wellbeing"),
    ("health", "Health"),
    ("id-documents", "ID & documents"),
    ("legal-court", "Legal & court"),
]


def add_support_areas(apps, schema_editor):
    SupportArea = apps.get_model("mentoring", "SupportArea")
    for order, (slug, name) in enumerate(SUPPORT_AREAS, start=1):
        SupportArea.objects.update_or_create(
            slug=slug, defaults={"name": name, "sort_order": order}
        )


def remove_support_areas(apps, schema_editor):
    SupportArea = apps.get_model("mentoring", "SupportArea")
    SupportArea.objects.filter(slug__in=[slug for slug, _ in SUPPORT_AREAS]).delete()


class Migration(migrations.Migration):
    dependencies = [("mentoring", "0001_initial")]

    operations = [migrations.RunPython(add_support_areas, remove_support_areas)]

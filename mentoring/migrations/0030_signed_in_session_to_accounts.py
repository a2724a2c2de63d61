"""
SignedInSession now belongs to the accounts app (accounts 0001), which keeps its table:
the model leaves this app's state only, and the table and its rows stay as they are.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("mentoring", "0029_client_transfer"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="SignedInSession")],
        ),
    ]

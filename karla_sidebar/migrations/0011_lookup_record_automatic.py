"""``LookupRecord.automatic``: a lookup the sidebar made on its own (the customer's recent
orders at a conversation's opening, a live card's refresh), which the history shows apart.

Added like ``stale`` in 0005: ``ALTER TABLE … ADD COLUMN`` with a default kept in the
database, so app servers still on the previous release go on recording lookups while the new
one rolls out (their rows read as not automatic), PostgreSQL rewrites nothing and SQLite keeps
its table as it is (Django's ``AddField`` would rebuild it, holding lookups meanwhile).
"""

from django.db import migrations, models

TABLE = "karla_sidebar_lookuprecord"
COLUMN_TYPE = {"postgresql": "boolean", "sqlite": "bool"}
DEFAULT = {"postgresql": "false", "sqlite": "0"}


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(
        f'ALTER TABLE "{TABLE}" ADD COLUMN "automatic" {COLUMN_TYPE[vendor]} '
        f"NOT NULL DEFAULT {DEFAULT[vendor]}"
    )


def backwards(apps, schema_editor):
    schema_editor.execute(f'ALTER TABLE "{TABLE}" DROP COLUMN "automatic"')


class Migration(migrations.Migration):
    dependencies = [
        ("karla_sidebar", "0010_history_schema_in_model_state"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="lookuprecord",
                    name="automatic",
                    field=models.BooleanField(db_default=False, default=False),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, backwards, elidable=False)],
        ),
    ]

"""``LookupRecord.stale``: the answer was an older result, shown because GoKarla failed.

The column is added with a default kept in the database, so that app servers still on the
previous release (which do not write it) go on recording lookups while the new release
rolls out (docs/deploy.md). ``ALTER TABLE … ADD COLUMN`` with a constant default rewrites
nothing on PostgreSQL (11+) and, on SQLite, keeps the table and its indexes as they are:
Django's own ``AddField`` would rebuild the SQLite table and lose the partial
``lookup_by_latency`` index that migration 0003 created outside the model's state.
"""

from django.db import migrations, models

TABLE = "karla_sidebar_lookuprecord"
COLUMN_TYPE = {"postgresql": "boolean", "sqlite": "bool"}
DEFAULT = {"postgresql": "false", "sqlite": "0"}


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(
        f'ALTER TABLE "{TABLE}" ADD COLUMN "stale" {COLUMN_TYPE[vendor]} '
        f"NOT NULL DEFAULT {DEFAULT[vendor]}"
    )


def backwards(apps, schema_editor):
    schema_editor.execute(f'ALTER TABLE "{TABLE}" DROP COLUMN "stale"')


class Migration(migrations.Migration):
    dependencies = [
        ("karla_sidebar", "0004_history_text_search_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="lookuprecord",
                    name="stale",
                    field=models.BooleanField(default=False),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, backwards, elidable=False)],
        ),
    ]

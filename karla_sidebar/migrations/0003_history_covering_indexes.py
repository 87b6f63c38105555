"""Indexes for the history page at 100 000 records and more, built without stopping lookups.

- ``lookup_by_time`` grows to carry every column the page filters or counts by, but the
  free-text ones (date, outcome, latency, action, source, account).
- ``lookup_by_outcome`` goes: the wider time index serves the outcome filter.
- On SQLite only, ``lookup_by_latency``, partial on ``latency_ms IS NOT NULL`` (every row):
  it hands the unfiltered summary its rows already grouped, and only that query names the
  condition (``history.selectors.lookup_summary`` says why). PostgreSQL groups with a hash
  and needs no such index.

Every lookup writes a history row, so on PostgreSQL the indexes are built and dropped
``CONCURRENTLY`` (the table stays writable; the migration is not atomic for that reason):
the new time index is built under a temporary name, then takes the old one's place. Each
step can run again after an interruption. SQLite has no concurrent builds; its indexes are
rebuilt in place (a few seconds for 100 000 rows, while lookups wait for the write lock).
"""

from django.db import migrations, models

TABLE = "karla_sidebar_lookuprecord"
TIME_FIELDS = ["workspace", "-created_at", "outcome", "latency_ms", "action", "source", "account"]
OLD_TIME = models.Index(
    fields=["workspace", "-created_at", "outcome", "latency_ms"], name="lookup_by_time"
)
NEW_TIME = models.Index(fields=TIME_FIELDS, name="lookup_by_time")
NEW_TIME_BUILDING = models.Index(fields=TIME_FIELDS, name="lookup_by_time_new")
OUTCOME = models.Index(fields=["workspace", "outcome", "-created_at"], name="lookup_by_outcome")
LATENCY = (
    f'CREATE INDEX IF NOT EXISTS "lookup_by_latency" ON "{TABLE}" '
    '("workspace_id", "latency_ms", "outcome") WHERE "latency_ms" IS NOT NULL'
)


def forwards(apps, schema_editor):
    model = apps.get_model("karla_sidebar", "LookupRecord")
    run = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        run('DROP INDEX CONCURRENTLY IF EXISTS "lookup_by_time_new"')  # an interrupted build
        schema_editor.add_index(model, NEW_TIME_BUILDING, concurrently=True)
        run('DROP INDEX CONCURRENTLY IF EXISTS "lookup_by_time"')
        run('ALTER INDEX "lookup_by_time_new" RENAME TO "lookup_by_time"')
        run('DROP INDEX CONCURRENTLY IF EXISTS "lookup_by_outcome"')
        return
    schema_editor.remove_index(model, OLD_TIME)
    schema_editor.add_index(model, NEW_TIME)
    schema_editor.remove_index(model, OUTCOME)
    run(LATENCY)


def backwards(apps, schema_editor):
    model = apps.get_model("karla_sidebar", "LookupRecord")
    schema_editor.execute('DROP INDEX IF EXISTS "lookup_by_latency"')
    schema_editor.remove_index(model, NEW_TIME)
    schema_editor.add_index(model, OLD_TIME)
    schema_editor.add_index(model, OUTCOME)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0002_api_keys"),
        ("karla_sidebar", "0002_history_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="lookuprecord", name="lookup_by_outcome"),
                migrations.RemoveIndex(model_name="lookuprecord", name="lookup_by_time"),
                migrations.AddIndex(model_name="lookuprecord", index=NEW_TIME),
            ],
            database_operations=[migrations.RunPython(forwards, backwards, elidable=False)],
        ),
    ]

"""The history's indexes carry ``automatic`` (and, on PostgreSQL, the agent and the account
label), so that its summary, chart and tables by agent and by account read only the index.

- ``lookup_by_time`` gains ``automatic``, and on PostgreSQL ``INCLUDE (actor_id, actor_name,
  account_label)`` (SQLite has no INCLUDE and builds it without).
- ``lookup_by_latency`` (SQLite only, partial) gains ``automatic``: the summary of everything
  kept groups by it too.

As in 0003, every lookup writes a history row, so on PostgreSQL the new time index is built
``CONCURRENTLY`` under a temporary name and then takes the old one's place (the table stays
writable; the migration is not atomic for that reason; each step can run again after an
interruption). SQLite rebuilds its indexes in place (a few seconds per 100 000 rows, while
lookups wait for the write lock).
"""

from django.db import migrations, models

import karla_sidebar.models

TIME_FIELDS = ["workspace", "-created_at", "outcome", "latency_ms", "action", "source", "account"]
INCLUDE = ["actor_id", "actor_name", "account_label"]
OLD_TIME = models.Index(fields=TIME_FIELDS, name="lookup_by_time")
NEW_TIME = models.Index(fields=[*TIME_FIELDS, "automatic"], include=INCLUDE, name="lookup_by_time")
NEW_TIME_BUILDING = models.Index(
    fields=[*TIME_FIELDS, "automatic"], include=INCLUDE, name="lookup_by_time_new"
)
EVERY_ROW = models.Q(("latency_ms__isnull", False))
OLD_LATENCY = karla_sidebar.models.VendorIndex(
    condition=EVERY_ROW,
    fields=["workspace", "latency_ms", "outcome"],
    name="lookup_by_latency",
    vendor="sqlite",
)
NEW_LATENCY = karla_sidebar.models.VendorIndex(
    condition=EVERY_ROW,
    fields=["workspace", "latency_ms", "outcome", "automatic"],
    name="lookup_by_latency",
    vendor="sqlite",
)


def forwards(apps, schema_editor):
    model = apps.get_model("karla_sidebar", "LookupRecord")
    run = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        run('DROP INDEX CONCURRENTLY IF EXISTS "lookup_by_time_new"')  # an interrupted build
        schema_editor.add_index(model, NEW_TIME_BUILDING, concurrently=True)
        run('DROP INDEX CONCURRENTLY IF EXISTS "lookup_by_time"')
        run('ALTER INDEX "lookup_by_time_new" RENAME TO "lookup_by_time"')
        return
    schema_editor.remove_index(model, OLD_TIME)
    schema_editor.add_index(model, NEW_TIME)
    schema_editor.remove_index(model, OLD_LATENCY)
    schema_editor.add_index(model, NEW_LATENCY)


def backwards(apps, schema_editor):
    model = apps.get_model("karla_sidebar", "LookupRecord")
    schema_editor.remove_index(model, NEW_TIME)
    schema_editor.add_index(model, OLD_TIME)
    schema_editor.remove_index(model, NEW_LATENCY)
    schema_editor.add_index(model, OLD_LATENCY)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("karla_sidebar", "0011_lookup_record_automatic"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="lookuprecord", name="lookup_by_time"),
                migrations.AddIndex(model_name="lookuprecord", index=NEW_TIME),
                migrations.RemoveIndex(model_name="lookuprecord", name="lookup_by_latency"),
                migrations.AddIndex(model_name="lookuprecord", index=NEW_LATENCY),
            ],
            database_operations=[migrations.RunPython(forwards, backwards, elidable=False)],
        ),
    ]

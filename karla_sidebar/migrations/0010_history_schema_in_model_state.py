"""The history table as it already is, now in the model state: nothing in the database changes.

Migrations 0003 to 0006 built part of ``LookupRecord``'s table outside the model state, and
this one records it there, so that the model (``Meta.indexes``, ``db_default``) says what
the database holds and Django's own operations keep it:

- ``stale`` and ``resolved_by`` have a default in the database (0005, 0006 added them with
  ``ALTER TABLE … ADD COLUMN … DEFAULT``): now ``db_default``. App servers on the previous
  release, which write rows without these columns, go on recording lookups during a deploy;
- ``lookup_by_latency``, partial, on SQLite only (0003): now a ``VendorIndex``;
- the trigram indexes of the "contains" filters, on PostgreSQL only (0004): now
  ``VendorGinIndex``es. Where 0004 could not create ``pg_trgm`` (it said so in a warning, with
  the statements to run by hand), they are missing until someone runs those statements.

Only the state changes, on every database and in both directions: no table is rebuilt (a
rebuild would block lookups on SQLite) and nothing is locked. From here on, a SQLite table
rebuild (``AlterField`` and the like) recreates ``lookup_by_latency`` with the table, and
PostgreSQL keeps its trigram indexes.
"""

import django.db.models.functions.text
from django.contrib.postgres.indexes import OpClass
from django.db import migrations, models

import karla_sidebar.models


def _trigram(field, name):
    return karla_sidebar.models.VendorGinIndex(
        OpClass(django.db.models.functions.text.Upper(field), name="gin_trgm_ops"),
        name=name,
        vendor="postgresql",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("karla_sidebar", "0009_used_launch_tokens"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="lookuprecord",
                    name="stale",
                    field=models.BooleanField(db_default=False, default=False),
                ),
                migrations.AlterField(
                    model_name="lookuprecord",
                    name="resolved_by",
                    field=models.CharField(blank=True, db_default="", default="", max_length=10),
                ),
                migrations.AddIndex(
                    model_name="lookuprecord",
                    index=karla_sidebar.models.VendorIndex(
                        condition=models.Q(("latency_ms__isnull", False)),
                        fields=["workspace", "latency_ms", "outcome"],
                        name="lookup_by_latency",
                        vendor="sqlite",
                    ),
                ),
                migrations.AddIndex(
                    model_name="lookuprecord",
                    index=_trigram("reference", "lookup_reference_trgm"),
                ),
                migrations.AddIndex(
                    model_name="lookuprecord",
                    index=_trigram("actor_name", "lookup_actor_name_trgm"),
                ),
            ],
            database_operations=[],
        ),
    ]

"""Trigram indexes for the history's "contains" filters (reference, agent name), on
PostgreSQL only.

``reference__icontains`` is ``UPPER(reference::text) LIKE UPPER('%…%')``, which no B-tree
serves: on 100 000 records each of the history page's three queries read the whole table
(230 ms for the page). A GIN index with ``pg_trgm`` on the same expression serves it. SQLite
has no such index and scans the table, fast enough there (25 ms a query).

``pg_trgm`` ships with PostgreSQL and is a trusted extension (the database's owner may create
it). Where it cannot be created, the migration says so and goes on without the indexes: the
filters still work, only slower; once the extension exists, ``migrate karla_sidebar 0003``
then ``migrate`` add them.
"""

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)

TABLE = "karla_sidebar_lookuprecord"
INDEXES = {
    "lookup_reference_trgm": "reference",
    "lookup_actor_name_trgm": "actor_name",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        logger.warning(
            "pg_trgm is not available (%s): the history's reference and agent filters will "
            "scan the table. Once an administrator has run CREATE EXTENSION pg_trgm, run "
            "'manage.py migrate karla_sidebar 0003' then 'manage.py migrate' to add them.",
            str(error).strip(),
        )
        return
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{TABLE}" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("karla_sidebar", "0003_history_covering_indexes"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]

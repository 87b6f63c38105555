"""Trigram indexes for the history's "contains" filters (reference, agent name), on
PostgreSQL only.

``reference__icontains`` is ``UPPER(reference::text) LIKE UPPER('%…%')``, which no B-tree
serves: on 100 000 records each of the history page's three queries read the whole table
(230 ms for the page). A GIN index with ``pg_trgm`` on the same expression serves it. SQLite
has no such index and scans the table, fast enough there (25 ms a query).

The indexes are built ``CONCURRENTLY`` (lookups keep writing history rows meanwhile), so
the migration is not atomic. ``pg_trgm`` ships with PostgreSQL (some distributions package
it apart, as "contrib") and is a trusted extension: a role with CREATE on the database may
create it. Where it or an index cannot be created, the migration logs a warning with the
statements to run by hand and goes on: the filters still work, only slower.
"""

import logging

from django.db import DatabaseError, migrations

logger = logging.getLogger(__name__)

TABLE = "karla_sidebar_lookuprecord"
INDEXES = {
    "lookup_reference_trgm": "reference",
    "lookup_actor_name_trgm": "actor_name",
}


def _index_sql(name: str, column: str, schema: str) -> str:
    return (
        f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "{TABLE}" '
        f'USING gin ((UPPER("{column}"::text)) "{schema}".gin_trgm_ops)'
    )


def _by_hand(schema: str = "public") -> str:
    statements = ["CREATE EXTENSION IF NOT EXISTS pg_trgm"]
    statements += [_index_sql(name, column, schema) for name, column in INDEXES.items()]
    return "; ".join(statements)


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        logger.warning(
            "pg_trgm could not be created (%s): the history's reference and agent filters "
            "will scan the table. To add the indexes later, run these statements one at a time "
            "(not in a transaction) as a role that may: %s",
            str(error).strip(),
            _by_hand(),
        )
        return
    with schema_editor.connection.cursor() as cursor:
        # Wherever the extension lives (managed services often keep extensions in a schema
        # of their own, off the search path), name its operator class with that schema.
        cursor.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'"
        )
        schema = cursor.fetchone()[0]
    for name, column in INDEXES.items():
        try:
            schema_editor.execute(_index_sql(name, column, schema))
        except DatabaseError as error:
            schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')  # if invalid
            logger.warning(
                "The index %s could not be built (%s): run these statements one at a time "
                "(not in a transaction): %s",
                name,
                str(error).strip(),
                _by_hand(schema),
            )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("karla_sidebar", "0003_history_covering_indexes"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]

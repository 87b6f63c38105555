"""The lookup history's rows: one per lookup, written with an INSERT built once.

``Model.save()`` spends more CPU building the same statement every time than running it
costs (docs/performance.md); the row is never read back, so it is not given its id.
"""

from __future__ import annotations

from functools import cache as once
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction
from django.db.models import NOT_PROVIDED
from django.utils import timezone

from karla_sidebar.models import LookupRecord, storable


class Actor(Protocol):
    source: str
    actor_id: str
    actor_name: str
    conversation: str


def record_new(*, workspace, action: str, reference: str, actor: Actor) -> LookupRecord:
    """The history row of one lookup, not yet saved (the lookup fills in its outcome)."""
    return LookupRecord(
        workspace=workspace,
        source=actor.source,
        actor_id=storable(actor.actor_id, 200),
        actor_name=storable(actor.actor_name, 200),
        conversation=storable(actor.conversation, 200),
        action=action,
        reference=storable((reference or "").strip(), 200),
    )


def record_save(record: LookupRecord) -> None:
    """Write the history row. The account may have been removed while GoKarla answered (up to
    the deadline): the row then keeps its label without the link, never lost."""
    try:
        if connection.in_atomic_block:
            with transaction.atomic():  # a savepoint: the failed INSERT must not end the outer
                _insert(record)
        else:
            _insert(record)  # autocommit: one statement, no BEGIN and COMMIT round trips
    except IntegrityError:
        if record.account_id is None:
            raise
        record.account = None
        _insert(record)


@once
def _insert_statement(vendor: str) -> tuple[str, tuple]:
    """The history row's INSERT and the fields it writes, built once per database vendor."""
    quote = connection.ops.quote_name
    meta = LookupRecord._meta
    fields = tuple(f for f in meta.concrete_fields if not f.primary_key)
    for f in fields:  # what save() would do that this INSERT does not
        if f.generated or f.db_default is not NOT_PROVIDED:
            raise ImproperlyConfigured(f"_insert cannot write LookupRecord.{f.name}")
    columns = ", ".join(quote(f.column) for f in fields)
    values = ", ".join(["%s"] * len(fields))
    # Identifiers from the model's metadata, quoted; every value is a parameter.
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values})", fields  # noqa: S608


def _insert(record: LookupRecord) -> None:
    statement, fields = _insert_statement(connection.vendor)
    record.created_at = timezone.now()  # what auto_now_add sets on every insert
    params = [f.get_db_prep_save(getattr(record, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)

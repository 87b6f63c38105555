"""The lookup history's rows: one per lookup."""

from __future__ import annotations

from typing import Protocol

from django.db import IntegrityError, connection, transaction

from karla_sidebar.models import LookupRecord, storable


class Actor(Protocol):
    source: str
    actor_id: str
    actor_name: str
    conversation: str
    automatic: bool


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
        automatic=actor.automatic,
    )


def record_save(record: LookupRecord) -> None:
    """Write the history row. The account may have been removed while GoKarla answered (up to
    the deadline): the row then keeps its label without the link, never lost."""
    try:
        if connection.in_atomic_block:
            with transaction.atomic():  # a savepoint: the failed INSERT must not end the outer
                record.save(force_insert=True)
        else:
            record.save(force_insert=True)  # autocommit: one statement, no BEGIN and COMMIT
    except IntegrityError:
        if record.account_id is None:
            raise
        record.account = None
        record.save(force_insert=True)

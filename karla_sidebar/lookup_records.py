"""The lookup history's rows: one per lookup."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from django.db import IntegrityError, connection, transaction
from django.utils.translation import ngettext

from karla_sidebar.formatting import status_label
from karla_sidebar.gokarla import Order, OrderStatus, Shipment, ShipmentStatus
from karla_sidebar.models import LookupRecord, storable

_SEPARATOR = " · "
_SEVERAL = re.compile(r"(\d+) orders; first (#.*)", re.DOTALL)


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


def record_summary(records: Sequence[Order | Shipment]) -> str:
    """What a found lookup found, in a few words for the history: ``#1001 · Fulfilled``,
    ``DHL · In transit``, ``2 orders; first #1001 · Fulfilled``. Stored in one language
    (English, from the statuses' codes) and shown in the viewer's by ``summary_shown``."""
    if not records:
        return ""
    first = records[0]
    if isinstance(first, Shipment):
        return storable(f"{first.carrier_name}{_SEPARATOR}{first.status.label}", 200)
    text = f"#{first.order_number}{_SEPARATOR}{first.status.label}"
    if len(records) > 1:
        text = f"{len(records)} orders; first {text}"
    return storable(text, 200)


def summary_shown(summary: str, action: str) -> str:
    """A stored summary in the active language: its status (and the count of orders) read
    back and translated. A summary of another shape (cut short, say) is shown as stored."""
    head, separator, label = summary.rpartition(_SEPARATOR)
    kind = ShipmentStatus if action == LookupRecord.Action.SHIPMENT else OrderStatus
    try:
        status = kind(label.lower().replace(" ", "_"))
    except ValueError:
        return summary
    if not separator:
        return summary
    several = _SEVERAL.fullmatch(head)
    if several is None:
        return f"{head}{_SEPARATOR}{status_label(status)}"
    count, first = int(several[1]), f"{several[2]}{_SEPARATOR}{status_label(status)}"
    return ngettext(
        "%(count)d order; first %(first)s", "%(count)d orders; first %(first)s", count
    ) % {"count": count, "first": first}

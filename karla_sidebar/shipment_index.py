"""The shipment index: which order a tracking number or shipment id belongs to.

GoKarla cannot look a shipment up by its tracking number or id (gokarla-api.md), so Get
Shipment asks this index for the order, then searches GoKarla for that order by ``uuid``: the
card is always GoKarla's live data, the index only says where to look. Every order the app
fetches feeds it (``shipment_index_update``); so do GoKarla's webhooks and the sync.
Every read and write is scoped to one account, and so to its workspace.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from accounts.models import GoKarlaAccount
from karla_sidebar.gokarla import Order, Shipment, tracking_key
from karla_sidebar.models import ShipmentIndexEntry, ShipmentSync, storable

_UPDATED = (
    "shipment_key",
    "tracking_number",
    "tracking_key",
    "order_uuid",
    "order_number",
    "carrier_reference",
    "phase",
    "last_event_at",
    "updated_at",
    "source",
    "indexed_at",
)


def _entries(orders: Iterable[Order]) -> list[dict]:
    """What the index keeps of these orders: one entry per shipment, drafts included."""
    entries = []
    for order in orders:
        for shipment in order.shipments:
            key = tracking_key(shipment.tracking_number)
            shipment_id = shipment.id or f"tracking:{key}"
            if not (shipment.id or key):
                continue
            last = next((event.time for event in shipment.events if event.time), None)
            entries.append(
                {
                    "shipment_id": storable(shipment_id, 100),
                    "shipment_key": tracking_key(shipment_id)[:100],
                    "tracking_number": storable(shipment.tracking_number, 100),
                    "tracking_key": key[:100],
                    "order_uuid": storable(order.uuid, 100),
                    "order_number": storable(order.order_number or order.order_name, 100),
                    "carrier_reference": storable(shipment.carrier_reference, 50),
                    "phase": storable(shipment.phase, 40),
                    "last_event_at": last,
                    "updated_at": shipment.updated_at,
                }
            )
        for draft_id in order.draft_shipment_ids:
            entries.append(
                {
                    "shipment_id": storable(draft_id, 100),
                    "shipment_key": tracking_key(draft_id)[:100],
                    "tracking_number": "",
                    "tracking_key": "",
                    "order_uuid": storable(order.uuid, 100),
                    "order_number": storable(order.order_number or order.order_name, 100),
                    "carrier_reference": "",
                    "phase": "",
                    "last_event_at": None,
                    "updated_at": None,
                }
            )
    # An order without a uuid cannot be searched again: nothing to index.
    return [entry for entry in entries if entry["order_uuid"]]


def shipment_index_digest(orders: Iterable[Order]) -> str:
    """A fingerprint of what the index would keep of ``orders``: equal fingerprints need no
    write (a lookup asked again finds mostly what it found before)."""
    entries = _entries(orders)
    text = repr(sorted(tuple(sorted(entry.items())) for entry in entries))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def shipment_index_update(*, account: GoKarlaAccount, orders: Iterable[Order], source: str) -> int:
    """Add or refresh the shipments of ``orders`` in the account's index (one statement);
    returns how many entries were written."""
    now = timezone.now()
    rows = [
        ShipmentIndexEntry(
            workspace_id=account.workspace_id,
            account_id=account.pk,
            source=source,
            indexed_at=now,
            **entry,
        )
        for entry in _entries(orders)
    ]
    if not rows:
        return 0
    try:
        with transaction.atomic():
            ShipmentIndexEntry.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["account", "shipment_id"],
                update_fields=list(_UPDATED),
            )
    except IntegrityError:
        # The account was removed while GoKarla answered: nothing left to index it for.
        return 0
    return len(rows)


def shipment_index_entries(
    *, accounts: list[GoKarlaAccount], reference: str
) -> dict[int, ShipmentIndexEntry]:
    """Per account (by id), its entry whose tracking number or shipment id is ``reference``
    (as agents type it: spaces, dashes and case do not matter); one query for all."""
    key = tracking_key(reference)
    if not (key and accounts):
        return {}
    found = ShipmentIndexEntry.objects.filter(
        Q(tracking_key=key) | Q(shipment_key=key),
        workspace_id=accounts[0].workspace_id,
        account_id__in=[account.pk for account in accounts],
    ).order_by("indexed_at")
    return {entry.account_id: entry for entry in found}  # the newest per account wins


def shipment_index_forget(*, entry: ShipmentIndexEntry) -> None:
    """Drop an entry GoKarla contradicted (its order no longer holds that shipment)."""
    ShipmentIndexEntry.objects.filter(pk=entry.pk, account_id=entry.account_id).delete()


def shipment_index_size(*, account: GoKarlaAccount) -> tuple[int, datetime | None]:
    """How many shipments the account's index holds, and when it last learnt of one."""
    stats = ShipmentIndexEntry.objects.filter(account_id=account.pk).aggregate(
        size=Count("id"), latest=Max("indexed_at")
    )
    return stats["size"], stats["latest"]


@dataclass(frozen=True, slots=True)
class IndexSummary:
    """An account's index as the Accounts tab shows it."""

    size: int = 0
    last_indexed_at: datetime | None = None  # when it last learnt of a shipment
    last_synced_at: datetime | None = None  # when sync_gokarla last finished for it
    last_sync_error: str = ""  # why its last sync run failed ("" when it did not)


def shipment_index_summaries(*, accounts: list[GoKarlaAccount]) -> dict[int, IndexSummary]:
    """Per account (by id) of one workspace, its ``IndexSummary``: two queries for all."""
    if not accounts:
        return {}
    scope = {"workspace_id": accounts[0].workspace_id, "account_id__in": [a.pk for a in accounts]}
    stats = {
        row["account_id"]: row
        for row in ShipmentIndexEntry.objects.filter(**scope)
        .values("account_id")
        .annotate(size=Count("id"), latest=Max("indexed_at"))
        .order_by()
    }
    synced = {
        account_id: (finished, error)
        for account_id, finished, error in ShipmentSync.objects.filter(**scope).values_list(
            "account_id", "last_finished_at", "last_error"
        )
    }
    return {
        account.pk: IndexSummary(
            size=stats.get(account.pk, {}).get("size", 0),
            last_indexed_at=stats.get(account.pk, {}).get("latest"),
            last_synced_at=synced.get(account.pk, (None, ""))[0],
            last_sync_error=synced.get(account.pk, (None, ""))[1],
        )
        for account in accounts
    }


def shipment_version(*, updated_at: datetime | None, last_event_at: datetime | None) -> int:
    """How new GoKarla's word on a shipment is (milliseconds since the epoch; 0: nothing)."""
    moment = updated_at or last_event_at
    return int(moment.timestamp() * 1000) if moment else 0


def record_versions(record: Order | Shipment) -> dict[str, int]:
    """The version of each shipment a card shows (an order's drafts: 0, nothing yet), by id:
    what a live card compares with the index."""
    shipments = record.shipments if isinstance(record, Order) else (record,)
    versions = {
        shipment.id: shipment_version(
            updated_at=shipment.updated_at,
            last_event_at=next((event.time for event in shipment.events if event.time), None),
        )
        for shipment in shipments
        if shipment.id
    }
    if isinstance(record, Order):
        versions.update((draft, 0) for draft in record.draft_shipment_ids)
    return versions


def shipment_index_changed(
    *, account: GoKarlaAccount, versions: dict[str, int], since: datetime
) -> bool:
    """Whether GoKarla told the index of something newer about any of these shipments (by id,
    with the version a card shows) after ``since`` (when the card was shown): a webhook, the
    sync or another agent's lookup. A card's own lookup never counts: its writes carry the
    version it shows."""
    if not versions:
        return False
    entries = ShipmentIndexEntry.objects.filter(
        workspace_id=account.workspace_id,
        account_id=account.pk,
        shipment_id__in=list(versions),
        indexed_at__gt=since,
    ).values_list("shipment_id", "updated_at", "last_event_at")
    return any(
        shipment_version(updated_at=updated, last_event_at=last) > versions[shipment_id]
        for shipment_id, updated, last in entries
    )


def news_key(account_id: int) -> str:
    """The cache key holding when GoKarla last pushed news (a webhook) for the account: lookup
    results fetched before it are not reused, so Get Order shows what the webhook told."""
    return f"shipment-news:{account_id}"


def shipment_index_note_news(*, account: GoKarlaAccount) -> None:
    cache.set(news_key(account.pk), timezone.now(), timeout=int(settings.LOOKUP_STALE_SECONDS))

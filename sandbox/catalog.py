"""The demo data, encoded once and indexed, and the one place it changes.

Serving must cost the server almost nothing, so no JSON is encoded while answering a search:
every order is encoded at start, once per language the sandbox localizes (``en``, ``de``:
the events' ``event_strings``), and a search only joins the matching pieces. Each shop's data
is an immutable ``ShopData`` snapshot; a shipment event builds the changed order anew,
re-encodes only that order and swaps in a new snapshot under the catalog's lock, so readers
never see half a change and never wait.

Indexes are per shop, keyed by ``(filter, value)``; ``email_id`` and ``uuid`` compare
case-insensitively, the other exact filters exactly. The date filters (``order_placed_from``,
``order_placed_to``, ``shipment_updated_since``) scan the shop's precomputed times.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sandbox.data import API_KEYS, SHOPS, ApiKey, ShopSpec
from sandbox.data_extra import demo_orders, shop_object
from sandbox.events import LANGUAGES, localized, next_step
from sandbox.generated import COUNT, FIRST_NUMBER
from sandbox.shapes import JsonDict, to_json
from sandbox.shipments import Change, apply_event, draft_ids, initial_draft_events

EXACT_FILTERS: tuple[str, ...] = (
    "order_number",
    "order_name",
    "uuid",
    "external_id",
    "email_id",
    "zip_code",
)
_FOLDED = frozenset({"email_id", "uuid"})


def fold(field: str, value: str) -> str:
    """The index key for ``value``: lower-cased where GoKarla compares case-insensitively."""
    return value.lower() if field in _FOLDED else value


def localized_tracking(tracking: JsonDict, language: str) -> JsonDict:
    """The tracking with its events' strings in ``language`` (the ETA text stays as it is)."""
    if language == "en":
        return tracking
    return {**tracking, "events": [localized(entry, language) for entry in tracking["events"]]}


def localized_order(order: JsonDict, language: str) -> JsonDict:
    if language == "en":
        return order
    trackings = [localized_tracking(item, language) for item in order["trackings"]]
    return {**order, "trackings": trackings}


def _encode(order: JsonDict) -> dict[str, bytes]:
    return {language: to_json(localized_order(order, language)) for language in LANGUAGES}


def _last_update(order: JsonDict) -> datetime | None:
    times = [datetime.fromisoformat(t["updated_at"]) for t in order["trackings"] if t["updated_at"]]
    return max(times, default=None)


@dataclass(frozen=True, slots=True)
class Query:
    """An order search: exact filters and the date ranges, all of which must match."""

    exact: Sequence[tuple[str, str]] = ()
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    updated_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class ShopData:
    """One shop's data at one moment; replaced as a whole when something changes."""

    spec: ShopSpec
    shop_body: bytes
    orders: tuple[bytes, ...]  # English, in order number order: the paging order
    encoded: dict[str, tuple[bytes, ...]]  # language -> the orders in that language
    order_index: dict[tuple[str, str], tuple[int, ...]]  # (filter, folded value) -> positions
    placed_at: tuple[datetime, ...]
    updated_at: tuple[datetime | None, ...]  # the newest tracking update per order
    shipments_by_id: dict[str, int]  # fulfilled and draft shipment ids -> order position
    shipments_by_tracking_number: dict[str, str]  # tracking number -> shipment id

    def search(self, query: Query) -> Sequence[int]:
        """Positions of the orders matching every part of ``query`` (none: all orders)."""
        positions: Sequence[int] | None = None
        for field, value in query.exact:
            found = self.order_index.get((field, fold(field, value)), ())
            positions = found if positions is None else [p for p in positions if p in found]
        if positions is None:
            positions = range(len(self.orders))
        if query.placed_from is not None:
            positions = [p for p in positions if self.placed_at[p] >= query.placed_from]
        if query.placed_to is not None:
            positions = [p for p in positions if self.placed_at[p] <= query.placed_to]
        if query.updated_since is not None:
            since, updated = query.updated_since, self.updated_at
            positions = [p for p in positions if (u := updated[p]) is not None and u >= since]
        return positions

    def with_order(self, position: int, order: JsonDict) -> ShopData:
        """A new snapshot with ``order`` in place of the one at ``position``."""
        encoded = _encode(order)

        def swap(values: tuple[Any, ...], value: Any) -> tuple[Any, ...]:
            return (*values[:position], value, *values[position + 1 :])

        numbers = dict(self.shipments_by_tracking_number)
        numbers.update({t["carrier"]["tracking_number"]: t["id"] for t in order["trackings"]})
        return replace(
            self,
            orders=swap(self.orders, encoded["en"]),
            encoded={lang: swap(self.encoded[lang], body) for lang, body in encoded.items()},
            updated_at=swap(self.updated_at, _last_update(order)),
            shipments_by_tracking_number=numbers,
        )


def _index_shop(spec: ShopSpec, orders: list[JsonDict]) -> ShopData:
    index: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
    by_id: dict[str, int] = {}
    by_number: dict[str, str] = {}
    for position, order in enumerate(orders):
        fields = {name: order[name] for name in EXACT_FILTERS if name != "zip_code"}
        fields["zip_code"] = (order.get("address") or {}).get("zip_code")
        for field, value in fields.items():
            if value:
                index[(field, fold(field, value))].append(position)
        for item in order["trackings"]:
            by_id[item["id"]] = position
            by_number[item["carrier"]["tracking_number"]] = item["id"]
        for shipment_id in draft_ids(order):
            by_id[shipment_id] = position
    encoded = [_encode(order) for order in orders]
    per_language = {lang: tuple(item[lang] for item in encoded) for lang in LANGUAGES}
    return ShopData(
        spec=spec,
        shop_body=to_json(shop_object(spec)),
        orders=per_language["en"],
        encoded=per_language,
        order_index={key: tuple(positions) for key, positions in index.items()},
        placed_at=tuple(datetime.fromisoformat(order["order_placed_at"]) for order in orders),
        updated_at=tuple(_last_update(order) for order in orders),
        shipments_by_id=by_id,
        shipments_by_tracking_number=by_number,
    )


class Catalog:
    """Every shop's data, its API keys, and the shipment changes (under one lock)."""

    def __init__(self, started_at: datetime, orders: dict[str, list[JsonDict]]) -> None:
        self.started_at = started_at
        # The raw order dicts, per shop in order number order; an event replaces its order.
        self.orders = {
            slug: sorted(items, key=lambda order: int(order["order_number"]))
            for slug, items in orders.items()
        }
        self.shops: dict[str, ShopData] = {
            spec.slug: _index_shop(spec, self.orders[spec.slug]) for spec in SHOPS
        }
        self.credentials: dict[tuple[str, str], ApiKey] = {
            (key.username, key.token): key for key in API_KEYS
        }
        self._drafts: dict[str, list[JsonDict]] = {}  # draft shipment id -> its events
        self._lock = threading.Lock()

    def add_event(
        self, slug: str, shipment_id: str, key: str, when: datetime, now: datetime
    ) -> Change | None:
        """Add an event to a shipment (fulfilled or draft) of the shop; None if it has no
        such shipment."""
        shipment_id = shipment_id.lower()  # ids are UUIDs: their case carries no meaning
        with self._lock:
            shop = self.shops[slug]
            position = shop.shipments_by_id.get(shipment_id)
            if position is None:
                return None
            order = self.orders[slug][position]
            draft = None
            if shipment_id in draft_ids(order):
                draft = self._draft_events(order, shipment_id)
            change = apply_event(
                order,
                shipment_id,
                key,
                when,
                now,
                draft_events=draft,
                taken_numbers=shop.shipments_by_tracking_number.keys(),
            )
            if change.draft_events is None:
                self._drafts.pop(shipment_id, None)
            else:
                self._drafts[shipment_id] = change.draft_events
            self.orders[slug][position] = change.order
            self.shops[slug] = shop.with_order(position, change.order)
            return change

    def next_steps(self, slug: str) -> list[tuple[str, str]]:
        """``(shipment id, event key)`` for every tracked shipment that is not done yet of
        order 1001 and the generated orders, in order number order: what the auto-advance may
        do next. The other hand-written orders, and drafts, stay as the README describes them
        (the events POST moves them on request)."""
        steps = []
        with self._lock:
            for order in self.orders[slug]:
                if not _moves_by_itself(order["order_number"]):
                    continue
                histories = [(item["id"], item["events"]) for item in order["trackings"]]
                for shipment_id, events in histories:
                    key = next_step(events)
                    if key is not None:
                        steps.append((shipment_id, key))
        return steps

    def _draft_events(self, order: JsonDict, shipment_id: str) -> list[JsonDict]:
        events = self._drafts.get(shipment_id)
        return events if events is not None else initial_draft_events(order, self.started_at)


# The hand-written order the demo shows moving (the others keep their documented states).
AUTO_ADVANCED_ANCHORS = frozenset({"1001"})


def _moves_by_itself(order_number: str) -> bool:
    return order_number in AUTO_ADVANCED_ANCHORS or (
        order_number.isdigit() and int(order_number) >= FIRST_NUMBER
    )


def build_catalog(now: datetime | None = None, *, generated_orders: int = COUNT) -> Catalog:
    """Build and index all demo data, with times relative to ``now`` (default: this moment)
    and ``generated_orders`` generated demo-shop orders besides the hand-written ones."""
    started_at = (now or datetime.now(UTC)).replace(microsecond=0)
    return Catalog(started_at, demo_orders(started_at, generated_orders))

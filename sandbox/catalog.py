"""The demo data, serialized once and indexed for constant-time lookups.

A request to the sandbox must cost the server almost nothing, so no JSON is encoded while
serving: every order, every tracking object and every draft shipment is encoded to bytes here,
at server start, and a search only joins the matching pieces into a list. Indexes are per shop,
keyed by ``(field, value)``; the e-mail and uuid filters compare case-insensitively (the value
is folded on both sides), every other filter exactly. Shipments are indexed by id (fulfilled
and draft ones) and by tracking number (fulfilled ones: a draft has none).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.data import SHOPS, ShopSpec, demo_orders, shop_object
from sandbox.shapes import draft_shipment_ids, draft_tracking

# The order filters the sandbox answers (GoKarla's date-range filters are not modelled).
ORDER_FILTERS: tuple[str, ...] = (
    "order_number",
    "order_name",
    "uuid",
    "external_id",
    "email_id",
    "zip_code",
)

_FOLDED_FIELDS = frozenset({"email_id", "uuid"})


def fold(field: str, value: str) -> str:
    """The index key for ``value``: lower-cased where GoKarla compares case-insensitively."""
    return value.lower() if field in _FOLDED_FIELDS else value


def to_json(value: Any) -> bytes:
    """Compact UTF-8 JSON (non-ASCII kept: the addresses are German, Austrian, Italian)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class ShopData:
    spec: ShopSpec
    shop_body: bytes
    orders: tuple[bytes, ...]  # serialized, sorted by order number: the paging order
    order_index: dict[tuple[str, str], tuple[int, ...]]  # (field, folded value) -> positions
    shipments_by_id: dict[str, bytes]  # fulfilled and draft shipments
    shipments_by_tracking_number: dict[str, bytes]  # fulfilled shipments only

    def search(self, filters: list[tuple[str, str]]) -> tuple[int, ...]:
        """Positions of the orders matching every filter (no filter: all orders)."""
        if not filters:
            return tuple(range(len(self.orders)))
        matches: tuple[int, ...] | None = None
        for field, value in filters:
            found = self.order_index.get((field, fold(field, value)), ())
            matches = found if matches is None else tuple(p for p in matches if p in found)
            if not matches:
                return ()
        return matches or ()


@dataclass(frozen=True, slots=True)
class Catalog:
    started_at: datetime
    shops: dict[str, ShopData]
    credentials: dict[tuple[str, str], str]  # (username, token) -> the slug of its shop
    orders: dict[str, list[dict[str, Any]]]  # the raw data, for huge bodies and the docs


def _order_fields(order: dict[str, Any]) -> dict[str, str | None]:
    """The values an order can be found by, per filter."""
    address = order.get("address") or {}
    return {
        "order_number": order["order_number"],
        "order_name": order["order_name"],
        "uuid": order["uuid"],
        "external_id": order["external_id"],
        "email_id": order["email_id"],
        "zip_code": address.get("zip_code"),
    }


def _index_shop(spec: ShopSpec, orders: list[dict[str, Any]], now: datetime) -> ShopData:
    orders = sorted(orders, key=lambda order: int(order["order_number"]))
    index: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
    by_id: dict[str, bytes] = {}
    by_tracking_number: dict[str, bytes] = {}
    for position, order in enumerate(orders):
        for field, value in _order_fields(order).items():
            if value:
                index[(field, fold(field, value))].append(position)
        for tracking in order["trackings"]:
            encoded = to_json(tracking)
            by_id[tracking["id"]] = encoded
            by_tracking_number[tracking["carrier"]["tracking_number"]] = encoded
        # Drafts have no tracking number: they are found by id only.
        for shipment_id in draft_shipment_ids(order):
            by_id[shipment_id] = to_json(draft_tracking(order, shipment_id, now))
    return ShopData(
        spec=spec,
        shop_body=to_json(shop_object(spec)),
        orders=tuple(to_json(order) for order in orders),
        order_index={key: tuple(positions) for key, positions in index.items()},
        shipments_by_id=by_id,
        shipments_by_tracking_number=by_tracking_number,
    )


def build_catalog(now: datetime | None = None) -> Catalog:
    """Build and index all demo data, with times relative to ``now`` (default: this moment)."""
    started_at = (now or datetime.now(UTC)).replace(microsecond=0)
    orders = demo_orders(started_at)
    return Catalog(
        started_at=started_at,
        shops={spec.slug: _index_shop(spec, orders[spec.slug], started_at) for spec in SHOPS},
        credentials={(spec.username, spec.token): spec.slug for spec in SHOPS},
        orders=orders,
    )

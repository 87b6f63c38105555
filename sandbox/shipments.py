"""What a new shipment event does to an order (``POST .../shipments/{id}/events`` and the
auto-advance): pure functions on the order dicts, no locking, no encoding.

A fulfilled shipment (one of ``trackings[]``) gets the event appended, its ``state`` and
``flag`` recomputed from its events and ``updated_at`` set to the moment of the change. A
draft shipment (a line item's ``shipment_id`` not in ``trackings[]``) keeps its pre-transit
history on the side (``ORDER_CREATED`` and ``ORDER_IN_PROCESSING`` as far as they had
happened at the start, then posted pre-transit events such as ``ORDER_CANCELLED``); its first
carrier event (any phase past ``order_processed``) promotes it: it becomes a DHL tracking
with a tracking number derived from its id, appended to ``trackings[]``.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sandbox.carriers import carrier
from sandbox.events import PRE_TRANSIT_PHASES, flag_for, phase_of, state_for
from sandbox.shapes import (
    WAREHOUSE,
    JsonDict,
    address,
    days,
    eta_iso,
    event,
    iso,
    place,
    pre_transit,
    tracking_of,
)

_HUBS = (
    place("Radefeld", "04435", "DE", name="Paketzentrum Radefeld"),
    place("Ludwigsfelde", "14974", "DE", name="Paketzentrum Ludwigsfelde"),
    place("Hannover", "30179", "DE"),
    place("Nürnberg"),
)
_AT_THE_CUSTOMER = frozenset({"in_delivery", "delivered", "delivery_failed", "collect"})
_AT_THE_WAREHOUSE = frozenset(
    {"ORDER_IN_PROCESSING", "ORDER_CANCELLED", "PARCEL_HANDED_TO_CARRIER", "RETURN_RECEIVED",
     "RETURNED_TO_SENDER"}
)  # fmt: skip
_NOT_HOME = "Recipient not at home. A second attempt follows on the next working day."


@dataclass(frozen=True, slots=True)
class Change:
    """The outcome of one event: the new order, the shipment as a TrackingDTO (a draft
    without ``carrier``), and the draft's history while it stays a draft."""

    order: JsonDict
    shipment: JsonDict
    event: JsonDict
    draft_events: list[JsonDict] | None


def draft_ids(order: JsonDict) -> list[str]:
    """The order's draft shipments, in line item order, each once."""
    tracked = {item["id"] for item in order["trackings"]}
    named = (item["shipment_id"] for item in order["products"] if item["shipment_id"])
    return [shipment_id for shipment_id in dict.fromkeys(named) if shipment_id not in tracked]


def initial_draft_events(order: JsonDict, started_at: datetime) -> list[JsonDict]:
    """A draft's pre-transit events, as far as they had happened when the server started."""
    placed = datetime.fromisoformat(order["order_placed_at"])
    return [
        item for item in pre_transit(placed) if datetime.fromisoformat(item["time"]) <= started_at
    ]


def promoted_tracking_number(shipment_id: str, taken: Collection[str]) -> str:
    """A DHL-shaped tracking number derived from the shipment id, unused in the shop."""
    digest = int(hashlib.sha256(shipment_id.encode()).hexdigest(), 16)
    number = f"00340434{digest % 10**12:012d}"
    while number in taken:
        digest += 1
        number = f"00340434{digest % 10**12:012d}"
    return number


def apply_event(
    order: JsonDict,
    shipment_id: str,
    key: str,
    when: datetime,
    now: datetime,
    *,
    draft_events: list[JsonDict] | None,
    taken_numbers: Collection[str],
) -> Change:
    """Add event ``key`` at ``when`` to the shipment; ``draft_events`` is the history of a
    draft (None for a fulfilled shipment). ``order`` is not modified: the change is a copy."""
    order = copy.deepcopy(order)
    found = next((item for item in order["trackings"] if item["id"] == shipment_id), None)
    new = event(key, when, _location(order, found, key), _info(order, key))
    if found is not None:
        found["events"].append(new)
        _refresh(found, now)
        if key == "READY_FOR_COLLECTION" and found["pickup"] is None:
            found["pickup"] = _pickup(order, when)
        return Change(order, found, new, None)
    events = [*(draft_events or []), new]
    if phase_of(key) in PRE_TRANSIT_PHASES:
        return Change(order, tracking_of(order, shipment_id, None, events), new, events)
    number = promoted_tracking_number(shipment_id, taken_numbers)
    shipment = tracking_of(order, shipment_id, carrier("dhl", number), events)
    shipment["estimated_arrival"] = eta_iso(when + days(2))
    if key == "READY_FOR_COLLECTION":
        shipment["pickup"] = _pickup(order, when)
    _refresh(shipment, now)
    order["trackings"].append(shipment)
    return Change(order, shipment, new, None)


def _refresh(shipment: JsonDict, now: datetime) -> None:
    shipment["state"] = state_for(shipment["events"])
    shipment["flag"] = flag_for(shipment["events"])
    shipment["updated_at"] = iso(now)


def _location(order: JsonDict, shipment: JsonDict | None, key: str) -> JsonDict:
    """Where a scan of ``key`` plausibly happens: at the customer's, the warehouse, a hub."""
    home = order["address"]
    if phase_of(key) in _AT_THE_CUSTOMER or key == "RETURN_IN_TRANSIT":
        return place(home["city"], home["zip_code"], home["country_code"])
    if key in _AT_THE_WAREHOUSE:
        return WAREHOUSE
    if key in ("ORDER_CREATED", "RETURN_CREATED"):
        return {}
    history = shipment["events"] if shipment else []
    if key == "DEPARTURE_FROM_TRANSPORT_HUB" and history:
        return history[-1]["location"]
    return _HUBS[len(history) % len(_HUBS)]


def _info(order: JsonDict, key: str) -> JsonDict | None:
    if key == "DELIVERY_ATTEMPTED":
        return {"mail_message": _NOT_HOME}
    if key == "READY_FOR_COLLECTION":
        name = _pickup_name(order)
        return {"pickup_point": name, "pickup_opening_hours": {"Mo-Sa": "08:00-20:00"}}
    return None


def _pickup_name(order: JsonDict) -> str:
    return f"Parcel shop {order['address']['city']}"


def _pickup(order: JsonDict, when: datetime) -> JsonDict:
    home = order["address"]
    name = _pickup_name(order)
    spot = address(
        name, "Marktplatz 1", home["city"], home["zip_code"], home["country"], home["country_code"]
    )
    return {
        "type": "shop",
        "name": name,
        "address": spot,
        "opening_hours": "Mo–Sa 08:00–20:00",
        "date_to": iso(when + days(7)),
    }

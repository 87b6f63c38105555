"""GoKarla JSON to typed records, leniently.

GoKarla's documents disagree on envelopes, ETA shapes and where ``phase`` lives, and every
enumeration grows over time. So: unknown fields are ignored, enumerations stay open strings,
nulls and missing optional fields are fine, and a value of the wrong type becomes "unknown"
rather than an error. Only a body whose structure makes no sense (an order list that is not
a list, an order with no identifier) is an error, and it becomes ``UnexpectedResponse`` in one
place: ``_parsed``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from .errors import ShipmentNotFound, UnexpectedResponse
from .records import (
    Address,
    Discount,
    Eta,
    LineItem,
    Order,
    OrderStatus,
    Shipment,
    ShipmentStatus,
    Shop,
    TrackingEvent,
)

logger = logging.getLogger("karla_sidebar.gokarla")

T = TypeVar("T")

CARRIER_NAMES = {
    "dhl": "DHL",
    "dhlexp": "DHL Express",
    "dhl_express": "DHL Express",
    "deutschepost": "Deutsche Post",
    "deutsche_post": "Deutsche Post",
    "dpd": "DPD",
    "gls": "GLS",
    "ups": "UPS",
    "usps": "USPS",
    "fedex": "FedEx",
    "tnt": "TNT",
    "hermes": "Hermes",
    "evri": "Evri",
    "postnl": "PostNL",
    "postnl_inter": "PostNL International",
    "royalmail": "Royal Mail",
    "colissimo": "Colissimo",
    "chronopost": "Chronopost",
    "bpost": "bpost",
    "postat": "Österreichische Post",
    "austrian_post": "Österreichische Post",
    "swisspost": "Swiss Post",
    "brt": "BRT",
    "poste_italiane": "Poste Italiane",
    "correos": "Correos",
    "seur": "SEUR",
    "inpost": "InPost",
    "bring": "Bring",
    "postnord": "PostNord",
    "budbee": "Budbee",
    "amazon": "Amazon Logistics",
}

_CANCELLED_WORDS = {"cancelled", "canceled"}
_ADDRESS_FIELDS = (
    "name",
    "company",
    "street",
    "address_line_1",
    "address_line_2",
    "city",
    "zip_code",
    "province",
    "country",
    "country_code",
    "phone",
)

# Phases that decide the status whatever the flag says, then the progress phases.
_FINAL_PHASES = {
    "delivered": ShipmentStatus.DELIVERED,
    "delivery_failed": ShipmentStatus.DELIVERY_FAILED,
    "return_failed": ShipmentStatus.DELIVERY_FAILED,
    "return_created": ShipmentStatus.RETURN_IN_TRANSIT,
    "return_transit": ShipmentStatus.RETURN_IN_TRANSIT,
    "return_received": ShipmentStatus.RETURNED,
    "returned": ShipmentStatus.RETURNED,
}
_PROGRESS_PHASES = {
    "in_delivery": ShipmentStatus.OUT_FOR_DELIVERY,
    "collect": ShipmentStatus.READY_FOR_PICKUP,
    "in_transit": ShipmentStatus.IN_TRANSIT,
    "order_created": ShipmentStatus.PRE_TRANSIT,
    "order_processed": ShipmentStatus.PRE_TRANSIT,
}
# ``state`` (the older, coarser field) only speaks when ``phase`` is missing or unknown.
_FINAL_STATES = {
    "delivered": ShipmentStatus.DELIVERED,
    "returned": ShipmentStatus.RETURNED,
}
_PROGRESS_STATES = {
    "collect": ShipmentStatus.READY_FOR_PICKUP,
    "transit": ShipmentStatus.IN_TRANSIT,
    "pending": ShipmentStatus.PRE_TRANSIT,
}
_FLAGS = {"delay": ShipmentStatus.DELAYED, "error": ShipmentStatus.EXCEPTION}

_OLDEST = datetime.min.replace(tzinfo=UTC)
_LARGEST_INT = 10**9


class _Malformed(Exception):
    """A body whose structure makes no sense; turned into UnexpectedResponse by _parsed."""


def parse_shop(data: Any) -> Shop:
    return _parsed(_shop, data)


def parse_orders(data: Any) -> list[Order]:
    return _parsed(_orders, data)


def parse_order(data: Any) -> Order:
    return _parsed(_order, data)


def parse_shipment(data: Any) -> Shipment:
    """One tracking object; a search result list is accepted, and an empty one is not found."""
    return _parsed(_found_shipment, data)


def unwrap(data: Any) -> Any:
    """The body inside a ``{"data": …}`` envelope, or the body itself."""
    if isinstance(data, dict) and isinstance(data.get("data"), dict | list):
        return data["data"]
    return data


def _parsed(parse: Callable[[Any], T], data: Any) -> T:
    try:
        return parse(unwrap(data))
    except (
        _Malformed,
        TypeError,
        ValueError,
        AttributeError,
        LookupError,
        ArithmeticError,
        RecursionError,
    ) as exc:
        logger.warning("GoKarla response not understood: %s", type(exc).__name__)
        raise UnexpectedResponse() from exc


def _shop(body: Any) -> Shop:
    body = _object(body)
    slug, name = _text(body.get("slug")), _text(body.get("name"))
    if not (slug or name):
        raise _Malformed("shop without slug or name")
    return Shop(slug=slug, name=name or slug)


def _orders(body: Any) -> list[Order]:
    if not isinstance(body, list):
        raise _Malformed("order list is not a list")
    return [_order(item) for item in body]


def _order(body: Any) -> Order:
    body = _object(body)
    uuid, number = _text(body.get("uuid")), _text(body.get("order_number"))
    name, external_id = _text(body.get("order_name")), _text(body.get("external_id"))
    if not (uuid or number or name or external_id):
        raise _Malformed("order without an identifier")
    line_items = _line_items(body.get("products"))
    shipments = tuple(_shipment(item) for item in _list(body.get("trackings")) if _is_object(item))
    expected = _expected_shipments(line_items, shipments)
    payment = _text(body.get("payment_status")) or _text(body.get("financial_status"))
    return Order(
        uuid=uuid,
        order_number=number,
        order_name=name,
        status=_order_status(body, shipments, expected),
        external_id=external_id,
        placed_at=_datetime(body.get("order_placed_at")) or _datetime(body.get("created_at")),
        currency=_text(body.get("currency")).upper(),
        total=_decimal(body.get("total_order_price")),
        subtotal=_decimal(body.get("sub_total_price")),
        shipping=_decimal(body.get("shipping_price")),
        discount_total=_decimal(body.get("discount_price")),
        email=_text(body.get("email_id")) or _text(body.get("email")),
        address=_address(body.get("address")),
        line_items=line_items,
        discounts=tuple(
            Discount(
                code=_text(item.get("code")),
                amount=_decimal(item.get("amount")),
                type=_text(item.get("type")),
            )
            for item in _list(body.get("discounts"))
            if _is_object(item)
        ),
        shipments=shipments,
        expected_shipments=expected,
        payment_status=payment,
        payment_status_reported=bool(payment),
    )


def _expected_shipments(line_items: tuple[LineItem, ...], shipments: tuple[Shipment, ...]) -> int:
    ids = {item.shipment_id for item in line_items if item.shipment_id}
    ids |= {shipment.id for shipment in shipments if shipment.id}
    expected = len(ids) + sum(1 for shipment in shipments if not shipment.id)
    return max(expected, 1) if line_items else expected


def _order_status(body: dict, shipments: tuple[Shipment, ...], expected: int) -> OrderStatus:
    said_cancelled = any(
        _text(body.get(field)).lower() in _CANCELLED_WORDS
        for field in ("status", "state", "financial_status")
    )
    cancel_event = any(
        event.event_key.upper() == "ORDER_CANCELLED"
        for shipment in shipments
        for event in shipment.events
    )
    if body.get("cancelled_at") or said_cancelled or cancel_event:
        return OrderStatus.CANCELLED
    fulfilled = [shipment for shipment in shipments if shipment.tracking_number]
    if not fulfilled:
        return OrderStatus.PLACED
    if len(fulfilled) < expected:
        return OrderStatus.PARTIALLY_FULFILLED
    if all(shipment.status is ShipmentStatus.DELIVERED for shipment in fulfilled):
        return OrderStatus.DELIVERED
    return OrderStatus.FULFILLED


def _found_shipment(body: Any) -> Shipment:
    if isinstance(body, list):
        if not body:
            raise ShipmentNotFound(status_code=200)
        body = body[0]
    return _shipment(body)


def _shipment(body: Any) -> Shipment:
    body = _object(body)
    carrier = body.get("carrier")
    if isinstance(carrier, str):
        carrier = {"carrier_reference": carrier}
    carrier = _dict(carrier)
    shipment_id = _text(body.get("id")) or _text(body.get("uuid"))
    tracking_number = _text(carrier.get("tracking_number")) or _text(body.get("tracking_number"))
    if not (shipment_id or tracking_number):
        raise _Malformed("shipment without an id or tracking number")
    reference = _text(carrier.get("carrier_reference")) or _text(body.get("carrier_reference"))
    events = _events(body.get("events"))
    phase = _text(body.get("phase")).lower() or next(
        (event.phase.lower() for event in events if event.phase), ""
    )
    state, flag = _text(body.get("state")).lower(), _text(body.get("flag")).lower()
    return Shipment(
        id=shipment_id,
        tracking_number=tracking_number,
        carrier_reference=reference,
        carrier_name=carrier_name(reference),
        tracking_url=_text(carrier.get("tracking_url")) or _text(body.get("tracking_url")),
        status=_shipment_status(phase, state, flag),
        phase=phase,
        state=state,
        flag=flag,
        order_number=_text(body.get("order_number")),
        eta=_eta(body),
        events=events,
        updated_at=_datetime(body.get("updated_at")),
        line_items=_line_items(body.get("products")),
    )


def _shipment_status(phase: str, state: str, flag: str) -> ShipmentStatus:
    known_phase = phase in _FINAL_PHASES or phase in _PROGRESS_PHASES
    if phase in _FINAL_PHASES:
        return _FINAL_PHASES[phase]
    if not known_phase and state in _FINAL_STATES:
        return _FINAL_STATES[state]
    if flag in _FLAGS:
        return _FLAGS[flag]
    if known_phase:
        return _PROGRESS_PHASES[phase]
    return _PROGRESS_STATES.get(state, ShipmentStatus.UNKNOWN)


def carrier_name(reference: str) -> str:
    """A carrier's display name from GoKarla's ``carrier_reference``."""
    key = reference.strip().lower()
    if not key:
        return ""
    if key in CARRIER_NAMES:
        return CARRIER_NAMES[key]
    if len(key) <= 4 and key.isalpha():
        return key.upper()
    return " ".join(word.capitalize() for word in key.replace("-", "_").split("_") if word)


def _events(value: Any) -> tuple[TrackingEvent, ...]:
    events = [_event(item) for item in _list(value) if _is_object(item)]
    # Newest first; sorted() is stable also with reverse=True. Undated events count as oldest.
    events.sort(key=lambda event: event.time or _OLDEST, reverse=True)
    return tuple(events)


def _event(body: dict) -> TrackingEvent:
    key = _text(body.get("event_key"))
    strings = _dict(body.get("event_strings"))
    label = (
        _text(strings.get("list_label"))
        or _text(strings.get("event_status"))
        or key.replace("_", " ").capitalize()
    )
    return TrackingEvent(
        time=_datetime(body.get("time")),
        event_key=key,
        phase=_text(body.get("phase")),
        label=label,
        location=_location(body.get("location")),
        additional_info=_text(body.get("additional_info")),
    )


def _location(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(text for text in map(_text, value.values()) if text)
    return _text(value)


def _eta(body: dict) -> Eta | None:
    """The ETA from any shape GoKarla has documented; a window is preferred to a point."""
    arrival = body.get("estimated_arrival")
    if isinstance(arrival, str):
        arrival = {"time_prediction": arrival}
    arrival = _dict(arrival)
    eta = _dict(body.get("eta"))
    start = _first_date(
        arrival.get("from"),
        arrival.get("time_prediction_from"),
        arrival.get("start"),
        body.get("estimated_arrival_from"),
        eta.get("from"),
        eta.get("start"),
    )
    end = _first_date(
        arrival.get("to"),
        arrival.get("time_prediction_to"),
        arrival.get("end"),
        body.get("estimated_arrival_to"),
        eta.get("to"),
        eta.get("end"),
    )
    if start or end:
        start, end = sorted(day for day in (start or end, end or start) if day)
        return Eta(start=start, end=end if end != start else None)
    single = _first_date(
        arrival.get("time_prediction"), body.get("eta"), body.get("estimated_delivery_date")
    )
    return Eta(start=single) if single else None


def _line_items(value: Any) -> tuple[LineItem, ...]:
    return tuple(_line_item(item) for item in _list(value) if _is_object(item))


def _line_item(body: dict) -> LineItem:
    image = next(
        (
            _text(item.get("src"))
            for item in _list(body.get("images"))
            if _is_object(item) and _text(item.get("src"))
        ),
        "",
    )
    quantity = _int(body.get("quantity"))
    return LineItem(
        title=_text(body.get("title")) or _text(body.get("name")),
        quantity=1 if quantity is None else quantity,
        price=_decimal(body.get("price")),
        sku=_text(body.get("sku")),
        size=_text(body.get("size")),
        image_url=image,
        shipment_id=_text(body.get("shipment_id")),
    )


def _address(value: Any) -> Address | None:
    if not isinstance(value, dict):
        return None
    fields = {name: _text(value.get(name)) for name in _ADDRESS_FIELDS}
    return Address(**fields) if any(fields.values()) else None


# Lenient scalars: the wrong type or an unparseable value is "unknown", never an error.


def _object(value: Any) -> dict:
    if not isinstance(value, dict):
        raise _Malformed(f"expected an object, got {type(value).__name__}")
    return value


def _is_object(value: Any) -> bool:
    return isinstance(value, dict)


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return str(value)
    return ""


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _int(value: Any) -> int | None:
    number = _decimal(value)
    if number is None or abs(number) > _LARGEST_INT or number != number.to_integral_value():
        return None
    return int(number)


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _date(value: Any) -> date | None:
    moment = _datetime(value)
    return moment.date() if moment else None


def _first_date(*values: Any) -> date | None:
    return next((day for day in map(_date, values) if day), None)

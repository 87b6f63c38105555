"""GoKarla JSON to typed records, leniently, from the fields GoKarla documents
(gokarla-api.md) and nothing else.

GoKarla's documents disagree on envelopes and ETA shapes, leave ``location`` and the ETA's
text without a format, and every enumeration grows over time. So: unknown fields are ignored,
enumerations stay open strings, nulls and missing optional fields are fine, and a value of the
wrong type becomes "unknown" rather than an error. Only a body whose structure makes no sense
(an order list that is not a list, an order with no identifier) is an error, and it becomes
``UnexpectedResponse`` in one place: ``_parsed``.

Events: GoKarla's ``time`` is optional. The phase comes from the newest *timed* event; an
event without a time keeps its place in GoKarla's list (it sorts with the timed event before
it), so it can never make an out-for-delivery parcel look pre-transit.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from .errors import UnexpectedResponse
from .records import (
    Address,
    Discount,
    Eta,
    EventInfo,
    LineItem,
    Moment,
    Order,
    OrderStatus,
    Pickup,
    Shipment,
    ShipmentStatus,
    Shop,
    TrackingEvent,
    Webhook,
    WebhookEvent,
    tracking_key,
)

logger = logging.getLogger("karla_sidebar.gokarla")

T = TypeVar("T")

# GoKarla's carrier codes (gokarla-api.md, the SDK's CarrierEnum) and their names.
CARRIER_NAMES = {
    "amz": "Amazon",
    "brt": "BRT",
    "depost": "Deutsche Post",
    "dhl": "DHL",
    "dhlexp": "DHL Express",
    "dhl_old": "DHL",
    "dhl2man": "DHL",
    "dpd": "DPD",
    "dpdn": "DPD",
    "dpduk": "DPD",
    "gls": "GLS",
    "gls_es": "GLS",
    "goexp": "GO! Express",
    "hrs": "Hermes",
    "postat": "Österreichische Post",
    "rhe": "Rhenus",
    "royalmail": "Royal Mail",
    "swisspost": "Swiss Post",
    "ups": "UPS",
    "bpost": "bpost",
    "dao": "DAO",
    "anpost": "An Post",
    "bring": "Bring",
    "posti": "Posti",
    "postnl_inter": "PostNL",
    "usps": "USPS",
    "fedex": "FedEx",
    "postnord": "PostNord",
    "parcelone": "PARCEL.ONE",
    "dachser": "DACHSER",
    "asendia_de": "Asendia",
}

# The only sign of a cancelled order GoKarla sends (an event of a draft shipment).
_CANCELLED_EVENT = "ORDER_CANCELLED"
# A link with any of these in it is not one a browser should be given (see ``_web_url``).
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f]")
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

# A location object's parts in the order they are written ("Leipzig, 04109, DE"): the first
# present key of each group. Other text values follow; these never do.
_LOCATION_GROUPS = (
    ("name",),
    ("street", "address_line_1", "address"),
    ("city",),
    ("zip_code", "zip", "postal_code", "postcode"),
    ("country_code", "country"),
)
_LOCATION_SKIPPED = frozenset(
    {"lat", "lng", "lon", "long", "latitude", "longitude", "id", "uuid", "timezone", "type"}
    | {key for group in _LOCATION_GROUPS for key in group}
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


def parse_tracking(data: Any) -> Shipment:
    """One tracking object (as nested in an order's ``trackings[]``)."""
    return _parsed(_shipment, data)


def parse_webhook(data: Any) -> Webhook:
    return _parsed(_webhook, data)


def parse_webhooks(data: Any) -> list[Webhook]:
    return _parsed(_webhooks, data)


def parse_webhook_event(data: Any) -> WebhookEvent:
    """A webhook delivery's payload. GoKarla documents it only in outline (every event carries
    ``context`` with the models involved: ``order``, ``customer``, ``shipments``), so anything
    readable is taken and the rest counted in ``skipped``; only a payload that is not a JSON
    object at all is an error."""
    return _parsed(_webhook_event, data)


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
    return Order(
        uuid=uuid,
        order_number=number,
        order_name=name,
        status=_order_status(shipments, expected),
        external_id=external_id,
        placed_at=_datetime(body.get("order_placed_at")),
        currency=_text(body.get("currency")).upper() or "EUR",  # GoKarla's documented default
        total=_decimal(body.get("total_order_price")),
        subtotal=_decimal(body.get("sub_total_price")),
        shipping=_decimal(body.get("shipping_price")),
        discount_total=_decimal(body.get("discount_price")),
        email=_text(body.get("email_id")),
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
    )


def _webhooks(body: Any) -> list[Webhook]:
    if not isinstance(body, list):
        raise _Malformed("webhook list is not a list")
    return [_webhook(item) for item in body]


def _webhook(body: Any) -> Webhook:
    body = _object(body)
    uuid = _text(body.get("uuid"))
    if not uuid:
        raise _Malformed("webhook without a uuid")
    return Webhook(
        uuid=uuid,
        url=_text(body.get("url")),
        enabled_events=tuple(_text(item) for item in _list(body.get("enabled_events"))),
        status=_text(body.get("status")).lower(),
        description=_text(body.get("description")),
    )


# What a part of a webhook's context may raise when it makes no sense: it is skipped.
_UNREADABLE = (_Malformed, TypeError, ValueError, AttributeError, LookupError, ArithmeticError)


def _webhook_event(body: Any) -> WebhookEvent:
    body = _object(body)
    context = _dict(body.get("context"))
    orders, shipments, skipped = [], [], 0
    for item in _one_or_many(context, "order", "orders"):
        try:
            orders.append(_order(item))
        except _UNREADABLE:
            skipped += 1
    known = {key for order in orders if order.uuid for key in _shipment_keys(order.shipments)}
    for item in _one_or_many(context, "shipment", "shipments"):
        carrier = _dict(item.get("carrier"))
        keys = _keys(_text(item.get("id")), _text(carrier.get("tracking_number")))
        if known.intersection(keys):
            continue  # its order is in the context too, and says more
        try:
            shipment = _shipment(item)
        except _UNREADABLE:
            skipped += 1
            continue
        if shipment.order_uuid:
            shipments.append(shipment)
        else:
            skipped += 1  # without its order's uuid it cannot be found again
    return WebhookEvent(
        event=_text(body.get("event")),
        orders=tuple(orders),
        shipments=tuple(shipments),
        skipped=skipped,
    )


def _shipment_keys(shipments: tuple[Shipment, ...]) -> set[str]:
    return {key for s in shipments for key in _keys(s.id, s.tracking_number)}


def _keys(shipment_id: str, tracking_number: str) -> set[str]:
    """What tells a shipment apart: its id, its tracking number (as ``tracking_key`` reads it)."""
    keys = {f"id:{shipment_id}"} if shipment_id else set()
    return keys | ({f"tracking:{tracking_key(tracking_number)}"} if tracking_number else set())


def _one_or_many(context: dict, one: str, many: str) -> list:
    """The objects under ``one`` (an object) and ``many`` (a list of them)."""
    items = [context.get(one), *_list(context.get(many))]
    return [item for item in items if _is_object(item)]


def _expected_shipments(line_items: tuple[LineItem, ...], shipments: tuple[Shipment, ...]) -> int:
    ids = {item.shipment_id for item in line_items if item.shipment_id}
    ids |= {shipment.id for shipment in shipments if shipment.id}
    expected = len(ids) + sum(1 for shipment in shipments if not shipment.id)
    return max(expected, 1) if line_items else expected


def _order_status(shipments: tuple[Shipment, ...], expected: int) -> OrderStatus:
    """GoKarla's model: placed until a shipment has a tracking number, then (partially)
    fulfilled, delivered when every tracked shipment is; cancelled only when an event says so."""
    if any(
        event.event_key.upper() == _CANCELLED_EVENT
        for shipment in shipments
        for event in shipment.events
    ):
        return OrderStatus.CANCELLED
    fulfilled = [shipment for shipment in shipments if shipment.tracking_number]
    if not fulfilled:
        return OrderStatus.PLACED
    if len(fulfilled) < expected:
        return OrderStatus.PARTIALLY_FULFILLED
    if all(shipment.status is ShipmentStatus.DELIVERED for shipment in fulfilled):
        return OrderStatus.DELIVERED
    return OrderStatus.FULFILLED


def _shipment(body: Any) -> Shipment:
    body = _object(body)
    carrier = _dict(body.get("carrier"))
    shipment_id = _text(body.get("id"))
    tracking_number = _text(carrier.get("tracking_number"))
    if not (shipment_id or tracking_number):
        raise _Malformed("shipment without an id or tracking number")
    reference = _text(carrier.get("carrier_reference"))
    events = _events(body.get("events"))
    phase = _current_phase(events)
    state, flag = _text(body.get("state")).lower(), _text(body.get("flag")).lower()
    return Shipment(
        id=shipment_id,
        tracking_number=tracking_number,
        carrier_reference=reference,
        carrier_name=carrier_name(reference),
        tracking_url=_web_url(carrier.get("tracking_url")),
        status=_shipment_status(phase, state, flag),
        phase=phase,
        state=state,
        flag=flag,
        order_number=_text(body.get("order_number")),
        order_uuid=_text(body.get("order_id")),
        eta=_eta(body),
        events=events,
        updated_at=_datetime(body.get("updated_at")),
        line_items=_line_items(body.get("products")),
        pickup=_pickup(body.get("pickup")) or _event_pickup(events),
    )


def _current_phase(events: tuple[TrackingEvent, ...]) -> str:
    """The phase of the newest timed event; without any timed event, of the last one GoKarla
    lists. Events are newest first here."""
    timed = (event for event in events if event.time is not None and event.phase)
    newest = next(timed, None) or next((event for event in events if event.phase), None)
    return newest.phase.lower() if newest else ""


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
    """A carrier's display name from GoKarla's ``carrier_reference``; an unknown code as is."""
    code = reference.strip()
    return CARRIER_NAMES.get(code.lower(), code)


def _events(value: Any) -> tuple[TrackingEvent, ...]:
    """Newest first. GoKarla lists events oldest first (a list that is newest first is turned
    round); an event without a time sorts with the timed event before it in the list."""
    events = [_event(item) for item in _list(value) if _is_object(item)]
    times = [event.time for event in events if event.time is not None]
    if len(times) > 1 and times[0] > times[-1]:
        events.reverse()
    keyed, since = [], _OLDEST
    for position, event in enumerate(events):
        since = event.time or since
        keyed.append((since, position, event))
    keyed.sort(key=lambda item: item[:2], reverse=True)
    return tuple(event for _, _, event in keyed)


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
        additional_info=_event_info(body.get("additional_info")),
    )


def _location(value: Any) -> str:
    """GoKarla's location object (its shape is not documented) as one line, for example
    ``Leipzig, 04109, DE``; a nested object is written out in place; text as it is."""
    if not isinstance(value, dict):
        return _text(value)
    parts = []
    for group in _LOCATION_GROUPS:
        written = (_location(value[key]) for key in group if key in value)
        parts.append(next((part for part in written if part), ""))
    parts += [
        _location(part) for key, part in value.items() if str(key).lower() not in _LOCATION_SKIPPED
    ]
    return ", ".join(dict.fromkeys(part for part in parts if part))


def _event_info(value: Any) -> EventInfo | None:
    info = _dict(value)
    if not info:
        return None
    hours = _dict(info.get("pickup_opening_hours"))
    parsed = EventInfo(
        pickup_point=_text(info.get("pickup_point")),
        pickup_point_url=_web_url(info.get("pickup_point_url")),
        pickup_time=_datetime(info.get("pickup_time")),
        pickup_opening_hours=tuple(
            (_text(days), _text(times)) for days, times in hours.items() if _text(times)
        ),
        mail_message=_text(info.get("mail_message")),
        merchant_name=_text(info.get("merchant_name")),
        preferred_delivery_date=_datetime(info.get("preferred_delivery_date")),
        date=_datetime(info.get("date")),
    )
    return parsed if parsed != EventInfo() else None


def _pickup(value: Any) -> Pickup | None:
    body = _dict(value)
    address = body.get("address")
    pickup = Pickup(
        name=_text(body.get("name")),
        type=_text(body.get("type")).lower(),
        # An AddressDTO; a plain text address is kept as its street line.
        address=_address(address) or _address({"street": address}),
        url=_web_url(body.get("url")),
        opening_hours=_text(body.get("opening_hours")),
        until=_datetime(body.get("date_to")),
    )
    return pickup if (pickup.name or pickup.address) else None


def _event_pickup(events: tuple[TrackingEvent, ...]) -> Pickup | None:
    """The pickup point the newest event naming one gives."""
    for event in events:
        info = event.additional_info
        if info and info.pickup_point:
            return Pickup(
                name=info.pickup_point,
                url=info.pickup_point_url,
                opening_hours="; ".join(
                    f"{days} {times}".strip() for days, times in info.pickup_opening_hours
                ),
                pickup_time=info.pickup_time,
            )
    return None


def _eta(body: dict) -> Eta | None:
    """GoKarla's ``estimated_arrival.time_prediction`` (free text in its ``language``: a date
    when it reads as ISO 8601, else shown as it is) and an ``expected_delivery`` window, on the
    tracking or inside ``estimated_arrival``, when there is one."""
    arrival = _dict(body.get("estimated_arrival"))
    window = _dict(body.get("expected_delivery")) or _dict(arrival.get("expected_delivery"))
    start, end = _moment(window.get("from")), _moment(window.get("to"))
    prediction = _text(arrival.get("time_prediction"))
    day = _moment(prediction)
    text = "" if day else prediction
    if not (start or end):
        start = day
    elif not (start and end):
        start = end = start or end
    if not (start or text):
        return None
    return Eta(start=start, end=end, text=text, language=_text(arrival.get("language")))


def _line_items(value: Any) -> tuple[LineItem, ...]:
    return tuple(_line_item(item) for item in _list(value) if _is_object(item))


def _line_item(body: dict) -> LineItem:
    image = next(
        (
            _web_url(item.get("src"))
            for item in _list(body.get("images"))
            if _is_object(item) and _web_url(item.get("src"))
        ),
        "",
    )
    quantity = _int(body.get("quantity"))
    return LineItem(
        title=_text(body.get("title")),
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


def _web_url(value: Any) -> str:
    """A link GoKarla gives (tracking page, pickup point, image), if it is one a browser may
    open safely: http or https with a host; ``javascript:``, ``data:`` and the like become
    no link at all."""
    text = _text(value)
    scheme, separator, rest = text.partition("://")
    if not separator or scheme.lower() not in ("https", "http") or not rest or rest[0] in "/\\":
        return ""
    if _SPACE_OR_CONTROL.search(text):
        return ""
    return text


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


def _moment(value: Any) -> Moment | None:
    """An ISO 8601 date-time (kept with its offset: shown in the viewer's time zone) or date."""
    text = _text(value)
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    return _datetime(text)

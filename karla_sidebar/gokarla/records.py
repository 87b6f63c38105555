"""Typed records the GoKarla client returns. Nothing outside the client sees raw JSON.

Every record is frozen (the workflow API and the CLI turn them into JSON in
``karla_sidebar/serializers.py``). Enumerations from GoKarla stay open strings; the values
derived here (order and shipment status) are closed sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class OrderStatus(StrEnum):
    PLACED = "placed"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    FULFILLED = "fulfilled"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class ShipmentStatus(StrEnum):
    PRE_TRANSIT = "pre_transit"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    READY_FOR_PICKUP = "ready_for_pickup"
    DELAYED = "delayed"
    EXCEPTION = "exception"
    DELIVERY_FAILED = "delivery_failed"
    DELIVERED = "delivered"
    RETURN_IN_TRANSIT = "return_in_transit"
    RETURNED = "returned"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


# Shipment states an agent must see on the order itself, most serious first.
ATTENTION = (
    ShipmentStatus.DELIVERY_FAILED,
    ShipmentStatus.EXCEPTION,
    ShipmentStatus.DELAYED,
    ShipmentStatus.RETURN_IN_TRANSIT,
    ShipmentStatus.RETURNED,
)


@dataclass(frozen=True, slots=True)
class Shop:
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class Address:
    name: str = ""
    company: str = ""
    street: str = ""
    address_line_1: str = ""
    address_line_2: str = ""
    city: str = ""
    zip_code: str = ""
    province: str = ""
    country: str = ""
    country_code: str = ""
    phone: str = ""

    @property
    def lines(self) -> list[str]:
        """The address as a postal block, one line each, empty parts left out."""
        street = self.address_line_1 or self.street
        city_line = " ".join(part for part in (self.zip_code, self.city) if part)
        country = self.country or self.country_code
        # City states (Berlin, Hamburg, Wien) name the province after the city: once is enough.
        province = "" if self.province == self.city else self.province
        parts = [self.name, self.company, street, self.address_line_2, city_line, province, country]
        return [part for part in parts if part]


@dataclass(frozen=True, slots=True)
class LineItem:
    title: str
    quantity: int
    price: Decimal | None = None
    sku: str = ""
    size: str = ""
    image_url: str = ""
    shipment_id: str = ""


@dataclass(frozen=True, slots=True)
class Discount:
    """A discount code. ``amount`` is GoKarla's string read as a number: a percentage when
    ``type`` says so (``"10.0"`` is 10 %), else money in the order's currency."""

    code: str
    amount: Decimal | None
    type: str = ""

    @property
    def is_percentage(self) -> bool:
        return self.type.strip().lower() in ("percentage", "percent")


@dataclass(frozen=True, slots=True)
class EventInfo:
    """An event's ``additional_info``, as GoKarla documents it (every part optional)."""

    pickup_point: str = ""
    pickup_point_url: str = ""
    pickup_time: datetime | None = None
    pickup_opening_hours: tuple[tuple[str, str], ...] = ()  # (days, hours)
    mail_message: str = ""
    merchant_name: str = ""
    preferred_delivery_date: datetime | None = None
    date: datetime | None = None


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    """One tracking event. ``time`` is optional in GoKarla's model; ``label`` is GoKarla's own
    (localized) text; ``location`` is GoKarla's location object written as one line."""

    time: datetime | None
    event_key: str = ""
    phase: str = ""
    label: str = ""
    location: str = ""
    additional_info: EventInfo | None = None


# A moment GoKarla gave with its time of day, or a day without one.
Moment = datetime | date


@dataclass(frozen=True, slots=True)
class Eta:
    """Estimated delivery as GoKarla gives it: a day (``start``), a window (``start`` to
    ``end``), GoKarla's own words (``text``, in ``language``: its format is not documented), or
    words and a window."""

    start: Moment | None = None
    end: Moment | None = None
    text: str = ""
    language: str = ""

    @property
    def is_window(self) -> bool:
        return self.start is not None and self.end is not None and self.end != self.start


@dataclass(frozen=True, slots=True)
class Pickup:
    """Where a parcel waits for the customer: GoKarla's ``pickup``, or the pickup point an
    event's ``additional_info`` names. ``type`` is GoKarla's (shop, neighbor, locker,
    letterbox; open)."""

    name: str = ""
    type: str = ""
    address: Address | None = None
    url: str = ""
    opening_hours: str = ""
    until: datetime | None = None
    pickup_time: datetime | None = None

    @property
    def address_line(self) -> str:
        """The address on one line, without the name (the name is shown beside it)."""
        if self.address is None:
            return ""
        return ", ".join(line for line in self.address.lines if line != self.address.name)


@dataclass(frozen=True, slots=True)
class Shipment:
    """A tracking (a shipment with a tracking number) of an order. GoKarla has no top-level
    phase: ``phase`` comes from the newest timed event, ``status`` from it, ``state`` and
    ``flag``."""

    id: str
    tracking_number: str
    carrier_reference: str
    carrier_name: str
    tracking_url: str
    status: ShipmentStatus
    phase: str = ""
    state: str = ""
    flag: str = ""
    order_number: str = ""
    order_uuid: str = ""
    eta: Eta | None = None
    events: tuple[TrackingEvent, ...] = ()
    updated_at: datetime | None = None
    line_items: tuple[LineItem, ...] = ()
    pickup: Pickup | None = None

    @property
    def last_event(self) -> TrackingEvent | None:
        """The newest event (events are kept newest first; see ``parsing``)."""
        return self.events[0] if self.events else None

    @property
    def is_delayed(self) -> bool:
        return self.flag == "delay"

    @property
    def has_exception(self) -> bool:
        return self.flag == "error"


@dataclass(frozen=True, slots=True)
class Order:
    uuid: str
    order_number: str
    order_name: str
    status: OrderStatus
    external_id: str = ""
    placed_at: datetime | None = None
    currency: str = ""
    total: Decimal | None = None
    subtotal: Decimal | None = None
    shipping: Decimal | None = None
    discount_total: Decimal | None = None
    email: str = ""
    address: Address | None = None
    line_items: tuple[LineItem, ...] = ()
    discounts: tuple[Discount, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    expected_shipments: int = 0

    @property
    def customer_name(self) -> str:
        return self.address.name if self.address else ""

    @property
    def fulfilled_shipments(self) -> int:
        return sum(1 for shipment in self.shipments if shipment.tracking_number)

    @property
    def shipments_total(self) -> int:
        """Shipments the order has or expects (never fewer than those with tracking)."""
        return max(self.expected_shipments, self.fulfilled_shipments)

    @property
    def fulfillment_label(self) -> str:
        if self.status is OrderStatus.CANCELLED and not self.fulfilled_shipments:
            return "Not fulfilled (cancelled)"
        expected = self.shipments_total
        if not self.fulfilled_shipments:
            return "Unfulfilled: no shipment has a tracking number yet"
        if self.fulfilled_shipments < expected:
            return f"Partially fulfilled: {self.fulfilled_shipments} of {expected} shipments"
        noun = "shipment" if expected == 1 else "shipments"
        return f"Fulfilled: {expected} {noun} with tracking"

    @property
    def payment_label(self) -> str:
        # GoKarla has no payment field: its orders are placed once accepted and paid.
        return "Paid (GoKarla receives orders once they are accepted and paid)"

    @property
    def attention(self) -> ShipmentStatus | None:
        """The most serious shipment problem, which the order's own status would hide."""
        for status in ATTENTION:
            if any(shipment.status is status for shipment in self.shipments):
                return status
        return None

    def shipment(self, reference: str) -> Shipment | None:
        """The shipment of this order with that id or tracking number (compared as
        ``tracking_key`` does), if any."""
        key = tracking_key(reference)
        for shipment in self.shipments:
            if key in (tracking_key(shipment.id), tracking_key(shipment.tracking_number)):
                return shipment
        return None

    @property
    def draft_shipment_ids(self) -> tuple[str, ...]:
        """Shipments its line items name that have no tracking yet (GoKarla's drafts are not
        in ``trackings[]``), each once."""
        tracked = {shipment.id for shipment in self.shipments}
        ids = (item.shipment_id for item in self.line_items if item.shipment_id)
        return tuple(i for i in dict.fromkeys(ids) if i not in tracked)


@dataclass(frozen=True, slots=True)
class Webhook:
    """A webhook registered at GoKarla (its WebhookDTO, less the secret, which GoKarla shows
    only in the answer to its creation)."""

    uuid: str
    url: str = ""
    enabled_events: tuple[str, ...] = ()
    status: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """What a webhook delivery tells: the event (``shipments/<phase>/<EVENT_KEY>``), the orders
    in its ``context`` (trackings included), and the trackings it names without their order
    (each knows its order's uuid and number). ``skipped`` counts the objects in ``context``
    that could not be read."""

    event: str = ""
    orders: tuple[Order, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    skipped: int = 0


def tracking_key(reference: str) -> str:
    """A tracking number or shipment id as agents type it, made comparable: carriers print
    numbers in groups (``1Z999 AA1 0123456784``, ``JJD-0001``) and case carries no meaning."""
    return "".join(char for char in reference if char.isalnum()).upper()


__all__ = [
    "Address",
    "Discount",
    "Eta",
    "EventInfo",
    "LineItem",
    "Order",
    "OrderStatus",
    "Pickup",
    "Shipment",
    "ShipmentStatus",
    "Shop",
    "TrackingEvent",
    "Webhook",
    "WebhookEvent",
    "tracking_key",
]

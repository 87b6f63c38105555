"""Replies to the customer: a template per kind of situation and language, filled in from the
card's order or shipment, shown to the agent to edit before Insert into reply or Copy.

Templates are plain text with placeholders in braces (``{order_number}``); ``{{`` and ``}}``
write a brace. Workspaces may word each kind in each language themselves (Sidebar tab,
``accounts.models.ReplyTemplate``); without that, the built-in default below applies, in the
sidebar's language (the German defaults live in the message catalog).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.utils.translation import gettext, gettext_lazy, gettext_noop, ngettext

from karla_sidebar.formatting import day_label, eta_short, status_label
from karla_sidebar.gokarla import (
    Address,
    Eta,
    LineItem,
    Order,
    OrderStatus,
    Pickup,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
)

MAX_LENGTH = 4000

KINDS = {
    "order": gettext_lazy("Order shipped or delivered"),
    "shipment": gettext_lazy("Shipment on its way or delivered"),
    "pickup": gettext_lazy("Ready for pickup"),
    "delayed": gettext_lazy("Delayed"),
    "failed": gettext_lazy("Delivery failed"),
    "not_shipped": gettext_lazy("Not shipped yet"),
    "cancelled": gettext_lazy("Cancelled"),
}

PLACEHOLDERS = {
    "customer_name": gettext_lazy("the customer's name, e.g. Jane Doe"),
    "order_number": gettext_lazy("the order number, e.g. 1001"),
    "order_status": gettext_lazy("a sentence on the whole order: shipped, delivered, in part…"),
    "status": gettext_lazy("the parcel's status (the order's, before shipping)"),
    "carrier": gettext_lazy("the carrier, e.g. DHL"),
    "tracking_number": gettext_lazy("the parcel's tracking number"),
    "tracking_link": gettext_lazy("the carrier's tracking page (else the tracking number)"),
    "eta": gettext_lazy("the expected delivery, e.g. Fri 4 Dec"),
    "last_event": gettext_lazy("the carrier's latest event"),
    "pickup_place": gettext_lazy("where the parcel waits: name and address"),
    "pickup_hours": gettext_lazy("the pickup point's opening hours"),
    "pickup_until": gettext_lazy("until when the parcel waits"),
    "parcels": gettext_lazy("one line per parcel: carrier, number, status, expected delivery"),
    "agent_name": gettext_lazy("your name, as ArminCX gives it"),
}

DEFAULTS = {
    "order": gettext_noop(
        "Hello {customer_name},\n\n"
        "thank you for your message. {order_status}\n\n"
        "{parcels}\n\n"
        "Kind regards\n{agent_name}"
    ),
    "shipment": gettext_noop(
        "Hello {customer_name},\n\n"
        "thank you for your message. Here is the latest on your parcel:\n\n"
        "{parcels}\n\n"
        "Kind regards\n{agent_name}"
    ),
    "pickup": gettext_noop(
        "Hello {customer_name},\n\n"
        "your parcel with {carrier} (tracking number {tracking_number}) is ready for pickup "
        "at:\n\n{pickup_place}\n\n"
        "Opening hours: {pickup_hours}\n"
        "Please collect it by {pickup_until}.\n\n"
        "Kind regards\n{agent_name}"
    ),
    "delayed": gettext_noop(
        "Hello {customer_name},\n\n"
        "thank you for your patience. Your parcel with {carrier} (tracking number "
        "{tracking_number}) is running late. The expected delivery is now {eta}. We are sorry "
        "for the wait.\n\n"
        "Tracking: {tracking_link}\n\n"
        "Kind regards\n{agent_name}"
    ),
    "failed": gettext_noop(
        "Hello {customer_name},\n\n"
        "we are sorry: {carrier} could not deliver your parcel (tracking number "
        "{tracking_number}). We are looking into it and will get back to you as soon as "
        "possible.\n\n"
        "Tracking: {tracking_link}\n\n"
        "Kind regards\n{agent_name}"
    ),
    "not_shipped": gettext_noop(
        "Hello {customer_name},\n\n"
        "thank you for your message. We have received your order {order_number} and are "
        "preparing it for shipping. As soon as it is on its way, you will receive an e-mail "
        "with the tracking link.\n\n"
        "Kind regards\n{agent_name}"
    ),
    "cancelled": gettext_noop(
        "Hello {customer_name},\n\n"
        "your order {order_number} has been cancelled. If you have any questions about it, "
        "just reply to this message.\n\n"
        "Kind regards\n{agent_name}"
    ),
}

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
# "Hello ," when a value is empty: the space goes, the comma stays.
_SPACE_BEFORE_PUNCTUATION = re.compile(r"[ \t]+([,.])")


def default_template(kind: str) -> str:
    """The built-in template of that kind, in the active language."""
    return gettext(DEFAULTS[kind])


def template_errors(text: str) -> list[str]:
    """What is wrong with a template, in words an admin can act on ([] when it is fine)."""
    errors = []
    if len(text) > MAX_LENGTH:
        errors.append(
            gettext("A reply template has at most %(max)s characters.") % {"max": MAX_LENGTH}
        )
    for match in _TOKEN.finditer(text):
        token, name = match.group(0), match.group(1)
        if token in ("{{", "}}"):
            continue
        if name is None:
            errors.append(
                gettext(
                    "A lone “%(brace)s”: close the placeholder, or write %(double)s for a brace "
                    "in the text."
                )
                % {"brace": token, "double": token * 2}
            )
        elif name.strip() not in PLACEHOLDERS or name != name.strip():
            errors.append(
                gettext("Unknown placeholder {%(name)s}. Use one of those listed.") % {"name": name}
            )
    return list(dict.fromkeys(errors))


def reply_render(text: str, values: dict[str, str]) -> str:
    """The template with its placeholders filled in (an unknown one stays as it is)."""

    def fill(match: re.Match) -> str:
        token, name = match.group(0), match.group(1)
        if token in ("{{", "}}"):
            return token[0]
        if name is not None and name in values:
            return values[name]
        return token

    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", _TOKEN.sub(fill, text)).strip()


def reply_kind(record: Order | Shipment) -> str:
    """Which template fits: the parcel's situation first, then the card's kind."""
    if isinstance(record, Order) and record.status is OrderStatus.CANCELLED:
        return "cancelled"
    if isinstance(record, Order) and (
        record.status is OrderStatus.PLACED or not record.fulfilled_shipments
    ):
        return "not_shipped"
    parcel = _parcel(record)
    if parcel is not None:
        if parcel.status is ShipmentStatus.READY_FOR_PICKUP:
            return "pickup"
        if parcel.status is ShipmentStatus.DELAYED:
            return "delayed"
        if parcel.status in (ShipmentStatus.DELIVERY_FAILED, ShipmentStatus.EXCEPTION):
            return "failed"
    return "shipment" if isinstance(record, Shipment) else "order"


def _parcel(record: Order | Shipment) -> Shipment | None:
    """The parcel a reply is about: the shipment itself, an order's only parcel, or the one of
    several that needs the customer's attention."""
    if isinstance(record, Shipment):
        return record
    tracked = [shipment for shipment in record.shipments if shipment.tracking_number]
    if len(tracked) == 1:
        return tracked[0]
    if record.attention is not None:
        return next(s for s in tracked if s.status is record.attention)
    return None


def _parcel_line(shipment: Shipment) -> str:
    line = gettext("%(carrier)s, tracking number %(number)s: %(status)s") % {
        "carrier": shipment.carrier_name or gettext("the carrier"),
        "number": shipment.tracking_number,
        "status": status_label(shipment.status),
    }
    eta = eta_short(shipment.eta)
    if eta and shipment.status not in (ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED):
        line += gettext(", expected %(eta)s") % {"eta": eta}
    if not line.endswith("."):  # "4. Dez." ends its own sentence
        line += "."
    if shipment.tracking_url:
        line += " " + gettext("Track it here: %(link)s") % {"link": shipment.tracking_url}
    return f"• {line}"


def _order_sentence(order: Order) -> str:
    number = order.order_number or order.order_name
    shipped, total = order.fulfilled_shipments, order.shipments_total
    match order.status:
        case OrderStatus.DELIVERED:
            return gettext("Your order %(number)s has been delivered.") % {"number": number}
        case OrderStatus.CANCELLED:
            return gettext("Your order %(number)s has been cancelled.") % {"number": number}
        case OrderStatus.PLACED:
            return gettext(
                "We have received your order %(number)s and are preparing it for shipping."
            ) % {"number": number}
        case OrderStatus.PARTIALLY_FULFILLED:
            return gettext(
                "Part of your order %(number)s has shipped (%(shipped)s of %(total)s parcels); "
                "the rest follows as soon as it is ready."
            ) % {"number": number, "shipped": shipped, "total": total}
    return ngettext(
        "Your order %(number)s has shipped.",
        "Your order %(number)s has shipped in %(count)s parcels.",
        shipped,
    ) % {"number": number, "count": shipped}


def reply_values(record: Order | Shipment, *, agent_name: str = "") -> dict[str, str]:
    """Every placeholder's value for this order or shipment, in the active language."""
    parcel = _parcel(record)
    if isinstance(record, Order):
        parcels = [s for s in record.shipments if s.tracking_number]
        customer, number = record.customer_name, record.order_number or record.order_name
        status = parcel.status if parcel else record.status
    else:
        parcels, customer, number, status = [record], "", record.order_number, record.status
    pickup: Pickup | None = parcel.pickup if parcel else None
    event: TrackingEvent | None = parcel.last_event if parcel else None
    tracking_number = parcel.tracking_number if parcel else ""
    return {
        "customer_name": customer,
        "order_number": number,
        "order_status": _order_sentence(record) if isinstance(record, Order) else "",
        "status": status_label(status),
        "carrier": (parcel.carrier_name if parcel else "") or gettext("the carrier"),
        "tracking_number": tracking_number,
        "tracking_link": (parcel.tracking_url if parcel else "") or tracking_number or "—",
        "eta": eta_short(parcel.eta if parcel else None)
        or gettext("still to be confirmed by the carrier"),
        "last_event": " · ".join(part for part in (event.label, event.location) if part)
        if event
        else "",
        "pickup_place": ", ".join(p for p in (pickup.name, pickup.address_line) if p)
        if pickup
        else gettext("the pickup point"),
        "pickup_hours": (pickup.opening_hours if pickup else "")
        or gettext("as posted at the pickup point"),
        "pickup_until": day_label(pickup.until)
        if pickup and pickup.until
        else gettext("the date on the carrier's notice"),
        "parcels": "\n".join(_parcel_line(shipment) for shipment in parcels),
        "agent_name": agent_name,
    }


def reply_text(
    record: Order | Shipment, *, templates: dict[str, str] | None = None, agent_name: str = ""
) -> str:
    """The reply for this order or shipment: the workspace's template of its kind (from
    ``templates``), else the built-in one, filled in."""
    kind = reply_kind(record)
    text = (templates or {}).get(kind) or default_template(kind)
    return reply_render(text, reply_values(record, agent_name=agent_name))


def demo_cases(*, now: datetime | None = None) -> dict[str, Order | Shipment]:
    """One demo record per kind: Jane Doe's order #1001 in the state each template is for."""
    now = now or datetime.now(tz=UTC)
    address = Address(name="Jane Doe", street="Invalidenstraße 117", zip_code="10115",
                      city="Berlin", country="Germany")  # fmt: skip
    events = (TrackingEvent(time=now - timedelta(hours=3), label="Arrived at the parcel centre",
                            location="Leipzig"),)  # fmt: skip

    def parcel(status: ShipmentStatus, **extra) -> Shipment:
        return Shipment(id="demo-shipment", tracking_number="00340434161094042557",
                        carrier_reference="dhl", carrier_name="DHL",
                        tracking_url="https://www.dhl.de/de/privatkunden/pakete-empfangen/"
                        "verfolgen.html?piececode=00340434161094042557",
                        status=status, order_number="1001", events=events,
                        eta=Eta(start=(now + timedelta(days=2)).date()), **extra)  # fmt: skip

    def order(status: OrderStatus, *shipments: Shipment) -> Order:
        return Order(uuid="demo-order", order_number="1001", order_name="#1001", status=status,
                     placed_at=now - timedelta(days=3), currency="EUR",
                     total=Decimal("151.95"), email="jane@example.com", address=address,
                     line_items=(LineItem(title="Merino sweater", quantity=1,
                                          price=Decimal("89.95")),),
                     shipments=shipments, expected_shipments=len(shipments))  # fmt: skip

    pickup = Pickup(name="DHL Packstation 152", type="locker",
                    address=Address(street="Brühl 1", zip_code="04109", city="Leipzig"),
                    opening_hours="Mo–So 0–24 Uhr", until=now + timedelta(days=7))  # fmt: skip
    return {
        "order": order(OrderStatus.FULFILLED, parcel(ShipmentStatus.IN_TRANSIT)),
        "shipment": parcel(ShipmentStatus.IN_TRANSIT),
        "pickup": parcel(ShipmentStatus.READY_FOR_PICKUP, pickup=pickup),
        "delayed": parcel(ShipmentStatus.DELAYED, flag="delay"),
        "failed": parcel(ShipmentStatus.DELIVERY_FAILED),
        "not_shipped": order(OrderStatus.PLACED),
        "cancelled": order(OrderStatus.CANCELLED),
    }

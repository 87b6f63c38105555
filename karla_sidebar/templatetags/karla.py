"""Presentation helpers: badge colours, and dates, money, numbers and statuses in the active
language's locale (``karla_sidebar.formatting``, with Babel)."""

from decimal import Decimal

from django import template
from django.utils import timezone

from karla_sidebar import formatting
from karla_sidebar.formatting import discount_label, eta_label, money_label, pickup_kind_label
from karla_sidebar.gokarla import Discount, Eta, OrderStatus, ShipmentStatus
from karla_sidebar.lookup_records import summary_shown

register = template.Library()

# The colour carries the meaning; the badge's text says it too.
BADGE_COLOURS = {
    OrderStatus.DELIVERED: "green",
    OrderStatus.FULFILLED: "blue",
    OrderStatus.PARTIALLY_FULFILLED: "amber",
    OrderStatus.PLACED: "grey",
    OrderStatus.CANCELLED: "red",
    ShipmentStatus.DELIVERED: "green",
    ShipmentStatus.IN_TRANSIT: "blue",
    ShipmentStatus.OUT_FOR_DELIVERY: "blue",
    ShipmentStatus.READY_FOR_PICKUP: "blue",
    ShipmentStatus.PRE_TRANSIT: "grey",
    ShipmentStatus.DELAYED: "amber",
    ShipmentStatus.RETURN_IN_TRANSIT: "amber",
    ShipmentStatus.RETURNED: "grey",
    ShipmentStatus.EXCEPTION: "red",
    ShipmentStatus.DELIVERY_FAILED: "red",
    ShipmentStatus.UNKNOWN: "grey",
}


@register.filter
def lookup_summary(summary: str, action: str) -> str:
    """A history row's summary in the viewer's language:
    ``{{ record.summary|lookup_summary:record.action }}``."""
    return summary_shown(summary, action)


@register.filter
def badge(status) -> str:
    return f"badge badge-{BADGE_COLOURS.get(status, 'grey')}"


@register.simple_tag
def money(amount: Decimal | None, currency: str = "") -> str:
    return money_label(amount, currency)


@register.filter
def eta(value: Eta | None) -> str:
    return eta_label(value)


@register.simple_tag
def discount(value: Discount, currency: str = "") -> str:
    return discount_label(value, currency)


@register.filter
def pickup_kind(value: str) -> str:
    return pickup_kind_label(value)


@register.filter
def is_past(value) -> bool:
    return bool(value) and value < timezone.now()


@register.filter
def status(value) -> str:
    """``In transit`` / ``Unterwegs``."""
    return formatting.status_label(value)


@register.filter
def eta_short(value: Eta | None) -> str:
    return formatting.eta_short(value)


@register.filter
def day(value) -> str:
    """``Sun 29 Nov``."""
    return formatting.day_label(value) if value else ""


@register.filter(name="date_long")
def date_long(value) -> str:
    """``29 Nov 2026``."""
    return formatting.date_label(value) if value else ""


@register.filter
def when(value, options: str = "") -> str:
    """``Sun 29 Nov, 14:05``; ``when:"year"`` adds the year, ``when:"seconds"`` the seconds."""
    if not value:
        return ""
    return formatting.datetime_label(value, year="year" in options, seconds="seconds" in options)


@register.filter
def clock(value) -> str:
    """``14:05``."""
    return formatting.time_label(value) if value else ""


@register.filter
def ago(value) -> str:
    """``3 days ago`` / ``vor 3 Tagen``."""
    return formatting.relative_label(value) if value else ""


@register.filter
def number(value) -> str:
    """``12,345`` / ``12.345``."""
    return formatting.number_label(value)


@register.filter
def fulfillment(order) -> str:
    return formatting.fulfillment_label(order)


@register.filter
def payment(order) -> str:
    return formatting.payment_label(order)


@register.filter
def conversation_url(conversation: str, workspace) -> str:
    """The conversation's address in ArminCX (the workspace's pattern), or ""."""
    return workspace.conversation_url(conversation)


@register.filter
def percent(value) -> str:
    """A number of percent: ``87.5%`` / ``87,5 %``."""
    return formatting.percent_label(value) if value is not None else "—"

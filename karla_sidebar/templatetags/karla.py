"""Presentation helpers for the sidebar: badge colours, money, ETA wording."""

from datetime import date
from decimal import Decimal

from django import template
from django.utils import timezone

from karla_sidebar.gokarla import Eta, OrderStatus, ShipmentStatus

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
def badge(status) -> str:
    return f"badge badge-{BADGE_COLOURS.get(status, 'grey')}"


@register.simple_tag
def money(amount: Decimal | None, currency: str = "") -> str:
    if amount is None:
        return "—"
    return f"{amount:,.2f} {currency}".strip()


def _day(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b}"


@register.filter
def eta(value: Eta | None) -> str:
    if value is None:
        return "Not available yet"
    if value.is_window:
        return f"{_day(value.start)} – {_day(value.end)}"
    return _day(value.start)


@register.filter
def is_past(value) -> bool:
    return bool(value) and value < timezone.now()

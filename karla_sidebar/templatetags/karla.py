"""Presentation helpers for the sidebar: badge colours, money, ETA wording."""

from decimal import Decimal

from django import template
from django.utils import timezone

from karla_sidebar.formatting import discount_label, eta_label, money_label, pickup_kind_label
from karla_sidebar.gokarla import Discount, Eta, OrderStatus, ShipmentStatus

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

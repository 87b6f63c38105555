"""How dates, ETAs, money and numbers read, in the active language's locale (Babel) and the
viewer's time zone. Shared by the templates (``templatetags/karla.py``) and the replies
(``replies.py``); nothing here formats by hand.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import format_interval, format_skeleton, format_timedelta, get_datetime_format
from babel.numbers import UnknownCurrencyError, format_currency, format_decimal, format_percent
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext_lazy

from karla_sidebar.gokarla import Discount, Eta, Order, OrderStatus, ShipmentStatus
from karla_sidebar.languages import format_locale

Moment = date | datetime


def _local(value: Moment) -> Moment:
    return timezone.localtime(value) if isinstance(value, datetime) else value


def _day(value: Moment) -> date:
    value = _local(value)
    return value.date() if isinstance(value, datetime) else value


def day_label(value: Moment) -> str:
    """``Sun 29 Nov`` / ``So., 29. Nov.``: a date-time on its day in the viewer's zone."""
    return format_skeleton("MMMEd", _day(value), locale=format_locale())


def month_day_label(value: Moment) -> str:
    """``3 Nov`` / ``3. Nov.``."""
    return format_skeleton("MMMd", _day(value), locale=format_locale())


def date_label(value: Moment) -> str:
    """``29 Nov 2026`` / ``29. Nov. 2026``."""
    return format_skeleton("yMMMd", _day(value), locale=format_locale())


def time_label(value: datetime) -> str:
    """``14:05``, in the viewer's zone."""
    return format_skeleton("Hm", _local(value), locale=format_locale())


def datetime_label(value: datetime, *, year: bool = False, seconds: bool = False) -> str:
    """``Sun 29 Nov, 14:05`` / ``So., 29. Nov., 14:05`` (with the year: ``Sun, 29 Nov 2026,
    14:05``), joined as the locale joins a date and a time."""
    locale = format_locale()
    local = _local(value)
    day = format_skeleton("yMMMEd" if year else "MMMEd", local, locale=locale)
    clock = format_skeleton("Hms" if seconds else "Hm", local, locale=locale)
    return get_datetime_format("medium", locale=locale).replace("{1}", day).replace("{0}", clock)


def relative_label(value: datetime) -> str:
    """``3 days ago`` / ``vor 3 Tagen``, ``in 2 hours`` / ``in 2 Stunden``."""
    return format_timedelta(value - timezone.now(), add_direction=True, locale=format_locale())


def eta_dates(value: Eta) -> str:
    """The ETA's day or window ("" when GoKarla gave only words): ``Thu 3 Dec``,
    ``Thu 3 Dec – Sat 5 Dec``, ``Thu 3 Dec, 10:00–14:00``."""
    if value.start is None:
        return ""
    if not value.is_window:
        return day_label(value.start)
    locale = format_locale()
    start, end = _local(value.start), _local(value.end)
    if isinstance(start, datetime) and isinstance(end, datetime) and start.date() == end.date():
        hours = format_interval(start, end, "Hm", locale=locale)
        return f"{day_label(start)}, {hours}"
    return format_interval(_day(start), _day(end), "MMMEd", locale=locale)


def eta_label(value: Eta | None) -> str:
    """GoKarla's ETA as agents read it: its own words as they are (their format is not
    documented), the date, or both."""
    if value is None:
        return gettext("Not available yet")
    dates = eta_dates(value)
    if value.text:
        return f"{value.text} ({dates})" if dates else value.text
    return dates


def eta_short(value: Eta | None) -> str:
    """The ETA for a headline: the day or window, else GoKarla's words, else ""."""
    if value is None:
        return ""
    return eta_dates(value) or value.text


def money_label(amount: Decimal | None, currency: str = "") -> str:
    """``151,95 €`` / ``€151.95``; an amount without a (known) currency as a number."""
    if amount is None:
        return "—"
    return _money(amount, currency, format_locale())


@lru_cache(maxsize=2048)
def _money(amount: Decimal, currency: str, locale: Locale) -> str:
    """Remembered: a card shows the same few amounts again and again, and Babel takes about
    50 µs for each."""
    if currency:
        try:
            return format_currency(amount, currency.upper(), locale=locale)
        except (UnknownCurrencyError, ValueError):
            return f"{format_decimal(amount, format='#,##0.00', locale=locale)} {currency}"
    return format_decimal(amount, format="#,##0.00", locale=locale)


def number_label(value: int | float | Decimal | None) -> str:
    """``12,345`` / ``12.345``."""
    if value is None:
        return "—"
    return format_decimal(value, locale=format_locale())


def percent_label(value: Decimal | float) -> str:
    """A percentage given as a number of percent (``10`` → ``10 %`` / ``10%``)."""
    share = round(Decimal(str(value)), 1) / 100
    return format_percent(share, locale=format_locale(), decimal_quantization=False)


def discount_label(value: Discount, currency: str = "") -> str:
    """A discount's size: ``10 %`` for a percentage, else money."""
    if value.amount is None:
        return ""
    if value.is_percentage:
        return percent_label(value.amount)
    return money_label(value.amount, currency)


PICKUP_KINDS = {
    "locker": gettext_lazy("Parcel locker"),
    "shop": gettext_lazy("Pickup shop"),
    "neighbor": gettext_lazy("Neighbour"),
    "letterbox": gettext_lazy("Letterbox"),
}


def pickup_kind_label(value: str) -> str:
    return str(PICKUP_KINDS.get(value, value.replace("_", " ").capitalize()))


STATUS_LABELS = {
    OrderStatus.PLACED: pgettext_lazy("order status", "Placed"),
    OrderStatus.PARTIALLY_FULFILLED: pgettext_lazy("order status", "Partially fulfilled"),
    OrderStatus.FULFILLED: pgettext_lazy("order status", "Fulfilled"),
    OrderStatus.DELIVERED: pgettext_lazy("order status", "Delivered"),
    OrderStatus.CANCELLED: pgettext_lazy("order status", "Cancelled"),
    ShipmentStatus.PRE_TRANSIT: pgettext_lazy("shipment status", "Pre transit"),
    ShipmentStatus.IN_TRANSIT: pgettext_lazy("shipment status", "In transit"),
    ShipmentStatus.OUT_FOR_DELIVERY: pgettext_lazy("shipment status", "Out for delivery"),
    ShipmentStatus.READY_FOR_PICKUP: pgettext_lazy("shipment status", "Ready for pickup"),
    ShipmentStatus.DELAYED: pgettext_lazy("shipment status", "Delayed"),
    ShipmentStatus.EXCEPTION: pgettext_lazy("shipment status", "Exception"),
    ShipmentStatus.DELIVERY_FAILED: pgettext_lazy("shipment status", "Delivery failed"),
    ShipmentStatus.DELIVERED: pgettext_lazy("shipment status", "Delivered"),
    ShipmentStatus.RETURN_IN_TRANSIT: pgettext_lazy("shipment status", "Return in transit"),
    ShipmentStatus.RETURNED: pgettext_lazy("shipment status", "Returned"),
    ShipmentStatus.UNKNOWN: pgettext_lazy("shipment status", "Unknown"),
}


def status_label(status: OrderStatus | ShipmentStatus | None) -> str:
    """An order's or a shipment's status as agents read it, in the active language (the
    workflow API keeps GoKarla-side English ``status.label``)."""
    if status is None:
        return ""
    return str(STATUS_LABELS.get(status, status.label))


def fulfillment_label(order: Order) -> str:
    """How much of the order has shipped, in words."""
    shipped, expected = order.fulfilled_shipments, order.shipments_total
    if order.status is OrderStatus.CANCELLED and not shipped:
        return gettext("Not fulfilled (cancelled)")
    if not shipped:
        return gettext("Unfulfilled: no shipment has a tracking number yet")
    if shipped < expected:
        return gettext("Partially fulfilled: %(shipped)s of %(expected)s shipments") % {
            "shipped": number_label(shipped),
            "expected": number_label(expected),
        }
    return ngettext(
        "Fulfilled: %(count)s shipment with tracking",
        "Fulfilled: %(count)s shipments with tracking",
        expected,
    ) % {"count": number_label(expected)}


def payment_label(order: Order) -> str:
    """What an agent can tell about payment. GoKarla has no payment field: it receives orders
    once they are accepted and paid, so the total was paid when the order was placed."""
    total = money_label(order.total, order.currency)
    if order.placed_at:
        return gettext("Paid %(total)s on %(day)s") % {
            "total": total,
            "day": date_label(order.placed_at),
        }
    return gettext("Paid %(total)s") % {"total": total}

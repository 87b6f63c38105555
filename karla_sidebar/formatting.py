"""How dates, ETAs, money and discounts read for agents, in the viewer's time zone. Shared by
the sidebar's templates (``templatetags/karla.py``) and the reply sentences (``replies.py``)."""

from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

from karla_sidebar.gokarla import Discount, Eta


def day_label(value: date | datetime) -> str:
    """``Thu 3 Dec``; a date-time on its day in the viewer's time zone."""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return f"{value:%a} {value.day} {value:%b}"


def _clock(value: date | datetime) -> str:
    return f"{timezone.localtime(value):%H:%M}" if isinstance(value, datetime) else ""


def eta_dates(value: Eta) -> str:
    """The ETA's day or window ("" when GoKarla gave only words): ``Thu 3 Dec``,
    ``Thu 3 Dec – Sat 5 Dec``, ``Thu 3 Dec, 10:00–14:00``."""
    if value.start is None:
        return ""
    if not value.is_window:
        return day_label(value.start)
    start, end = day_label(value.start), day_label(value.end)
    if start == end and _clock(value.start) and _clock(value.end):
        return f"{start}, {_clock(value.start)}–{_clock(value.end)}"
    return f"{start} – {end}"


def eta_label(value: Eta | None) -> str:
    """GoKarla's ETA as agents read it: its own words as they are (their format is not
    documented), the date, or both."""
    if value is None:
        return "Not available yet"
    dates = eta_dates(value)
    if value.text:
        return f"{value.text} ({dates})" if dates else value.text
    return dates


def money_label(amount: Decimal | None, currency: str = "") -> str:
    if amount is None:
        return "—"
    return f"{amount:,.2f} {currency}".strip()


def discount_label(value: Discount, currency: str = "") -> str:
    """A discount's size: ``10 %`` for a percentage, else money."""
    if value.amount is None:
        return ""
    if value.is_percentage:
        return f"{value.amount.normalize():f} %"
    return money_label(value.amount, currency)


PICKUP_KINDS = {
    "locker": "Parcel locker",
    "shop": "Pickup shop",
    "neighbor": "Neighbour",
    "letterbox": "Letterbox",
}


def pickup_kind_label(value: str) -> str:
    return PICKUP_KINDS.get(value, value.replace("_", " ").capitalize())

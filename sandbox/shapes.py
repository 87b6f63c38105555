"""Builders for GoKarla's JSON shapes (gokarla-api.md, GoKarla's SDK models): addresses,
event locations, events, trackings and orders, as plain dicts with exactly the documented
keys, so that ``sandbox.data`` can state the demo orders briefly.

Identifiers come from ``stable_uuid``: UUID v4 values derived from a fixed seed, the same on
every start. Times are ISO 8601 with an offset, to the second. Events are built in English;
``sandbox.events.localized`` turns them into another language.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sandbox.events import event_strings, flag_for, phase_of, state_for
from sandbox.products import line_item, shipment_products

JsonDict = dict[str, Any]

# Deterministic ids: changing this seed changes every uuid the docs and tests rely on.
_SEED = "karla-sandbox-v1"
BERLIN = "Europe/Berlin"


def stable_uuid(*parts: str) -> str:
    """A UUID v4 derived from ``parts``: random-looking, but the same on every start."""
    digest = hashlib.sha256(":".join((_SEED, *parts)).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def shipment_uuid(shop: str, key: str) -> str:
    return stable_uuid(shop, "shipment", key)


def merchant_uuid(shop: str) -> str:
    """The shop's uuid (``GET /shops/{slug}``), which trackings carry as ``merchant_id``."""
    return stable_uuid(shop, "shop")


def iso(moment: datetime) -> str:
    """ISO 8601 with an explicit offset, to the second, as GoKarla writes times."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def to_json(value: Any) -> bytes:
    """Compact UTF-8 JSON (non-ASCII kept: the addresses are German, Austrian, Italian)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def hours(count: float) -> timedelta:
    return timedelta(hours=count)


def days(count: float) -> timedelta:
    return timedelta(days=count)


# --- dates in words ---------------------------------------------------------------------------

_WEEKDAYS = {
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
           "Oktober", "November", "Dezember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}  # fmt: skip


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month, 31)  # March and October both have 31 days
    return last - timedelta(days=(last.weekday() + 1) % 7)


def berlin_time(moment: datetime) -> datetime:
    """``moment`` in German local time (CET, CEST from the last Sunday of March to the last
    Sunday of October, 01:00 UTC), without a time zone database."""
    utc = moment.astimezone(UTC)
    start = datetime.combine(_last_sunday(utc.year, 3), datetime.min.time(), UTC) + hours(1)
    end = datetime.combine(_last_sunday(utc.year, 10), datetime.min.time(), UTC) + hours(1)
    return utc + hours(2 if start <= utc < end else 1)


def day_in_words(moment: datetime, language: str) -> str:
    """``Donnerstag, 3. Dezember`` or ``Thursday, 3 December`` (German local date)."""
    local = berlin_time(moment)
    weekday = _WEEKDAYS[language][local.weekday()]
    month = _MONTHS[language][local.month - 1]
    day = f"{local.day}." if language == "de" else str(local.day)
    return f"{weekday}, {day} {month}"


def eta_in_words(moment: datetime, language: str) -> JsonDict:
    """An ``estimated_arrival`` whose ``time_prediction`` is free text in ``language``."""
    if language == "de":
        text = f"{day_in_words(moment, 'de')}, zwischen 10:00 und 14:00 Uhr"
    else:
        text = f"{day_in_words(moment, 'en')}, between 10:00 and 14:00"
    return {"time_prediction": text, "language": language}


def eta_iso(moment: datetime) -> JsonDict:
    """An ``estimated_arrival`` whose ``time_prediction`` is an ISO 8601 date-time."""
    return {"time_prediction": iso(moment), "language": "en"}


def delivery_window(start: datetime, end: datetime) -> JsonDict:
    """``expected_delivery``: the window some GoKarla documents describe."""
    return {"from": iso(start), "to": iso(end)}


# --- addresses, places, events ----------------------------------------------------------------


def address(
    name: str | None,
    street: str,
    city: str,
    zip_code: str,
    country: str,
    country_code: str,
    *,
    province: str | None = None,
    province_code: str | None = None,
    phone: str | None = None,
    company: str | None = None,
) -> JsonDict:
    """An AddressDTO, every documented key present (null where unknown)."""
    return {
        "name": name,
        "company": company,
        "street": street,
        "address_line_1": street,
        "address_line_2": None,
        "city": city,
        "zip_code": zip_code,
        "province": province,
        "province_code": province_code,
        "country": country,
        "country_code": country_code,
        "phone": phone,
    }


def place(
    city: str,
    zip_code: str | None = None,
    country_code: str | None = None,
    name: str | None = None,
) -> JsonDict:
    """An event ``location``: GoKarla documents only that it is an object; the sandbox uses
    ``name`` (a facility), ``city``, ``zip_code`` and ``country_code``, whichever it knows."""
    body = {"name": name, "city": city, "zip_code": zip_code, "country_code": country_code}
    return {key: value for key, value in body.items() if value is not None}


WAREHOUSE = place("Leipzig", "04159", "DE", name="Karla Demo warehouse")


def event(
    key: str,
    when: datetime | None,
    where: JsonDict | None = None,
    info: JsonDict | None = None,
    timezone: str = BERLIN,
) -> JsonDict:
    """A TrackingEventDTO in English; ``when=None`` leaves out ``time`` (it is optional)."""
    body: JsonDict = {"event_key": key, "phase": phase_of(key)}
    if when is not None:
        body["time"] = iso(when)
    body.update(
        timezone=timezone,
        location=where if where is not None else {},
        additional_info=info,
        event_strings=event_strings(key, "en"),
        language="en",
    )
    return body


def pre_transit(placed: datetime, processed_after_hours: float = 3) -> list[JsonDict]:
    """The events every shipment starts with, before a carrier has it."""
    return [
        event("ORDER_CREATED", placed),
        event("ORDER_IN_PROCESSING", placed + hours(processed_after_hours), WAREHOUSE),
    ]


def last_time(events: list[JsonDict]) -> str | None:
    """The newest timed event's time: a tracking's ``updated_at``."""
    return next((item["time"] for item in reversed(events) if "time" in item), None)


# --- trackings and orders ---------------------------------------------------------------------


def tracking(
    order: JsonDict,
    key: str,
    carrier: JsonDict,
    events: list[JsonDict],
    *,
    eta: JsonDict | None = None,
    pickup: JsonDict | None = None,
    expected_delivery: JsonDict | None = None,
    state: str | None = None,
) -> JsonDict:
    """A TrackingDTO of ``order``'s shipment ``key``; state and flag follow the events
    (``state`` overrides, for ``archived``)."""
    body = tracking_of(order, shipment_uuid(order["merchant_slug"], key), carrier, events)
    body.update(estimated_arrival=eta, pickup=pickup)
    if state is not None:
        body["state"] = state
    if expected_delivery is not None:
        body["expected_delivery"] = expected_delivery
    return body


def tracking_of(
    order: JsonDict, shipment_id: str, carrier: JsonDict | None, events: list[JsonDict]
) -> JsonDict:
    """A TrackingDTO without ETA or pickup; without ``carrier`` when there is none (a draft
    shipment, as a webhook shows it)."""
    body: JsonDict = {
        "id": shipment_id,
        "merchant_id": merchant_uuid(order["merchant_slug"]),
        "merchant_slug": order["merchant_slug"],
        "order_id": order["uuid"],
        "order_number": order["order_number"],
        "events": events,  # oldest first, as GoKarla sends them
        "estimated_arrival": None,
        "carrier": carrier,
        "state": state_for(events),
        "flag": flag_for(events),
        "pickup": None,
        "updated_at": last_time(events),
        "products": shipment_products(order, shipment_id),
    }
    if carrier is None:
        del body["carrier"]
    return body


def order(
    shop: str,
    number: int,
    placed: datetime,
    customer: JsonDict,
    email: str,
    items: list[tuple[str, int, str | None]],
    *,
    shipping_price: float = 4.95,
    discounts: list[JsonDict] | None = None,
    discount_price: float | None = None,
    segments: list[str] | None = None,
    currency: str = "EUR",
) -> JsonDict:
    """An OrderDetailDTO without trackings; ``items`` are (sku, quantity, shipment key or
    None). ``discount_price`` defaults to the sum of fixed-amount discounts."""
    products = [
        line_item(sku, qty, shipment_uuid(shop, key) if key else None, currency)
        for sku, qty, key in items
    ]
    subtotal = round(sum(item["price"] * item["quantity"] for item in products), 2)
    if discount_price is None:
        discount_price = sum(
            float(entry["amount"]) for entry in discounts or [] if entry["type"] != "percentage"
        )
    discount = round(discount_price, 2)
    return {
        "uuid": stable_uuid(shop, "order", str(number)),
        "order_number": str(number),
        "order_name": f"#{number}",
        "external_id": str(5712345600000 + number),  # Shopify-like numeric id
        "merchant_slug": shop,
        "order_placed_at": iso(placed),
        "total_order_price": round(subtotal + shipping_price - discount, 2),
        "sub_total_price": subtotal,
        "shipping_price": shipping_price,
        "discount_price": discount,
        "currency": currency,
        "email_id": email,
        "address": customer,
        "products": products,
        "discounts": discounts or [],
        "segments": segments or [],
        "weight": sum(item["weight"] * item["quantity"] for item in products),
        "trackings": [],
    }

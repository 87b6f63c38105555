"""Builders for GoKarla's JSON shapes: events, carriers, line items, addresses, trackings and
orders, as plain dicts exactly as GoKarla's API sends them, so that ``sandbox.data`` can state
the demo orders briefly. Identifiers come from ``stable_uuid``:
UUID v4 values derived from a fixed seed, the same on every start.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

JsonDict = dict[str, Any]

# Deterministic ids: changing this seed changes every uuid the docs and tests rely on.
_SEED = "karla-sandbox-v1"
_IMAGE_ROOT = "https://images.karla-demo.example/products"
_LANGUAGE = "en"
_TIMEZONE = "Europe/Berlin"


def stable_uuid(*parts: str) -> str:
    """A UUID v4 derived from ``parts``: random-looking, but the same on every start."""
    digest = hashlib.sha256(":".join((_SEED, *parts)).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def iso(moment: datetime) -> str:
    """ISO 8601 with an explicit offset, to the second, as GoKarla writes times."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


# --- events -----------------------------------------------------------------------------------

# event_key -> (phase, event_status, list_label, header_headline): GoKarla's localized labels.
_EVENTS: dict[str, tuple[str, str, str, str]] = {
    "ORDER_CREATED": (
        "order_created",
        "Order placed",
        "Order received",
        "We have received your order",
    ),
    "ORDER_IN_PROCESSING": (
        "order_processed",
        "Order processed",
        "Order in processing",
        "Your order is being packed",
    ),
    "PARCEL_HANDED_TO_CARRIER": (
        "in_transit",
        "In transit",
        "Handed to carrier",
        "Your parcel is on its way",
    ),
    "DEPARTURE_FROM_TRANSPORT_HUB": (
        "in_transit",
        "In transit",
        "Left the parcel centre",
        "Your parcel is on its way",
    ),
    "ARRIVAL_AT_TRANSPORT_HUB": (
        "in_transit",
        "In transit",
        "Arrived at the parcel centre",
        "Your parcel is on its way",
    ),
    "SHIPMENT_DELAYED": (
        "in_transit",
        "Delayed",
        "Shipment delayed",
        "Your parcel is running late",
    ),
    "OUT_FOR_DELIVERY": (
        "in_delivery",
        "Out for delivery",
        "Out for delivery",
        "Your parcel arrives today",
    ),
    "READY_FOR_COLLECTION": (
        "collect",
        "Ready for pickup",
        "Ready for pickup",
        "Your parcel is waiting for you",
    ),
    "DELIVERY_ATTEMPTED": (
        "delivery_failed",
        "Delivery failed",
        "Delivery attempted",
        "We could not deliver your parcel",
    ),
    "SUCCESSFULLY_DELIVERED": (
        "delivered",
        "Delivered",
        "Delivered",
        "Your parcel has been delivered",
    ),
}


def event(key: str, when: datetime, location: str = "", info: str = "") -> JsonDict:
    """One tracking event in GoKarla's shape."""
    phase, status, list_label, headline = _EVENTS[key]
    return {
        "event_key": key,
        "phase": phase,
        "time": iso(when),
        "timezone": _TIMEZONE,
        "location": location or None,
        "additional_info": info or None,
        "event_strings": {
            "event_status": status,
            "list_label": list_label,
            "header_headline": headline,
        },
        "language": _LANGUAGE,
    }


# --- carriers and products --------------------------------------------------------------------

_TRACKING_URLS = {
    "dhl": "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={}",
    "ups": "https://www.ups.com/track?loc=en_US&tracknum={}",
    "dpd": "https://tracking.dpd.de/status/en_US/parcel/{}",
    "gls": "https://gls-group.com/DE/en/parcel-tracking?match={}",
    "dhlexp": "https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id={}",
    "postnl_inter": "https://jouw.postnl.nl/track-and-trace/{}-NL",
}


def carrier(reference: str, tracking_number: str) -> JsonDict:
    return {
        "tracking_number": tracking_number,
        "carrier_reference": reference,
        "tracking_url": _TRACKING_URLS[reference].format(tracking_number),
    }


# sku -> (title, unit price, size, weight in kg, image file)
_CATALOGUE: dict[str, tuple[str, float, str | None, float, str]] = {
    "KS-MER-CRW-M": ("Merino Crew Sweater", 89.0, "M", 0.42, "merino-crew-sweater.jpg"),
    "KS-ORG-TEE-L": ("Organic Cotton T-Shirt", 29.0, "L", 0.18, "organic-cotton-tee.jpg"),
    "KS-CNV-WKD-01": ("Canvas Weekender Bag", 149.0, None, 1.2, "canvas-weekender.jpg"),
    "KS-TRL-RUN-42": ("Trail Running Shoes", 129.0, "42", 0.9, "trail-running-shoes.jpg"),
    "KS-WOL-BEA-01": ("Wool Beanie", 24.0, None, 0.08, "wool-beanie.jpg"),
    "KS-LIN-SHT-S": ("Linen Shirt", 69.0, "S", 0.25, "linen-shirt.jpg"),
    "KS-RAI-JKT-M": ("Packable Rain Jacket", 119.0, "M", 0.35, "rain-jacket.jpg"),
    "KS-SOC-3PK-39": ("Hiking Socks (3-pack)", 19.0, "39-42", 0.15, "hiking-socks.jpg"),
    "KS-BOT-STL-75": ("Steel Water Bottle 750 ml", 27.0, None, 0.33, "steel-bottle.jpg"),
    "KS-OUT-HDY-L": ("Outlet Hoodie (last season)", 39.0, "L", 0.6, "outlet-hoodie.jpg"),
}

_VAT_RATE = 0.19


def product(sku: str, quantity: int, shipment_id: str | None) -> JsonDict:
    """A line item; ``shipment_id`` ties it to a (draft or fulfilled) shipment."""
    title, price, size, weight, image = _CATALOGUE[sku]
    gross = price * quantity
    return {
        "title": title,
        "quantity": quantity,
        "price": price,
        "size": size,
        "sku": sku,
        "weight": weight,
        "images": [{"src": f"{_IMAGE_ROOT}/{image}", "alt": title}],
        "tax_lines": [
            {"title": "VAT", "rate": _VAT_RATE, "price": round(gross - gross / (1 + _VAT_RATE), 2)},
        ],
        "bundled_products": [],
        "shipment_id": shipment_id,
        "type": "product",
    }


# --- addresses --------------------------------------------------------------------------------


def address(
    name: str,
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


# --- orders and trackings ---------------------------------------------------------------------


def hours(count: float) -> timedelta:
    return timedelta(hours=count)


def days(count: float) -> timedelta:
    return timedelta(days=count)


@dataclass(frozen=True, slots=True)
class Shipping:
    """One fulfilled shipment of an order, before it is rendered as a tracking object."""

    key: str
    carrier_reference: str
    tracking_number: str
    state: str
    events: list[JsonDict]
    eta: JsonDict | None = None
    flag: str = "normal"
    phase: str | None = None  # set only on the newer shape, beside an ETA window
    pickup: JsonDict | None = None


def eta_prediction(when: datetime) -> JsonDict:
    """The original ETA shape: one predicted moment."""
    return {"time_prediction": iso(when), "language": _LANGUAGE}


def eta_window(start: datetime, end: datetime) -> JsonDict:
    """The newer ETA shape: an arrival window."""
    return {"from": iso(start), "to": iso(end)}


def tracking(order: JsonDict, shipping: Shipping) -> JsonDict:
    """A tracking object, as nested in ``trackings[]`` and as a shipment lookup answers it."""
    shipment_id = shipment_uuid(order["merchant_slug"], shipping.key)
    body: JsonDict = {
        "id": shipment_id,
        "order_id": order["uuid"],
        "order_number": order["order_number"],
        "merchant_slug": order["merchant_slug"],
        "carrier": carrier(shipping.carrier_reference, shipping.tracking_number),
        "state": shipping.state,
        "flag": shipping.flag,
        "estimated_arrival": shipping.eta,
        "pickup": shipping.pickup,
        "events": shipping.events,  # oldest first, as GoKarla sends them
        "updated_at": shipping.events[-1]["time"],
        "products": [item for item in order["products"] if item["shipment_id"] == shipment_id],
    }
    if shipping.phase is not None:
        body["phase"] = shipping.phase
    return body


def draft_tracking(order: JsonDict, shipment_id: str, now: datetime) -> JsonDict:
    """A draft shipment (no carrier yet), as the shipment lookup by id answers it.

    GoKarla's drafts are not in ``trackings[]`` and "carry only pre-transit events": the same
    tracking shape with a null tracking number, carrier and tracking URL, ``state: "pending"``,
    no ETA, and the pre-transit events that have happened by ``now``.
    """
    placed = datetime.fromisoformat(order["order_placed_at"])
    events = [item for item in pre_transit(placed) if datetime.fromisoformat(item["time"]) <= now]
    return {
        "id": shipment_id,
        "order_id": order["uuid"],
        "order_number": order["order_number"],
        "merchant_slug": order["merchant_slug"],
        "carrier": {"tracking_number": None, "carrier_reference": None, "tracking_url": None},
        "state": "pending",
        "flag": "normal",
        "estimated_arrival": None,
        "pickup": None,
        "events": events,  # oldest first; never empty: ORDER_CREATED is at ``placed``
        "updated_at": events[-1]["time"],
        "products": [item for item in order["products"] if item["shipment_id"] == shipment_id],
    }


def draft_shipment_ids(order: JsonDict) -> list[str]:
    """The ids of the order's draft shipments: named by its line items, absent from
    ``trackings[]`` (in line-item order, each once)."""
    tracked = {item["id"] for item in order["trackings"]}
    ids = (item["shipment_id"] for item in order["products"] if item["shipment_id"])
    return [shipment_id for shipment_id in dict.fromkeys(ids) if shipment_id not in tracked]


def shipment_uuid(shop: str, key: str) -> str:
    return stable_uuid(shop, "shipment", key)


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
) -> JsonDict:
    """An order without trackings; ``items`` are (sku, quantity, shipment key or None)."""
    products = [
        product(sku, qty, shipment_uuid(shop, key) if key else None) for sku, qty, key in items
    ]
    subtotal = round(sum(item["price"] * item["quantity"] for item in products), 2)
    if discount_price is None:  # fixed-amount codes: the amount is the money value
        discount_price = sum((float(entry["amount"]) for entry in discounts or []), 0.0)
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
        "currency": "EUR",
        "email_id": email,
        "address": customer,
        "products": products,
        "discounts": discounts or [],
        "segments": segments or [],
        "weight": round(sum(item["weight"] * item["quantity"] for item in products), 2),
        "trackings": [],
    }


def ship(order_body: JsonDict, *shippings: Shipping) -> JsonDict:
    order_body["trackings"] = [tracking(order_body, shipping) for shipping in shippings]
    return order_body


def pre_transit(placed: datetime, processed_after: timedelta = timedelta(hours=3)) -> list:
    """The events every shipment starts with, before the carrier has it."""
    return [
        event("ORDER_CREATED", placed),
        event("ORDER_IN_PROCESSING", placed + processed_after, "Demo warehouse, Leipzig"),
    ]

"""The sandbox's demo data: three shops, their API keys and their orders, in GoKarla's
documented shapes (gokarla-api.md) and nothing else.

Everything is built when a server starts (``build_catalog``), relative to that moment, so the
demo looks live; identifiers are deterministic (``stable_uuid``), so tests, docs and the demo
seed can name them. The builders return plain dicts; ``sandbox.catalog`` encodes and indexes
them.

API keys (HTTP Basic ``username:token``): ``demo-shop``/``karla-demo-token``,
``demo-outlet``/``karla-outlet-token``, ``demo-popup``/``karla-popup-token`` (role admin) and
``demo-shop-viewer``/``karla-viewer-token`` (demo-shop, role viewer: reads, but may not write
webhooks or post shipment events).

demo-shop anchor orders (binding: the README, the demo and the tests rely on them):

- ``1001`` in transit: Jane Doe, jane@example.com, Berlin; DHL ``00340434161094042557``;
  events oldest first, the middle one (ORDER_IN_PROCESSING) without ``time``, the newest
  DEPARTURE_FROM_TRANSPORT_HUB two hours before start; ``estimated_arrival`` German text for
  the day two days after start (``{"time_prediction": "Donnerstag, 3. Dezember, zwischen
  10:00 und 14:00 Uhr", "language": "de"}``). Its shipment id is
  ``stable_uuid("demo-shop", "shipment", "1001-a")``, or ``trackings[0].id`` of the order.
- ``1002`` placed, nothing shipped: ``trackings: []``, its line items name the draft shipment
  ``5c76cf4e-f62f-47c2-bcd4-722953d5582a``.
- ``1003`` partially fulfilled: DPD ``01505012345678`` delivered, the back-ordered jacket a
  draft (``cf6bf46d-6d6b-4529-a3e3-aa85929d550e``).
- ``1004`` placed, nothing shipped, its line item without a shipment.
- ``1005`` delivered, Jane again: Hermes (``hrs``) ``10037492015842``, percentage discount
  ``WELCOME10`` (``"10.0"``: 10 %).
- ``1006`` delayed: UPS ``1Z999AA10123456784``, ``flag: "delay"``, ``estimated_arrival`` an
  ISO date-time (language en) and an ``expected_delivery`` window.
- ``1007`` delivery failed: GLS ``61234567890``, ``flag: "error"``, last event
  DELIVERY_ATTEMPTED with ``additional_info.mail_message``.
- ``1011`` waiting at a DHL Packstation (``sandbox.data_extra``): DHL
  ``00340434161094099990``, ``state: "collect"``, ``pickup`` and READY_FOR_COLLECTION.

Shipment ids (for ``POST .../shipments/{id}/events``): 1001 ``e0e3e61a-1d53-4c56-a79c-
39b10b40942f``, 1005 ``af7f62ac-5560-4231-b790-d2b8fc8573f5``, 1006 ``5da683dc-a3b0-4706-
8d58-a6a50f3c9828``, 1007 ``9cba59b7-3bcf-44b7-a9dd-11ac81c8d488``, 1011 ``be8f4336-a5bf-
48b7-9b41-2ef23ffd1c18``, 2001 ``2ccea59a-c80d-4c99-bdbe-320ea06e211f`` (demo-outlet); any
tracking's ``id``. Order 1002's draft, once handed to the carrier, becomes DHL
``00340434739183560307``.

Then ``1008``-``1012`` (``sandbox.data_extra``) and about three hundred generated orders from
``5001`` up (``sandbox.generated``). demo-outlet: ``2001`` in transit with Deutsche Post
(``depost``) ``RR123456785DE``, ``2002`` placed. demo-popup: ``3001`` placed, ``3002`` and
``3003`` shipped; the demo seed leaves it for an admin to connect by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sandbox.carriers import carrier
from sandbox.shapes import (
    JsonDict,
    address,
    days,
    delivery_window,
    eta_in_words,
    eta_iso,
    event,
    hours,
    order,
    place,
    pre_transit,
    tracking,
)


@dataclass(frozen=True, slots=True)
class ShopSpec:
    slug: str
    name: str
    provider: str


@dataclass(frozen=True, slots=True)
class ApiKey:
    username: str
    token: str
    shop: str
    role: str  # admin, editor or viewer


SHOPS: tuple[ShopSpec, ...] = (
    ShopSpec("demo-shop", "Demo Shop", "shopify"),
    ShopSpec("demo-outlet", "Demo Outlet", "shopware"),
    # Not connected by the demo seed: a shop an admin can connect to try "+ Add account".
    ShopSpec("demo-popup", "Demo Pop-up Store", "shopify"),
)

API_KEYS: tuple[ApiKey, ...] = (
    ApiKey("demo-shop", "karla-demo-token", "demo-shop", "admin"),
    ApiKey("demo-shop-viewer", "karla-viewer-token", "demo-shop", "viewer"),
    ApiKey("demo-outlet", "karla-outlet-token", "demo-outlet", "admin"),
    ApiKey("demo-popup", "karla-popup-token", "demo-popup", "admin"),
)

JANE = address(
    "Jane Doe",
    "Torstraße 12",
    "Berlin",
    "10119",
    "Germany",
    "DE",
    province="Berlin",
    province_code="BE",
    phone="+49 30 12345678",
)
SHOP = "demo-shop"


def order_1001(now: datetime) -> JsonDict:
    placed = now - days(3)
    body = order(
        SHOP,
        1001,
        placed,
        JANE,
        "jane@example.com",
        [("KS-MER-CRW-M", 1, "1001-a"), ("KS-ORG-TEE-L", 2, "1001-a")],
        segments=["returning_customer"],
    )
    hub = place("Ludwigsfelde", "14974", "DE", name="DHL Paketzentrum Ludwigsfelde")
    events = [
        event("ORDER_CREATED", placed),
        event("ORDER_IN_PROCESSING", None, place("Leipzig")),  # GoKarla sent no time
        event("PARCEL_HANDED_TO_CARRIER", now - days(2), place("Leipzig", "04159", "DE")),
        event("ARRIVAL_AT_TRANSPORT_HUB", now - hours(20), hub),
        event("DEPARTURE_FROM_TRANSPORT_HUB", now - hours(2), place("Ludwigsfelde")),
    ]
    body["trackings"] = [
        tracking(
            body,
            "1001-a",
            carrier("dhl", "00340434161094042557"),
            events,
            eta=eta_in_words(now + days(2), "de"),
        )
    ]
    return body


def order_1002(now: datetime) -> JsonDict:
    customer = address(
        "Max Mustermann",
        "Jungfernstieg 7",
        "Hamburg",
        "20354",
        "Germany",
        "DE",
        province="Hamburg",
        province_code="HH",
        phone="+49 40 7654321",
    )
    items = [("KS-CNV-WKD-01", 1, "1002-a"), ("KS-WOL-BEA-01", 1, "1002-a")]
    return order(SHOP, 1002, now - hours(6), customer, "max.mustermann@example.com", items)


def order_1003(now: datetime) -> JsonDict:
    placed = now - days(6)
    customer = address(
        "Lukas Weber",
        "Leopoldstraße 44",
        "München",
        "80802",
        "Germany",
        "DE",
        province="Bayern",
        province_code="BY",
    )
    items = [
        ("KS-TRL-RUN-42", 1, "1003-a"),
        ("KS-SOC-3PK-39", 2, "1003-a"),
        ("KS-RAI-JKT-M", 1, "1003-b"),  # back-ordered: a draft shipment
    ]
    body = order(SHOP, 1003, placed, customer, "lukas.weber@example.com", items)
    munich = place("München", "80802", "DE")
    events = [
        *pre_transit(placed),
        event("PARCEL_HANDED_TO_CARRIER", placed + days(1), place("Leipzig", "04159", "DE")),
        event("OUT_FOR_DELIVERY", now - days(2) - hours(5), place("München")),
        event("SUCCESSFULLY_DELIVERED", now - days(2), munich),
    ]
    body["trackings"] = [
        tracking(
            body,
            "1003-a",
            carrier("dpd", "01505012345678"),
            events,
            eta=eta_iso(now - days(2)),
        )
    ]
    return body


def order_1004(now: datetime) -> JsonDict:
    customer = address(
        "Emma Schmidt",
        "Ehrenstraße 30",
        "Köln",
        "50672",
        "Germany",
        "DE",
        province="Nordrhein-Westfalen",
        province_code="NW",
    )
    items: list[tuple[str, int, str | None]] = [("KS-LIN-SHT-S", 2, None)]
    return order(SHOP, 1004, now - days(4), customer, "emma.schmidt@example.com", items)


def order_1005(now: datetime) -> JsonDict:
    placed = now - days(9)
    items = [("KS-BOT-STL-75", 2, "1005-a"), ("KS-WOL-BEA-01", 1, "1005-a")]
    body = order(
        SHOP,
        1005,
        placed,
        JANE,
        "jane@example.com",
        items,
        discounts=[{"code": "WELCOME10", "amount": "10.0", "type": "percentage"}],
        discount_price=7.8,  # 10 % of the 78.00 subtotal
        segments=["returning_customer"],
    )
    events = [
        *pre_transit(placed),
        event("PARCEL_HANDED_TO_CARRIER", placed + days(1), place("Leipzig")),
        event("ARRIVAL_AT_TRANSPORT_HUB", placed + days(2), place("Ketzin", "14669", "DE")),
        event("OUT_FOR_DELIVERY", now - days(5) - hours(4), place("Berlin", "10119", "DE")),
        event("SUCCESSFULLY_DELIVERED", now - days(5), place("Berlin", "10119", "DE")),
    ]
    body["trackings"] = [
        tracking(
            body,
            "1005-a",
            carrier("hrs", "10037492015842"),
            events,
            eta=eta_iso(now - days(5)),
        )
    ]
    return body


def order_1006(now: datetime) -> JsonDict:
    placed = now - days(7)
    customer = address(
        "Anna Huber",
        "Mariahilfer Straße 88",
        "Wien",
        "1070",
        "Austria",
        "AT",
        province="Wien",
        province_code="9",
        phone="+43 1 2345678",
    )
    items = [("KS-RAI-JKT-M", 1, "1006-a")]
    body = order(SHOP, 1006, placed, customer, "anna.huber@example.com", items, shipping_price=9.95)
    hub = place("Nürnberg", "90451", "DE", name="UPS Hub Nürnberg")
    linz = place("Linz", "4020", "AT")
    events = [
        *pre_transit(placed),
        event("PARCEL_HANDED_TO_CARRIER", placed + days(1), place("Leipzig", "04159", "DE")),
        event("DEPARTURE_FROM_TRANSPORT_HUB", now - days(4), hub),
        event("SHIPMENT_DELAYED", now - days(1), linz, None, "Europe/Vienna"),
    ]
    body["trackings"] = [
        tracking(
            body,
            "1006-a",
            carrier("ups", "1Z999AA10123456784"),
            events,
            eta=eta_iso(now + days(2)),
            expected_delivery=delivery_window(now + days(1), now + days(3)),
        )
    ]
    return body


def order_1007(now: datetime) -> JsonDict:
    placed = now - days(5)
    customer = address(
        "Tom Becker",
        "Berger Straße 101",
        "Frankfurt am Main",
        "60316",
        "Germany",
        "DE",
        province="Hessen",
        province_code="HE",
    )
    items = [("KS-CNV-WKD-01", 1, "1007-a")]
    body = order(SHOP, 1007, placed, customer, "tom.becker@example.com", items)
    frankfurt = place("Frankfurt am Main", "60316", "DE")
    notice = "Recipient not at home. A second attempt follows on the next working day."
    events = [
        *pre_transit(placed),
        event("PARCEL_HANDED_TO_CARRIER", placed + days(1), place("Leipzig")),
        event("OUT_FOR_DELIVERY", now - hours(9), place("Frankfurt am Main")),
        event("DELIVERY_ATTEMPTED", now - hours(5), frankfurt, {"mail_message": notice}),
    ]
    body["trackings"] = [
        tracking(
            body,
            "1007-a",
            carrier("gls", "61234567890"),
            events,
            eta=eta_iso(now + days(1)),
        )
    ]
    return body


def anchor_orders(now: datetime) -> list[JsonDict]:
    builders = (order_1001, order_1002, order_1003, order_1004, order_1005, order_1006)
    return [build(now) for build in (*builders, order_1007)]

"""The rest of the hand-written demo data: demo-shop ``1008``-``1012`` (DHL Express, a
percentage discount, a placed Dutch order, the Packstation anchor ``1011``, a B2B order with
PostNL), the demo-outlet and demo-popup orders, the shop objects, and ``demo_orders``, which
puts them together with the anchors (``sandbox.data``) and the generated orders.
"""

from __future__ import annotations

from datetime import datetime

from sandbox.carriers import carrier
from sandbox.data import SHOPS, ShopSpec, anchor_orders
from sandbox.generated import COUNT, generated_orders
from sandbox.shapes import (
    JsonDict,
    address,
    days,
    eta_in_words,
    eta_iso,
    event,
    hours,
    iso,
    merchant_uuid,
    order,
    place,
    pre_transit,
    tracking,
)

SHOP = "demo-shop"
PACKSTATION = "DHL Packstation 152"
PACKSTATION_URL = "https://www.dhl.de/de/privatkunden/dhl-standorte-finden.html"


def order_1008(now: datetime) -> JsonDict:
    placed = now - days(4)
    customer = address(
        "Sofia Rossi",
        "Via Torino 21",
        "Milano",
        "20123",
        "Italy",
        "IT",
        province="Milano",
        province_code="MI",
        phone="+39 02 1234567",
    )
    items = [("KS-LIN-SHT-S", 1, "1008-a")]
    body = order(
        SHOP, 1008, placed, customer, "sofia.rossi@example.com", items, shipping_price=14.9
    )
    events = [
        *pre_transit(placed),
        event("PARCEL_HANDED_TO_CARRIER", placed + days(1), place("Leipzig", "04159", "DE")),
        event(
            "OUT_FOR_DELIVERY", now - hours(3), place("Milano", "20123", "IT"), None, "Europe/Rome"
        ),
    ]
    body["trackings"] = [
        tracking(
            body, "1008-a", carrier("dhlexp", "1234567890"), events, eta=eta_iso(now + hours(3))
        )
    ]
    return body


def order_1009(now: datetime) -> JsonDict:
    placed = now - days(12)
    customer = address(
        "Mia Fischer",
        "Königstraße 5",
        "Stuttgart",
        "70173",
        "Germany",
        "DE",
        province="Baden-Württemberg",
        province_code="BW",
    )
    body = order(
        SHOP,
        1009,
        placed,
        customer,
        "mia.fischer@example.com",
        [("KS-OUT-HDY-L", 1, "1009-a")],
        discounts=[{"code": "SPRING15", "amount": "15.0", "type": "percentage"}],
        discount_price=5.85,  # 15 % of 39.00
    )
    events = [
        *pre_transit(placed),
        event("PARCEL_HANDED_TO_CARRIER", placed + days(1), place("Leipzig")),
        event("SUCCESSFULLY_DELIVERED", placed + days(3), place("Stuttgart", "70173", "DE")),
    ]
    body["trackings"] = [tracking(body, "1009-a", carrier("dhl", "00340434161094077771"), events)]
    return body


def order_1010(now: datetime) -> JsonDict:
    customer = address(
        "Noah Jansen",
        "Prinsengracht 263",
        "Amsterdam",
        "1016 GV",
        "Netherlands",
        "NL",
        province="Noord-Holland",
        province_code="NH",
    )
    items = [("KS-TRL-RUN-42", 1, "1010-a")]
    placed = now - hours(1)
    return order(SHOP, 1010, placed, customer, "noah.jansen@example.com", items, shipping_price=7.5)


def order_1011(now: datetime) -> JsonDict:
    """The Packstation anchor: waiting for collection since yesterday."""
    placed = now - days(3)
    customer = address(
        "Lena Wagner",
        "Karl-Liebknecht-Straße 18",
        "Leipzig",
        "04107",
        "Germany",
        "DE",
        province="Sachsen",
        province_code="SN",
    )
    items = [("KS-SOC-3PK-39", 1, "1011-a"), ("KS-BOT-STL-75", 1, "1011-a")]
    body = order(SHOP, 1011, placed, customer, "lena.wagner@example.com", items)
    station = place("Leipzig", "04109", "DE", name=PACKSTATION)
    ready = {
        "pickup_point": PACKSTATION,
        "pickup_point_url": PACKSTATION_URL,
        "pickup_opening_hours": {"Mo-So": "00:00-24:00"},
    }
    events = [
        *pre_transit(placed),
        event("PARCEL_HANDED_TO_CARRIER", placed + days(1), place("Leipzig", "04159", "DE")),
        event("READY_FOR_COLLECTION", now - hours(26), station, ready),
    ]
    pickup = {
        "type": "locker",
        "name": PACKSTATION,
        "address": address(PACKSTATION, "Brühl 1", "Leipzig", "04109", "Germany", "DE"),
        "url": PACKSTATION_URL,
        "opening_hours": "Mo–So 00:00–24:00",
        "date_to": iso(now + days(6)),
    }
    body["trackings"] = [
        tracking(
            body,
            "1011-a",
            carrier("dhl", "00340434161094099990"),
            events,
            eta=eta_in_words(now - hours(26), "de"),
            pickup=pickup,
        )
    ]
    return body


def order_1012(now: datetime) -> JsonDict:
    placed = now - days(2)
    customer = address(
        "Daan de Vries",
        "Oudegracht 120",
        "Utrecht",
        "3511 AX",
        "Netherlands",
        "NL",
        company="De Vries Design",
        phone="+31 30 1234567",
    )
    body = order(
        SHOP,
        1012,
        placed,
        customer,
        "daan@devries.example",
        [("KS-MER-CRW-M", 2, "1012-a")],
        shipping_price=7.5,
        segments=["b2b"],
    )
    events = [
        *pre_transit(placed),
        event("PARCEL_HANDED_TO_CARRIER", now - days(1), place("Leipzig")),
    ]
    body["trackings"] = [
        tracking(body, "1012-a", carrier("postnl_inter", "3SDEVC123456789"), events)
    ]
    return body


def outlet_orders(now: datetime) -> list[JsonDict]:
    shop = "demo-outlet"
    clara = address(
        "Clara Hoffmann",
        "Prager Straße 2",
        "Dresden",
        "01069",
        "Germany",
        "DE",
        province="Sachsen",
        province_code="SN",
    )
    placed = now - days(2)
    o2001 = order(
        shop, 2001, placed, clara, "clara.hoffmann@example.com", [("KS-OUT-HDY-L", 2, "2001-a")]
    )
    events = [
        *pre_transit(placed),
        event("PARCEL_HANDED_TO_CARRIER", now - days(1), place("Leipzig")),
        event("DEPARTURE_FROM_TRANSPORT_HUB", now - hours(4), place("Radeburg", "01471", "DE")),
    ]
    o2001["trackings"] = [
        tracking(
            o2001,
            "2001-a",
            carrier("depost", "RR123456785DE"),
            events,
            eta=eta_in_words(now + days(1), "de"),
        )
    ]
    o2002 = order(
        shop,
        2002,
        now - hours(3),
        clara,
        "clara.hoffmann@example.com",
        [("KS-WOL-BEA-01", 3, "2002-a")],
    )
    return [o2001, o2002]


def popup_orders(now: datetime) -> list[JsonDict]:
    shop = "demo-popup"
    milan = address("Milan Novak", "Lindengasse 5", "Wien", "1070", "Austria", "AT")
    lea = address("Léa Martin", "Rue de Lausanne 12", "Genève", "1201", "Switzerland", "CH")
    o3001 = order(
        shop,
        3001,
        now - hours(5),
        milan,
        "milan.novak@example.com",
        [("KS-OUT-HDY-L", 1, "3001-a")],
    )
    placed = now - days(4)
    o3002 = order(
        shop,
        3002,
        placed,
        lea,
        "lea.martin@example.com",
        [("KS-SUN-GLS-01", 1, "3002-a")],
        currency="CHF",
    )
    events = [
        *pre_transit(placed),
        event(
            "PARCEL_HANDED_TO_CARRIER",
            placed + days(1),
            place("Basel", "4002", "CH"),
            None,
            "Europe/Zurich",
        ),
    ]
    o3002["trackings"] = [
        tracking(o3002, "3002-a", carrier("swisspost", "990012345612345678"), events)
    ]
    placed = now - days(10)
    o3003 = order(
        shop, 3003, placed, milan, "milan.novak@example.com", [("KS-WOL-SCF-01", 2, "3003-a")]
    )
    events = [
        *pre_transit(placed),
        event("PARCEL_HANDED_TO_CARRIER", placed + days(1), place("Leipzig")),
        event(
            "SUCCESSFULLY_DELIVERED",
            placed + days(4),
            place("Wien", "1070", "AT"),
            None,
            "Europe/Vienna",
        ),
    ]
    o3003["trackings"] = [
        tracking(o3003, "3003-a", carrier("postat", "1000123456789012345678"), events)
    ]
    return [o3001, o3002, o3003]


def shop_object(spec: ShopSpec) -> JsonDict:
    """``GET /shops/{slug}``: fixed dates, the shop does not change while the demo runs."""
    return {
        "uuid": merchant_uuid(spec.slug),
        "slug": spec.slug,
        "name": spec.name,
        "organization": "Karla Demo GmbH",
        "language": "en",
        "logo_url": f"https://images.karla-demo.example/logos/{spec.slug}.png",
        "shop_url": f"https://{spec.slug}.karla-demo.example",
        "shop_provider": spec.provider,
        "created_at": "2023-05-02T09:00:00+00:00",
        "updated_at": "2024-11-18T16:30:00+00:00",
    }


def demo_orders(now: datetime, generated: int = COUNT) -> dict[str, list[JsonDict]]:
    """Every shop's orders (any order: the catalog sorts them by order number), with
    ``generated`` generated demo-shop orders."""
    extras = [build(now) for build in (order_1008, order_1009, order_1010, order_1011, order_1012)]
    hand_written = [*anchor_orders(now), *extras]
    taken = {
        tracking_body["carrier"]["tracking_number"]
        for body in hand_written
        for tracking_body in body["trackings"]
    }
    orders = {
        "demo-shop": [*hand_written, *generated_orders(now, taken, generated)],
        "demo-outlet": outlet_orders(now),
        "demo-popup": popup_orders(now),
    }
    assert set(orders) == {spec.slug for spec in SHOPS}
    return orders

"""Non-anchor demo orders of ``demo-shop`` (1008-1012): enough to page through, with other
carriers, customers and shapes (an out-for-delivery window, a percentage discount, a locker
pickup, a B2B order). Nothing outside the sandbox relies on their details.
"""

from __future__ import annotations

from datetime import datetime

from sandbox.shapes import (
    JsonDict,
    Shipping,
    address,
    days,
    eta_prediction,
    eta_window,
    event,
    hours,
    order,
    pre_transit,
    ship,
)


def extra_demo_shop_orders(now: datetime) -> list[JsonDict]:
    """Non-anchor orders: enough to page through, with other carriers, shapes and customers."""
    shop = "demo-shop"

    placed = now - days(4)
    o1008 = ship(
        order(
            shop,
            1008,
            placed,
            address(
                "Sofia Rossi",
                "Via Torino 21",
                "Milano",
                "20123",
                "Italy",
                "IT",
                province="Milano",
                province_code="MI",
                phone="+39 02 1234567",
            ),
            "sofia.rossi@example.com",
            [("KS-LIN-SHT-S", 1, "1008-a")],
            shipping_price=14.9,
        ),
        Shipping(
            "1008-a",
            "dhlexp",
            "1234567890",
            "transit",
            [
                *pre_transit(placed),
                event("PARCEL_HANDED_TO_CARRIER", placed + days(1), "Leipzig, DE"),
                event("OUT_FOR_DELIVERY", now - hours(3), "Milano, IT"),
            ],
            eta=eta_window(now + hours(1), now + hours(5)),
            phase="in_delivery",
        ),
    )

    placed = now - days(12)
    o1009 = ship(
        order(
            shop,
            1009,
            placed,
            address(
                "Mia Fischer",
                "Königstraße 5",
                "Stuttgart",
                "70173",
                "Germany",
                "DE",
                province="Baden-Württemberg",
                province_code="BW",
            ),
            "mia.fischer@example.com",
            [("KS-OUT-HDY-L", 1, "1009-a")],
            # A percentage code: the amount is the percentage, not the money value.
            discounts=[{"code": "SPRING15", "amount": "15", "type": "percentage"}],
            discount_price=5.85,
        ),
        Shipping(
            "1009-a",
            "dhl",
            "00340434161094077771",
            "delivered",
            [
                *pre_transit(placed),
                event("PARCEL_HANDED_TO_CARRIER", placed + days(1), "Leipzig, DE"),
                event("SUCCESSFULLY_DELIVERED", placed + days(3), "Stuttgart, DE"),
            ],
            eta=eta_prediction(placed + days(3)),
        ),
    )

    o1010 = order(
        shop,
        1010,
        now - hours(1),
        address(
            "Noah Jansen",
            "Prinsengracht 263",
            "Amsterdam",
            "1016 GV",
            "Netherlands",
            "NL",
            province="Noord-Holland",
            province_code="NH",
        ),
        "noah.jansen@example.com",
        [("KS-TRL-RUN-42", 1, "1010-a")],
        shipping_price=7.5,
    )

    placed = now - days(3)
    pickup = {
        "type": "locker",
        "name": "DHL Packstation 152",
        "address": "Brühl 1, 04109 Leipzig",
        "url": "https://www.dhl.de/de/privatkunden/dhl-standorte-finden.html",
        "opening_hours": "Mon-Sun 00:00-24:00",
    }
    o1011 = ship(
        order(
            shop,
            1011,
            placed,
            address(
                "Lena Wagner",
                "Karl-Liebknecht-Straße 18",
                "Leipzig",
                "04107",
                "Germany",
                "DE",
                province="Sachsen",
                province_code="SN",
            ),
            "lena.wagner@example.com",
            [("KS-SOC-3PK-39", 1, "1011-a"), ("KS-BOT-STL-75", 1, "1011-a")],
        ),
        Shipping(
            "1011-a",
            "dhl",
            "00340434161094099990",
            "collect",
            [
                *pre_transit(placed),
                event("PARCEL_HANDED_TO_CARRIER", placed + days(1), "Leipzig, DE"),
                event("READY_FOR_COLLECTION", now - hours(26), "DHL Packstation 152, Leipzig"),
            ],
            eta=eta_prediction(now - hours(26)),
            pickup=pickup,
        ),
    )

    placed = now - days(2)
    o1012 = ship(
        order(
            shop,
            1012,
            placed,
            address(
                "Daan de Vries",
                "Oudegracht 120",
                "Utrecht",
                "3511 AX",
                "Netherlands",
                "NL",
                company="De Vries Design",
                phone="+31 30 1234567",
            ),
            "daan@devries.example",
            [("KS-MER-CRW-M", 2, "1012-a")],
            shipping_price=7.5,
            segments=["b2b"],
        ),
        Shipping(
            "1012-a",
            "postnl_inter",
            "3SDEVC123456789",
            "transit",
            [
                *pre_transit(placed),
                event("PARCEL_HANDED_TO_CARRIER", now - days(1), "Leipzig, DE"),
            ],
            eta=eta_prediction(now + days(3)),
        ),
    )
    return [o1008, o1009, o1010, o1011, o1012]

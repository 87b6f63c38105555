"""The sandbox's demo data: three shops and their orders in GoKarla's real shapes.

Everything is built once, when a server starts (``build_catalog``), relative to that moment so
the demo looks live (order 1001's last scan two hours ago, its ETA two days ahead). Identifiers
are deterministic: UUID v4 values derived from a fixed seed, so tests, docs and the demo seed can
name them. The builder returns plain dicts; ``sandbox.catalog`` serializes and indexes them.

Anchor orders (binding, see DESIGN.md "Sandbox"):

- demo-shop ``1001`` in transit (DHL ``00340434161094042557``, ETA as ``time_prediction``);
  ``1002`` placed (a draft shipment, ``trackings: []``); ``1003`` partially fulfilled (two
  shipments, the DPD one delivered, the other still a draft); ``1004`` cancelled
  (``cancelled_at``); ``1005`` delivered (Jane again, with a discount); ``1006`` delayed (UPS
  ``1Z999AA10123456784``, ``flag: "delay"``, ETA window); ``1007`` delivery failed (GLS).
- demo-outlet ``2001`` fulfilled, in transit with DPD (ETA window).

Draft shipments ("no tracking data yet"): a line item's ``shipment_id`` that is not in the
order's ``trackings[]`` is a draft. ``GET /shops/{slug}/shipments/{shipment_id}`` answers it
with 200 and a tracking-shaped object whose ``carrier.tracking_number`` (and
``carrier_reference``, ``tracking_url``) is null, ``state: "pending"``, no ETA and only
pre-transit events (``ORDER_CREATED``, ``ORDER_IN_PROCESSING``); the client turns it into
``NoTrackingYet``. To try it, use order 1002's draft::

    5c76cf4e-f62f-47c2-bcd4-722953d5582a    (demo-shop, order 1002)

Order 1003's back-ordered jacket is a second draft (``cf6bf46d-6d6b-4529-a3e3-aa85929d550e``).
Drafts have no tracking number, so ``?tracking_number=`` never finds one, and another shop's
draft id is ``shipment_not_found``.

Non-anchor orders 1008-1012 and 2002 make paging and the e-mail search mean something.
``demo-popup`` (token ``karla-popup-token``, order ``3001`` placed) is left for an admin to
connect by hand, so "+ Add account" can be tried on the demo.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sandbox.data_extra import extra_demo_shop_orders
from sandbox.shapes import (
    JsonDict,
    Shipping,
    address,
    days,
    eta_prediction,
    eta_window,
    event,
    hours,
    iso,
    order,
    pre_transit,
    ship,
    stable_uuid,
)


@dataclass(frozen=True, slots=True)
class ShopSpec:
    slug: str
    name: str
    username: str
    token: str
    provider: str


SHOPS: tuple[ShopSpec, ...] = (
    ShopSpec("demo-shop", "Demo Shop", "demo-shop", "karla-demo-token", "shopify"),
    ShopSpec("demo-outlet", "Demo Outlet", "demo-outlet", "karla-outlet-token", "shopware"),
    # Not connected by the demo seed: a shop an admin can connect to try "+ Add account".
    ShopSpec("demo-popup", "Demo Pop-up Store", "demo-popup", "karla-popup-token", "shopify"),
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


def demo_shop_orders(now: datetime) -> list[JsonDict]:
    shop = "demo-shop"

    placed = now - days(3)
    o1001 = ship(
        order(
            shop,
            1001,
            placed,
            JANE,
            "jane@example.com",
            [("KS-MER-CRW-M", 1, "1001-a"), ("KS-ORG-TEE-L", 2, "1001-a")],
            segments=["returning_customer"],
        ),
        Shipping(
            "1001-a",
            "dhl",
            "00340434161094042557",
            "transit",
            [
                *pre_transit(placed),
                event("PARCEL_HANDED_TO_CARRIER", now - days(2), "Leipzig, DE"),
                event("ARRIVAL_AT_TRANSPORT_HUB", now - hours(20), "Ludwigsfelde, DE"),
                event("DEPARTURE_FROM_TRANSPORT_HUB", now - hours(2), "Ludwigsfelde, DE"),
            ],
            eta=eta_prediction(now + days(2)),
        ),
    )

    o1002 = order(
        shop,
        1002,
        now - hours(6),
        address(
            "Max Mustermann",
            "Jungfernstieg 7",
            "Hamburg",
            "20354",
            "Germany",
            "DE",
            province="Hamburg",
            province_code="HH",
            phone="+49 40 7654321",
        ),
        "max.mustermann@example.com",
        [("KS-CNV-WKD-01", 1, "1002-a"), ("KS-WOL-BEA-01", 1, "1002-a")],
    )

    placed = now - days(6)
    o1003 = ship(
        order(
            shop,
            1003,
            placed,
            address(
                "Lukas Weber",
                "Leopoldstraße 44",
                "München",
                "80802",
                "Germany",
                "DE",
                province="Bayern",
                province_code="BY",
            ),
            "lukas.weber@example.com",
            [
                ("KS-TRL-RUN-42", 1, "1003-a"),
                ("KS-SOC-3PK-39", 2, "1003-a"),
                ("KS-RAI-JKT-M", 1, "1003-b"),
            ],
        ),  # the jacket is back-ordered: a draft shipment
        Shipping(
            "1003-a",
            "dpd",
            "01505012345678",
            "delivered",
            [
                *pre_transit(placed),
                event("PARCEL_HANDED_TO_CARRIER", placed + days(1), "Leipzig, DE"),
                event("OUT_FOR_DELIVERY", now - days(2) - hours(5), "München, DE"),
                event(
                    "SUCCESSFULLY_DELIVERED",
                    now - days(2),
                    "München, DE",
                    "Handed to the recipient",
                ),
            ],
            eta=eta_window(now - days(3), now - days(2)),
            phase="delivered",
        ),
    )

    o1004 = order(
        shop,
        1004,
        now - days(4),
        address(
            "Emma Schmidt",
            "Ehrenstraße 30",
            "Köln",
            "50672",
            "Germany",
            "DE",
            province="Nordrhein-Westfalen",
            province_code="NW",
        ),
        "emma.schmidt@example.com",
        [("KS-LIN-SHT-S", 2, None)],
    )
    # Undocumented by GoKarla but sent by some shops; the client's parser recognises it.
    o1004["cancelled_at"] = iso(now - days(4) + hours(5))

    placed = now - days(9)
    o1005 = ship(
        order(
            shop,
            1005,
            placed,
            JANE,
            "jane@example.com",
            [("KS-BOT-STL-75", 2, "1005-a"), ("KS-WOL-BEA-01", 1, "1005-a")],
            discounts=[{"code": "WELCOME10", "amount": "10.00", "type": "fixed_amount"}],
            segments=["returning_customer"],
        ),
        Shipping(
            "1005-a",
            "dhl",
            "00340434161094015902",
            "delivered",
            [
                *pre_transit(placed),
                event("PARCEL_HANDED_TO_CARRIER", placed + days(1), "Leipzig, DE"),
                event("OUT_FOR_DELIVERY", now - days(5) - hours(4), "Berlin, DE"),
                event(
                    "SUCCESSFULLY_DELIVERED",
                    now - days(5),
                    "Berlin, DE",
                    "Delivered to the recipient",
                ),
            ],
            eta=eta_prediction(now - days(5)),
        ),
    )

    placed = now - days(7)
    o1006 = ship(
        order(
            shop,
            1006,
            placed,
            address(
                "Anna Huber",
                "Mariahilfer Straße 88",
                "Wien",
                "1070",
                "Austria",
                "AT",
                province="Wien",
                province_code="9",
                phone="+43 1 2345678",
            ),
            "anna.huber@example.com",
            [("KS-RAI-JKT-M", 1, "1006-a")],
            shipping_price=9.95,
        ),
        Shipping(
            "1006-a",
            "ups",
            "1Z999AA10123456784",
            "transit",
            [
                *pre_transit(placed),
                event("PARCEL_HANDED_TO_CARRIER", placed + days(1), "Leipzig, DE"),
                event("DEPARTURE_FROM_TRANSPORT_HUB", now - days(4), "Nürnberg, DE"),
                event(
                    "SHIPMENT_DELAYED",
                    now - days(1),
                    "Linz, AT",
                    "Severe weather conditions delayed the shipment",
                ),
            ],
            eta=eta_window(now + days(1), now + days(3)),
            flag="delay",
            phase="in_transit",
        ),
    )

    placed = now - days(5)
    o1007 = ship(
        order(
            shop,
            1007,
            placed,
            address(
                "Tom Becker",
                "Berger Straße 101",
                "Frankfurt am Main",
                "60316",
                "Germany",
                "DE",
                province="Hessen",
                province_code="HE",
            ),
            "tom.becker@example.com",
            [("KS-CNV-WKD-01", 1, "1007-a")],
        ),
        Shipping(
            "1007-a",
            "gls",
            "61234567890",
            "transit",
            [
                *pre_transit(placed),
                event("PARCEL_HANDED_TO_CARRIER", placed + days(1), "Leipzig, DE"),
                event("OUT_FOR_DELIVERY", now - hours(9), "Frankfurt am Main, DE"),
                event(
                    "DELIVERY_ATTEMPTED",
                    now - hours(5),
                    "Frankfurt am Main, DE",
                    "Recipient not at home; a second attempt follows on the next working day",
                ),
            ],
            eta=eta_window(now + days(1), now + days(1) + hours(8)),
            flag="error",
            phase="delivery_failed",
        ),
    )

    return [o1001, o1002, o1003, o1004, o1005, o1006, o1007, *extra_demo_shop_orders(now)]


def demo_outlet_orders(now: datetime) -> list[JsonDict]:
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
    o2001 = ship(
        order(
            shop, 2001, placed, clara, "clara.hoffmann@example.com", [("KS-OUT-HDY-L", 2, "2001-a")]
        ),
        Shipping(
            "2001-a",
            "dpd",
            "01505098765432",
            "transit",
            [
                *pre_transit(placed),
                event("PARCEL_HANDED_TO_CARRIER", now - days(1), "Leipzig, DE"),
                event("DEPARTURE_FROM_TRANSPORT_HUB", now - hours(4), "Radeburg, DE"),
            ],
            eta=eta_window(now + days(1), now + days(1) + hours(6)),
            phase="in_transit",
        ),
    )
    o2002 = order(
        shop,
        2002,
        now - hours(3),
        clara,
        "clara.hoffmann@example.com",
        [("KS-WOL-BEA-01", 3, "2002-a")],
    )
    return [o2001, o2002]


def shop_object(spec: ShopSpec) -> JsonDict:
    """``GET /shops/{slug}``: fixed dates, the shop does not change while the demo runs."""
    return {
        "uuid": stable_uuid(spec.slug, "shop"),
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


def demo_orders(now: datetime) -> dict[str, list[JsonDict]]:
    """Every shop's orders, sorted by order number (the order searches answer in)."""
    return {
        "demo-shop": demo_shop_orders(now),
        "demo-outlet": demo_outlet_orders(now),
        "demo-popup": demo_popup_orders(now),
    }


def demo_popup_orders(now: datetime) -> list[JsonDict]:
    shop = "demo-popup"
    milan = address("Milan Novak", "Lindengasse 5", "Wien", "1070", "Austria", "AT")
    return [
        order(
            shop,
            3001,
            now - hours(5),
            milan,
            "milan.novak@example.com",
            [("KS-OUT-HDY-L", 1, "3001-a")],
        )
    ]

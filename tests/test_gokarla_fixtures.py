"""Proof against GoKarla's documented shapes (tests/fixtures/gokarla, written from
gokarla-api.md and GoKarla's SDK models, not from the sandbox): every payload parses, and the
sidebar card, the reply an agent copies and the workflow API's JSON show what it holds."""

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from karla_sidebar.gokarla import OrderStatus, ShipmentStatus
from karla_sidebar.gokarla.parsing import parse_orders, parse_shop
from karla_sidebar.lookups import Hit
from karla_sidebar.replies import reply_text
from karla_sidebar.serializers import order_json, shipment_json

FIXTURES = Path(__file__).parent / "fixtures" / "gokarla"
ORDER_FIXTURES = sorted(p.name for p in FIXTURES.glob("order*.json"))


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def order_of(name: str):
    (order,) = parse_orders(load(name))
    return order


def card(record, *, action="order") -> str:
    """The sidebar's result card for ``record``, as an agent sees it (tags stripped)."""
    hit = Hit(
        account_id=1,
        account_label="Acme",
        shop_name="Acme Shop",
        record=record,
        fetched_at=datetime(2026, 12, 2, 12, 0, tzinfo=UTC),
    )
    context = {
        "result": type("Result", (), {"action": action, "reference": "x"})(),
        "hits": [{"hit": hit, "reply": reply_text(record), "reply_id": "reply-1"}],
        "urls": {"order": "/sidebar/order/", "shipment": "/sidebar/shipment/"},
        "action_url": "/sidebar/order/",
    }
    with timezone.override("Europe/Berlin"):
        html = render_to_string("sidebar/sidebar.html#result", context)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize("name", ORDER_FIXTURES)
def test_every_fixture_parses_and_renders(name):
    orders = parse_orders(load(name))
    assert orders
    for order in orders:
        text = card(order)
        assert order.order_name in text or order.order_number in text
        json.dumps(order_json(order))  # serialisable
        assert reply_text(order)
        for shipment in order.shipments:
            assert shipment.carrier_name in card(shipment, action="shipment")


def test_the_envelope_and_the_bare_list_are_the_same_orders():
    assert parse_orders(load("orders_envelope.json")) == parse_orders(
        load("orders_in_transit_german_eta.json")
    )


def test_the_shop():
    shop = parse_shop(load("shop.json"))
    assert (shop.slug, shop.name) == ("acme-shop", "Acme Shop")


class TestGermanEtaAndUntimedEvent:
    def test_the_eta_is_gokarla_s_own_text(self):
        order = order_of("orders_in_transit_german_eta.json")
        (shipment,) = order.shipments
        text = "Donnerstag, 3. Dezember, zwischen 10:00 und 14:00 Uhr"
        assert (shipment.eta.text, shipment.eta.language, shipment.eta.start) == (text, "de", None)
        assert f"Estimated delivery: {text}" in card(order)
        assert f"Estimated delivery {text}" in card(shipment, action="shipment")
        assert text in reply_text(order)
        assert shipment_json(shipment)["estimated_delivery"] == {
            "from": None,
            "to": None,
            "text": text,
            "language": "de",
        }

    def test_the_untimed_event_keeps_its_place_and_the_newest_timed_one_decides(self):
        (shipment,) = order_of("orders_in_transit_german_eta.json").shipments
        assert [event.event_key for event in shipment.events] == [
            "DEPARTURE_FROM_TRANSPORT_HUB",
            "PARCEL_HANDED_TO_CARRIER",
            "ORDER_IN_PROCESSING",
            "ORDER_CREATED",
        ]
        assert shipment.status is ShipmentStatus.IN_TRANSIT
        assert shipment.phase == "in_transit"

    def test_location_objects_read_as_one_line(self):
        (shipment,) = order_of("orders_in_transit_german_eta.json").shipments
        assert shipment.last_event.location == "Paketzentrum, Ludwigsfelde, 14974, DE"
        assert shipment.events[1].location == "Leipzig, 04109, DE"
        assert "Paketzentrum verlassen · Paketzentrum, Ludwigsfelde, 14974, DE" in card(
            shipment, action="shipment"
        )

    def test_the_card_says_an_event_has_no_time(self):
        (shipment,) = order_of("orders_in_transit_german_eta.json").shipments
        assert "Bestellung in Bearbeitung · Leipzig, 04109, DE time not given by the carrier" in (
            card(shipment, action="shipment")
        )

    def test_the_api_json_keeps_the_untimed_event(self):
        (shipment,) = order_of("orders_in_transit_german_eta.json").shipments
        events = shipment_json(shipment)["events"]
        assert events[2]["event_key"] == "ORDER_IN_PROCESSING"
        assert events[2]["time"] is None

    def test_all_events_untimed_take_the_phase_of_the_last_listed(self):
        (shipment,) = order_of("order_untimed_events.json").shipments
        assert shipment.status is ShipmentStatus.OUT_FOR_DELIVERY
        assert shipment.last_event.event_key == "OUT_FOR_DELIVERY"
        assert shipment.last_event.location == "Köln, 50672, Deutschland"
        assert "heute zwischen 12 und 16 Uhr" in card(shipment, action="shipment")


class TestPickup:
    def test_the_packstation_is_on_the_card_in_the_reply_and_in_the_api(self):
        order = order_of("order_pickup_locker.json")
        (shipment,) = order.shipments
        assert shipment.status is ShipmentStatus.READY_FOR_PICKUP
        pickup = shipment.pickup
        assert (pickup.name, pickup.type, pickup.address_line) == (
            "DHL Packstation 152",
            "locker",
            "Brühl 1, 04109 Leipzig, Germany",
        )
        assert pickup.until == datetime(2026, 12, 8, 18, 0, tzinfo=UTC)
        text = card(order)
        assert "Waiting at: DHL Packstation 152 (Parcel locker) Brühl 1, 04109 Leipzig" in text
        assert "Opening hours: Mo–So 00:00–24:00" in text
        assert "Waiting until Tue 8 Dec" in text
        assert "Waiting at DHL Packstation 152" in card(shipment, action="shipment")
        reply = reply_text(order)
        place = "DHL Packstation 152, Brühl 1, 04109 Leipzig, Germany"
        assert f"ready for pickup at:\n\n{place}" in reply
        assert "Opening hours: Mo–So 00:00–24:00\nPlease collect it by Tue 8 Dec." in reply
        assert shipment_json(shipment)["pickup"] == {
            "type": "locker",
            "name": "DHL Packstation 152",
            "address": {
                "name": "",
                "company": "",
                "line1": "Brühl 1",
                "line2": "",
                "zip_code": "04109",
                "city": "Leipzig",
                "province": "",
                "country": "Germany",
                "country_code": "DE",
                "phone": "",
            },
            "url": "https://www.dhl.de/de/privatkunden/dhl-standorte-finden.html",
            "opening_hours": "Mo–So 00:00–24:00",
            "until": "2026-12-08T18:00:00+00:00",
            "pickup_time": None,
        }

    def test_without_pickup_the_event_s_pickup_point_is_used(self):
        (shipment,) = order_of("order_pickup_from_event_info.json").shipments
        assert shipment.pickup.name == "DHL Packstation 152"
        assert shipment.pickup.opening_hours == "Mo-So 00:00-24:00"
        reply = reply_text(shipment)
        assert "ready for pickup at:\n\nDHL Packstation 152\n" in reply
        assert "Opening hours: Mo-So 00:00-24:00" in reply

    def test_additional_info_is_kept(self):
        (shipment,) = order_of("order_pickup_locker.json").shipments
        info = shipment_json(shipment)["last_event"]["additional_info"]
        assert info["pickup_point"] == "DHL Packstation 152"
        assert info["pickup_opening_hours"] == {"Mo-So": "00:00-24:00"}
        assert info["pickup_time"] == "2026-12-01T09:15:00+00:00"


class TestHermesAndDiscounts:
    def test_hrs_is_hermes(self):
        order = order_of("order_hermes_delivered_discounts.json")
        (shipment,) = order.shipments
        assert shipment.carrier_name == "Hermes"
        assert "Hermes H1003456789012" in card(order)
        reply = reply_text(order)
        assert "Your order 1005 has been delivered." in reply
        assert "Hermes, tracking number H1003456789012: Delivered." in reply
        assert shipment_json(shipment)["carrier"] == {"reference": "hrs", "name": "Hermes"}

    def test_a_percentage_is_a_percentage_and_an_amount_is_money(self):
        order = order_of("order_hermes_delivered_discounts.json")
        percent, amount = order.discounts
        assert percent.is_percentage and percent.amount == Decimal("10.0")
        assert not amount.is_percentage
        text = card(order)
        assert "WELCOME10 (10%)" in text
        assert "SHIPFREE (€4.95)" in text
        assert order_json(order)["discounts"] == [
            {"code": "WELCOME10", "type": "percentage", "amount": None, "percentage": "10.0"},
            {
                "code": "SHIPFREE",
                "type": "fixed_amount",
                "amount": {"amount": "4.95", "currency": "EUR"},
                "percentage": None,
            },
        ]

    def test_a_delivery_message_is_shown(self):
        (shipment,) = order_of("order_hermes_delivered_discounts.json").shipments
        assert "Delivered to the neighbour, Mr. Krause" in card(shipment, action="shipment")
        assert "Left at Krause (Neighbour)" in card(shipment, action="shipment")

    def test_an_iso_date_eta_is_a_date(self):
        (shipment,) = order_of("order_hermes_delivered_discounts.json").shipments
        assert shipment.eta.start == date(2026, 11, 24)
        assert shipment.eta.text == ""


class TestDelayWindow:
    def test_the_window_wins_over_the_predicted_moment_and_shows_in_local_days(self):
        order = order_of("order_delayed_window.json")
        (shipment,) = order.shipments
        assert shipment.status is ShipmentStatus.DELAYED
        assert shipment.eta.start == datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
        assert shipment.eta.end == datetime(2026, 12, 5, 18, 0, tzinfo=UTC)
        assert "Estimated delivery: Thu 3 Dec – Sat 5 Dec" in card(order)  # (spaces collapsed)
        with timezone.override("Europe/Berlin"):
            reply = reply_text(order)
        # Babel's interval: thin spaces around the dash, as CLDR writes it for en_GB
        window = "Thu 3 Dec\u2009–\u2009Sat 5 Dec"
        assert f"running late. The expected delivery is now {window}." in reply
        assert shipment_json(shipment)["estimated_delivery"] == {
            "from": "2026-12-03T08:00:00+00:00",
            "to": "2026-12-05T18:00:00+00:00",
            "text": None,
            "language": "en",
        }
        assert order_json(order)["attention"] == "delayed"


class TestOrderStatus:
    def test_cancelled_only_from_gokarla_s_cancel_event(self):
        order = order_of("order_cancelled_event.json")
        assert order.status is OrderStatus.CANCELLED
        assert "has been cancelled" in reply_text(order)

    def test_an_unknown_carrier_code_is_shown_as_it_is(self):
        (shipment,) = order_of("order_cancelled_event.json").shipments
        assert shipment.carrier_name == "newcarrier"

    def test_a_draft_shipment_makes_the_order_partially_fulfilled(self):
        order = order_of("order_partial_with_draft.json")
        assert order.status is OrderStatus.PARTIALLY_FULFILLED
        assert order.draft_shipment_ids == ("e7f8091a-2b3c-4d4d-87e8-f90a1b2c3d4e",)
        assert order.shipments[0].carrier_name == "GLS"
        assert "Partially fulfilled: 1 of 2 shipments" in card(order)

    def test_a_minimal_order_is_placed_in_eur(self):
        order = order_of("order_minimal.json")
        assert order.status is OrderStatus.PLACED
        assert order.currency == "EUR"
        assert order_json(order)["shipping_address"]["city"] == "Wien"

"""The GoKarla sandbox, observed the way a client observes it: over real HTTP.

The sandbox must serve the documented GoKarla API (/work/shared/gokarla-api.md) and nothing
more, so every shape is checked field by field against the documented field lists below.
These tests only read: they share the session's ``sandbox``. Tests that need fresh state
(err-flaky's alternation), another option (envelope, latency, a request log) or a process
(``runsandbox``) start their own; the ones that change data are in test_sandbox_webhooks.py.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from sandbox.server import SandboxServer, make_server
from sandbox.shapes import berlin_time

DEMO = ("demo-shop", "karla-demo-token")
OUTLET = ("demo-outlet", "karla-outlet-token")
POPUP = ("demo-popup", "karla-popup-token")
VIEWER = ("demo-shop-viewer", "karla-viewer-token")
SHOPS = (("demo-shop", DEMO), ("demo-outlet", OUTLET), ("demo-popup", POPUP))
JANE = "jane@example.com"
# The documented draft shipments (sandbox.data): order 1002's, and 1003's back-ordered jacket.
DRAFT_1002 = "5c76cf4e-f62f-47c2-bcd4-722953d5582a"
DRAFT_1003 = "cf6bf46d-6d6b-4529-a3e3-aa85929d550e"
SHIPMENT_1001 = "e0e3e61a-1d53-4c56-a79c-39b10b40942f"  # documented in sandbox.data
PREFIXES = ("/api/v1", "/v1")
ROOT = Path(__file__).resolve().parent.parent

# --- the documented shapes (gokarla-api.md; field types from GoKarla's SDK models) -----------

ISO = "an ISO 8601 date-time with offset"
UUID = "a UUID"
NUMBER = (int, float)
TEXT = (str,)
OPTIONAL_TEXT = (str, type(None))

# gokarla-api.md "Order"
ORDER = {
    "uuid": UUID, "order_number": TEXT, "order_name": TEXT, "external_id": TEXT,
    "merchant_slug": TEXT, "order_placed_at": ISO, "total_order_price": NUMBER,
    "sub_total_price": NUMBER, "shipping_price": NUMBER, "discount_price": NUMBER,
    "currency": TEXT, "email_id": TEXT, "address": (dict,), "products": (list,),
    "discounts": (list,), "segments": (list,), "weight": NUMBER, "trackings": (list,),
}  # fmt: skip
# gokarla-api.md "Order": Address (all optional)
ADDRESS = dict.fromkeys(
    ("name", "company", "street", "address_line_1", "address_line_2", "city", "zip_code",
     "province", "province_code", "country", "country_code", "phone"),
    OPTIONAL_TEXT,
)  # fmt: skip
# gokarla-api.md "Order": Product (weight in grams); a tracking lists ProductSchema, the same
# without shipment_id and type.
PRODUCT = {
    "title": TEXT, "quantity": (int,), "price": NUMBER, "size": OPTIONAL_TEXT, "sku": TEXT,
    "weight": NUMBER, "images": (list,), "tax_lines": (list,), "bundled_products": (list,),
    "shipment_id": OPTIONAL_TEXT, "type": TEXT,
}  # fmt: skip
IMAGE = {"src": TEXT, "alt": OPTIONAL_TEXT}  # images[] (src, alt)
TAX_LINE = {"title": TEXT, "rate": NUMBER, "price": NUMBER, "currency": TEXT}  # SDK TaxLineSchema
# gokarla-api.md "Order": Discount (amount is a string)
DISCOUNT = {"code": TEXT, "amount": TEXT, "type": TEXT}
# gokarla-api.md "Tracking", plus the expected_delivery window "some documents also describe"
TRACKING = {
    "id": UUID, "merchant_id": UUID, "merchant_slug": TEXT, "order_id": UUID,
    "order_number": TEXT, "events": (list,), "estimated_arrival": (dict, type(None)),
    "carrier": (dict,), "state": TEXT, "flag": TEXT, "pickup": (dict, type(None)),
    "updated_at": ISO, "products": (list,), "expected_delivery": (dict,),
}  # fmt: skip
CARRIER = {"tracking_number": TEXT, "carrier_reference": TEXT, "tracking_url": TEXT}
CARRIER_CODES = frozenset({
    "amz", "brt", "depost", "dhl", "dhlexp", "dhl_old", "dhl2man", "dpd", "dpdn", "dpduk", "gls",
    "gls_es", "goexp", "hrs", "postat", "rhe", "royalmail", "swisspost", "ups", "bpost", "dao",
    "anpost", "bring", "posti", "postnl_inter", "usps", "fedex", "postnord", "parcelone",
    "dachser", "asendia_de",
})  # fmt: skip
STATES = frozenset({"pending", "transit", "collect", "delivered", "archived", "returned"})
FLAGS = frozenset({"normal", "delay", "error"})
ESTIMATED_ARRIVAL = {"time_prediction": TEXT, "language": TEXT}
EXPECTED_DELIVERY = {"from": ISO, "to": ISO}
PICKUP = {
    "type": TEXT, "name": TEXT, "address": (dict,), "url": OPTIONAL_TEXT,
    "opening_hours": OPTIONAL_TEXT, "date_to": ISO,
}  # fmt: skip
PICKUP_TYPES = frozenset({"shop", "neighbor", "locker", "letterbox"})
# gokarla-api.md "Tracking": Event (time optional; location an object)
EVENT = {
    "event_key": TEXT, "phase": TEXT, "time": ISO, "timezone": TEXT, "location": (dict,),
    "additional_info": (dict, type(None)), "event_strings": (dict,), "language": TEXT,
}  # fmt: skip
EVENT_REQUIRED = frozenset(EVENT) - {"time"}
EVENT_STRINGS = dict.fromkeys(
    ["event_status", "list_label", "header_headline", "header_title", "header_subtitle"], TEXT
)
ADDITIONAL_INFO = {
    "pickup_point": TEXT, "pickup_point_url": TEXT, "pickup_time": ISO,
    "pickup_opening_hours": (dict,), "mail_message": TEXT, "merchant_name": TEXT,
    "preferred_delivery_date": ISO, "date": ISO,
}  # fmt: skip
# The location's shape is not documented; the sandbox uses these keys (sandbox.shapes.place).
LOCATION = {"name": TEXT, "city": TEXT, "zip_code": TEXT, "country_code": TEXT}
PHASES = frozenset({
    "order_created", "order_processed", "in_transit", "in_delivery", "collect", "delivered",
    "delivery_failed", "return_created", "return_transit", "return_received", "return_failed",
    "returned",
})  # fmt: skip
LANGUAGES = frozenset({"en", "de", "it", "fr", "es", "nl", "dk"})
# gokarla-api.md operations table: GET /v1/shops/{slug}
SHOP = {
    "uuid": UUID, "slug": TEXT, "name": TEXT, "organization": TEXT, "language": TEXT,
    "logo_url": TEXT, "shop_url": TEXT, "shop_provider": TEXT, "created_at": ISO,
    "updated_at": ISO,
}  # fmt: skip
# SDK WebhookDTO (gokarla-api.md "Webhooks")
WEBHOOK = {
    "uuid": UUID, "enabled_events": (list,), "secret": TEXT, "description": OPTIONAL_TEXT,
    "status": TEXT, "url": TEXT, "created_at": ISO, "updated_at": ISO, "merchant_slug": TEXT,
}  # fmt: skip
# gokarla-api.md "Conventions": the error body; its entries are the SDK's ValidationErrorDTO.
ERROR = {"errors": (list,), "key": TEXT, "message": TEXT, "type": TEXT}
ERROR_ENTRY = {"loc": (list,), "msg": TEXT, "field": OPTIONAL_TEXT, "type": TEXT}


def at(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() is not None, f"{text} has no offset"
    return moment


def assert_fields(value: Any, spec: dict[str, Any], where: str, required: Any = ()) -> None:
    """``value`` is an object with only ``spec``'s keys, each of its documented type."""
    assert isinstance(value, dict), f"{where}: not an object: {value!r}"
    assert set(value) <= set(spec), f"{where}: undocumented {sorted(set(value) - set(spec))}"
    assert set(required) <= set(value), f"{where}: missing {sorted(set(required) - set(value))}"
    for name, item in value.items():
        field, expected = f"{where}.{name}", spec[name]
        if expected == ISO:
            assert isinstance(item, str), f"{field}: {item!r}"
            at(item)
        elif expected == UUID:
            assert isinstance(item, str) and uuid.UUID(item).version == 4, f"{field}: {item!r}"
        else:
            assert isinstance(item, expected) and not isinstance(item, bool), f"{field}: {item!r}"


def assert_order(order: dict, where: str = "order") -> None:
    where = f"{where} {order.get('order_number')}"
    assert_fields(order, ORDER, where, required=ORDER)
    assert_fields(order["address"], ADDRESS, f"{where}.address")
    for item in order["products"]:
        assert_product(item, f"{where}.products", line_item=True)
    for discount in order["discounts"]:
        assert_fields(discount, DISCOUNT, f"{where}.discounts", required=("code",))
    assert all(isinstance(segment, str) for segment in order["segments"])
    for tracking in order["trackings"]:
        assert_tracking(tracking, f"{where}.trackings")
        assert (tracking["order_id"], tracking["order_number"]) == (
            order["uuid"],
            order["order_number"],
        )
        assert tracking["merchant_slug"] == order["merchant_slug"]


def assert_product(item: dict, where: str, *, line_item: bool) -> None:
    spec = (
        PRODUCT
        if line_item
        else {k: v for k, v in PRODUCT.items() if k not in ("shipment_id", "type")}
    )
    assert_fields(item, spec, where, required=spec)
    for image in item["images"]:
        assert_fields(image, IMAGE, f"{where}.images", required=("src",))
    for line in item["tax_lines"]:
        assert_fields(line, TAX_LINE, f"{where}.tax_lines")
    assert item["bundled_products"] == []


def assert_tracking(tracking: dict, where: str = "tracking", *, draft: bool = False) -> None:
    required = set(TRACKING) - {"expected_delivery"} - ({"carrier"} if draft else set())
    assert_fields(tracking, TRACKING, where, required=required)
    assert tracking["state"] in STATES and tracking["flag"] in FLAGS
    if not draft:
        required = ("tracking_number", "carrier_reference")
        assert_fields(tracking["carrier"], CARRIER, f"{where}.carrier", required=required)
        assert tracking["carrier"]["carrier_reference"] in CARRIER_CODES
    if tracking["estimated_arrival"] is not None:
        assert_fields(
            tracking["estimated_arrival"], ESTIMATED_ARRIVAL, f"{where}.eta", ESTIMATED_ARRIVAL
        )
        assert tracking["estimated_arrival"]["language"] in LANGUAGES
    if "expected_delivery" in tracking:
        assert_fields(
            tracking["expected_delivery"], EXPECTED_DELIVERY, f"{where}.expected_delivery"
        )
    if tracking["pickup"] is not None:
        assert_pickup(tracking["pickup"], f"{where}.pickup")
    assert tracking["events"], f"{where}: no events"
    for event in tracking["events"]:
        assert_event(event, f"{where}.events")
    times = [at(event["time"]) for event in tracking["events"] if "time" in event]
    assert times == sorted(times), f"{where}: events are not oldest first"
    for item in tracking["products"]:
        assert_product(item, f"{where}.products", line_item=False)


def assert_pickup(pickup: dict, where: str) -> None:
    assert_fields(pickup, PICKUP, where, required=("name",))
    assert pickup.get("type") in PICKUP_TYPES
    if "address" in pickup:
        assert_fields(pickup["address"], ADDRESS, f"{where}.address")


def assert_event(event: dict, where: str) -> None:
    where = f"{where} {event.get('event_key')}"
    assert_fields(event, EVENT, where, required=EVENT_REQUIRED)
    assert event["phase"] in PHASES and event["language"] in LANGUAGES
    assert_fields(event["event_strings"], EVENT_STRINGS, f"{where}.event_strings", EVENT_STRINGS)
    assert_fields(event["location"], LOCATION, f"{where}.location")
    if event["additional_info"] is not None:
        assert_fields(event["additional_info"], ADDITIONAL_INFO, f"{where}.additional_info")
        hours = event["additional_info"].get("pickup_opening_hours", {})
        assert all(isinstance(v, str) for v in [*hours, *hours.values()])


# --- requests ---------------------------------------------------------------------------------


def get(
    server: SandboxServer,
    path: str,
    *,
    auth: Any = DEMO,
    prefix: str = "/api/v1",
    session: requests.Session | None = None,
    timeout: Any = 10,
    headers: dict[str, str] | None = None,
    **params: Any,
) -> requests.Response:
    """GET ``{prefix}{path}``; ``auth`` is a (username, token) pair, a raw header or None."""
    headers = dict(headers or {})
    if isinstance(auth, str):
        headers["Authorization"] = auth
    basic = auth if isinstance(auth, tuple) else None
    return (session or requests).get(
        f"{server.url}{prefix}{path}",
        params=params,
        auth=basic,
        headers=headers,
        timeout=timeout,
        allow_redirects=False,
    )


def search(server: SandboxServer, shop: str = "demo-shop", auth: Any = DEMO, **params: Any):
    response = get(server, f"/shops/{shop}/orders", auth=auth, **params)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    return response.json()


def numbers(orders: list[dict]) -> list[str]:
    return [order["order_number"] for order in orders]


def all_orders(server: SandboxServer, shop: str = "demo-shop", auth: Any = DEMO, **params):
    orders, page = [], 1
    while True:
        batch = search(server, shop, auth, per_page=100, page=page, **params)
        orders += batch
        if len(batch) < 100:
            return orders
        page += 1


def the_order(server: SandboxServer, number: str, shop: str = "demo-shop", auth: Any = DEMO):
    found = search(server, shop, auth, order_number=number)
    assert numbers(found) == [number]
    return found[0]


def the_tracking(order: dict) -> dict:
    assert len(order["trackings"]) == 1
    return order["trackings"][0]


def assert_gokarla_error(response: requests.Response, status: int, key: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert_fields(body, ERROR, "error", required=ERROR)
    assert body["key"] == key
    assert body["type"] == ("api_error" if status >= 500 else "invalid_request_error")
    [entry] = body["errors"]
    assert_fields(entry, ERROR_ENTRY, "error.errors", required=ERROR_ENTRY)


def assert_422(response: requests.Response, *expected: tuple[list, str]) -> list[dict]:
    """FastAPI's 422: ``detail`` entries {loc, msg, type, input}, with these locs and types."""
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == "application/json"
    detail = response.json()["detail"]
    for entry in detail:
        assert set(entry) == {"loc", "msg", "type", "input"} and entry["msg"]
    assert [(entry["loc"], entry["type"]) for entry in detail] == list(expected)
    return detail


def assert_not_found_route(response: requests.Response) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.content == b'{"detail":"Not Found"}'


@pytest.fixture
def own_sandbox() -> Iterator[SandboxServer]:
    """A sandbox of this test's own, for state that must start fresh."""
    with make_server().start() as server:
        yield server


# --- shapes -----------------------------------------------------------------------------------


class TestShapes:
    @pytest.mark.parametrize("language", ["en", "de"])
    @pytest.mark.parametrize(("shop", "auth"), SHOPS)
    def test_every_order_has_only_documented_fields(self, sandbox, shop, auth, language):
        orders = all_orders(sandbox, shop, auth, headers={"Accept-Language": language})
        assert orders
        for order in orders:
            assert_order(order)
            assert order["merchant_slug"] == shop
            events = [event for t in order["trackings"] for event in t["events"]]
            assert {event["language"] for event in events} <= {language}

    def test_no_top_level_phase_and_no_cancellation_field(self, sandbox):
        orders = all_orders(sandbox)
        assert all("cancelled_at" not in order for order in orders)
        assert all("phase" not in t for order in orders for t in order["trackings"])

    def test_the_generated_data_covers_every_documented_variant(self, sandbox):
        orders = all_orders(sandbox)
        trackings = [t for order in orders for t in order["trackings"]]
        events = [event for t in trackings for event in t["events"]]
        assert {t["carrier"]["carrier_reference"] for t in trackings} == CARRIER_CODES
        assert {t["state"] for t in trackings} == STATES - {"pending"}
        assert {t["flag"] for t in trackings} == FLAGS
        assert {t["pickup"]["type"] for t in trackings if t["pickup"]} == PICKUP_TYPES
        assert {event["phase"] for event in events} >= PHASES - {"return_failed"}
        assert any("tracking_url" not in t["carrier"] for t in trackings), "it is optional"
        assert any("time" not in event for event in events), "so is an event's time"
        assert any(event["location"] == {} for event in events)
        assert any(set(event["location"]) == {"city"} for event in events)
        assert any("name" in event["location"] for event in events)
        assert {d["type"] for order in orders for d in order["discounts"]} == {
            "percentage",
            "fixed_amount",
        }
        etas = [t["estimated_arrival"] for t in trackings]
        assert None in etas
        assert {eta["language"] for eta in etas if eta} == {"en", "de"}

    def test_updated_at_is_the_newest_timed_event(self, sandbox):
        for order in all_orders(sandbox):
            for tracking in order["trackings"]:
                timed = [event["time"] for event in tracking["events"] if "time" in event]
                assert at(tracking["updated_at"]) == at(timed[-1])

    def test_state_and_flag_agree_with_the_newest_event(self, sandbox):
        for order in all_orders(sandbox):
            for tracking in order["trackings"]:
                phase = tracking["events"][-1]["phase"]
                assert (tracking["flag"] == "error") == (phase == "delivery_failed")
                if tracking["state"] in ("delivered", "archived"):
                    assert phase in ("delivered", "return_created")
                if tracking["state"] == "collect":
                    assert phase == "collect"

    def test_products_weigh_grams_and_orders_add_them_up(self, sandbox):
        for order in all_orders(sandbox):
            weights = [item["weight"] * item["quantity"] for item in order["products"]]
            assert order["weight"] == sum(weights)
            assert all(
                isinstance(item["weight"], int) and item["weight"] >= 50
                for item in order["products"]
            )

    @pytest.mark.parametrize(("shop", "auth"), SHOPS)
    def test_the_shop_object(self, sandbox, shop, auth):
        response = get(sandbox, f"/shops/{shop}", auth=auth)
        assert response.status_code == 200
        body = response.json()
        assert_fields(body, SHOP, "shop", required=SHOP)
        assert body["slug"] == shop

    def test_trackings_carry_the_shops_uuid_as_merchant_id(self, sandbox):
        shop = get(sandbox, "/shops/demo-shop").json()
        assert the_tracking(the_order(sandbox, "1001"))["merchant_id"] == shop["uuid"]


# --- anchors ----------------------------------------------------------------------------------

WEEKDAYS_DE = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
MONTHS_DE = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
             "September", "Oktober", "November", "Dezember")  # fmt: skip


def german_day(moment: datetime) -> str:
    local = moment.astimezone(ZoneInfo("Europe/Berlin"))
    return f"{WEEKDAYS_DE[local.weekday()]}, {local.day}. {MONTHS_DE[local.month - 1]}"


class TestAnchorOrders:
    def test_1001_is_in_transit_with_dhl_for_jane_in_berlin(self, sandbox):
        order = the_order(sandbox, "1001")
        assert (order["order_name"], order["email_id"]) == ("#1001", JANE)
        assert (order["address"]["name"], order["address"]["city"]) == ("Jane Doe", "Berlin")
        assert len(order["products"]) >= 2
        tracking = the_tracking(order)
        assert tracking["carrier"]["carrier_reference"] == "dhl"
        assert tracking["carrier"]["tracking_number"] == "00340434161094042557"
        assert "00340434161094042557" in tracking["carrier"]["tracking_url"]
        assert (tracking["id"], tracking["state"]) == (SHIPMENT_1001, "transit")
        events = tracking["events"]
        assert len(events) >= 3
        keys = [event["event_key"] for event in events]
        untimed = [event["event_key"] for event in events if "time" not in event]
        assert untimed == ["ORDER_IN_PROCESSING"]
        assert 0 < keys.index("ORDER_IN_PROCESSING") < len(keys) - 1, "in the middle"
        assert keys[-1] == "DEPARTURE_FROM_TRANSPORT_HUB"
        assert at(events[-1]["time"]) == sandbox.started_at - timedelta(hours=2)

    def test_1001s_eta_is_german_text_for_two_days_after_the_start(self, sandbox):
        eta = the_tracking(the_order(sandbox, "1001"))["estimated_arrival"]
        day = german_day(sandbox.started_at + timedelta(days=2))
        assert eta == {
            "time_prediction": f"{day}, zwischen 10:00 und 14:00 Uhr",
            "language": "de",
        }
        [german] = search(sandbox, order_number="1001", headers={"Accept-Language": "de"})
        assert the_tracking(german)["estimated_arrival"] == eta, "GoKarla's text, untranslated"

    def test_the_german_day_is_berlins_across_daylight_saving(self):
        start = datetime(2026, 1, 1, tzinfo=UTC)
        for hour in range(0, 2 * 365 * 24, 7):
            moment = start + timedelta(hours=hour)
            expected = moment.astimezone(ZoneInfo("Europe/Berlin")).replace(tzinfo=None)
            assert berlin_time(moment).replace(tzinfo=None) == expected, moment

    def test_1002_is_placed_with_a_draft_shipment_only(self, sandbox):
        order = the_order(sandbox, "1002")
        assert order["trackings"] == []
        assert {item["shipment_id"] for item in order["products"]} == {DRAFT_1002}

    def test_1003_is_partially_fulfilled(self, sandbox):
        order = the_order(sandbox, "1003")
        tracking = the_tracking(order)
        assert {item["shipment_id"] for item in order["products"]} == {tracking["id"], DRAFT_1003}
        assert (tracking["carrier"]["carrier_reference"], tracking["state"]) == ("dpd", "delivered")
        jacket = [item["sku"] for item in order["products"] if item["shipment_id"] == DRAFT_1003]
        assert jacket == ["KS-RAI-JKT-M"]

    def test_1004_is_placed_and_unshipped(self, sandbox):
        order = the_order(sandbox, "1004")
        assert order["trackings"] == []

    def test_1005_is_delivered_to_jane_by_hermes_with_a_percentage_discount(self, sandbox):
        order = the_order(sandbox, "1005")
        assert order["email_id"] == JANE
        tracking = the_tracking(order)
        assert tracking["carrier"]["carrier_reference"] == "hrs"
        assert re.fullmatch(r"\d{14}", tracking["carrier"]["tracking_number"])
        assert tracking["state"] == "delivered"
        assert tracking["events"][-1]["event_key"] == "SUCCESSFULLY_DELIVERED"
        assert order["discounts"] == [{"code": "WELCOME10", "amount": "10.0", "type": "percentage"}]
        assert order["discount_price"] == round(order["sub_total_price"] * 0.10, 2)
        total = order["sub_total_price"] + order["shipping_price"] - order["discount_price"]
        assert order["total_order_price"] == round(total, 2)

    def test_1006_is_delayed_with_ups_an_iso_eta_and_a_window(self, sandbox):
        tracking = the_tracking(the_order(sandbox, "1006"))
        assert tracking["carrier"]["carrier_reference"] == "ups"
        assert tracking["carrier"]["tracking_number"] == "1Z999AA10123456784"
        assert tracking["flag"] == "delay"
        eta = tracking["estimated_arrival"]
        assert eta["language"] == "en"
        assert at(eta["time_prediction"]) > sandbox.started_at
        window = tracking["expected_delivery"]
        assert sandbox.started_at < at(window["from"]) < at(window["to"])

    def test_1007_delivery_failed_with_a_notice(self, sandbox):
        tracking = the_tracking(the_order(sandbox, "1007"))
        assert (tracking["carrier"]["carrier_reference"], tracking["flag"]) == ("gls", "error")
        last = tracking["events"][-1]
        assert (last["event_key"], last["phase"]) == ("DELIVERY_ATTEMPTED", "delivery_failed")
        assert set(last["additional_info"]) == {"mail_message"}

    def test_1011_waits_at_a_dhl_packstation(self, sandbox):
        tracking = the_tracking(the_order(sandbox, "1011"))
        assert tracking["state"] == "collect"
        last = tracking["events"][-1]
        assert (last["event_key"], last["phase"]) == ("READY_FOR_COLLECTION", "collect")
        assert last["location"] == {
            "name": "DHL Packstation 152",
            "city": "Leipzig",
            "zip_code": "04109",
            "country_code": "DE",
        }
        info = last["additional_info"]
        assert info["pickup_point"] == "DHL Packstation 152"
        assert info["pickup_point_url"].startswith("https://")
        assert info["pickup_opening_hours"] == {"Mo-So": "00:00-24:00"}
        pickup = tracking["pickup"]
        assert (pickup["type"], pickup["name"]) == ("locker", "DHL Packstation 152")
        expected = {"street": "Brühl 1", "zip_code": "04109", "city": "Leipzig"}
        assert expected.items() <= pickup["address"].items()
        assert (pickup["address"]["country"], pickup["address"]["country_code"]) == (
            "Germany",
            "DE",
        )
        assert pickup["opening_hours"] == "Mo–So 00:00–24:00"
        assert at(pickup["date_to"]) == sandbox.started_at + timedelta(days=6)

    def test_2001_of_the_outlet_is_in_transit_with_deutsche_post(self, sandbox):
        order = the_order(sandbox, "2001", "demo-outlet", OUTLET)
        tracking = the_tracking(order)
        assert tracking["carrier"]["carrier_reference"] == "depost"
        assert tracking["carrier"]["tracking_number"] == "RR123456785DE"
        assert tracking["state"] == "transit"
        assert numbers(all_orders(sandbox, "demo-outlet", OUTLET)) == ["2001", "2002"]

    def test_the_popup_shop_has_a_placed_order(self, sandbox):
        assert the_order(sandbox, "3001", "demo-popup", POPUP)["trackings"] == []


class TestGeneratedOrders:
    def test_three_hundred_over_the_last_60_days_from_5001(self, sandbox):
        orders = all_orders(sandbox)
        generated = [order for order in orders if int(order["order_number"]) >= 5001]
        assert len(generated) >= 300
        assert numbers(generated)[0] == "5001"
        placed = [at(order["order_placed_at"]) for order in generated]
        assert placed == sorted(placed)
        assert min(placed) >= sandbox.started_at - timedelta(days=60)
        assert max(placed) <= sandbox.started_at

    def test_a_realistic_mix(self, sandbox):
        generated = [o for o in all_orders(sandbox) if int(o["order_number"]) >= 5001]
        shipments = Counter(len(order["trackings"]) for order in generated)
        assert shipments[0] >= 10 and shipments[2] >= 3 and shipments[1] > 200
        emails = Counter(order["email_id"] for order in generated)
        assert 40 <= len(emails) <= 70
        assert max(emails.values()) >= 3, "customers order again"
        names = {}
        for order in generated:
            names.setdefault(order["email_id"], set()).add(order["address"]["name"])
        assert any(len(people) > 1 for people in names.values()), "a shared mailbox"
        assert {order["currency"] for order in generated} >= {"EUR", "GBP", "CHF"}

    def test_tracking_numbers_are_unique_in_every_shop(self, sandbox):
        everything = [
            t["carrier"]["tracking_number"]
            for shop, auth in SHOPS
            for order in all_orders(sandbox, shop, auth)
            for t in order["trackings"]
        ]
        assert len(everything) == len(set(everything))

    def test_the_catalog_offers_the_tracking_numbers_to_the_bench(self, sandbox):
        shop = sandbox.api.catalog.shops["demo-shop"]
        assert "00340434161094042557" in shop.shipments_by_tracking_number
        assert [json.loads(body)["order_number"] for body in shop.orders[:2]] == ["1001", "1002"]
        raw = sandbox.api.catalog.orders["demo-shop"]
        assert raw[0]["order_number"] == "1001" and len(raw) == len(shop.orders)

    def test_a_benchmark_can_ask_for_more_orders(self, sandbox):
        with make_server(generated_orders=2000).start() as big:
            orders = all_orders(big)
            again = all_orders(big)
        generated = [order for order in orders if int(order["order_number"]) >= 5001]
        assert numbers(generated) == [str(number) for number in range(5001, 7001)]
        assert orders == again
        assert numbers(orders)[:3] == ["1001", "1002", "1003"]  # the anchors stay
        trackings = [t["carrier"]["tracking_number"] for o in orders for t in o["trackings"]]
        assert len(trackings) == len(set(trackings)) > 1500
        placed = [at(order["order_placed_at"]) for order in generated]
        assert min(placed) >= big.started_at - timedelta(days=60)
        # The default stays what the demo and the other tests know.
        assert len(all_orders(sandbox)) == len(sandbox.api.catalog.orders["demo-shop"]) < 400

    def test_runsandbox_serves_the_orders_asked_for(self):
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runsandbox", "--port", "0", "--generated-orders", "0"],
            cwd=ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            url = process.stdout.readline().split("listening on ", 1)[1].split()[0]
            response = requests.get(
                f"{url}/v1/shops/demo-shop/orders", params={"per_page": 100}, auth=DEMO, timeout=5
            )
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        assert all(int(order["order_number"]) < 5001 for order in response.json())
        assert "1001" in numbers(response.json())


# --- searching and paging ---------------------------------------------------------------------


class TestSearch:
    def test_email_finds_both_of_janes_orders_ignoring_case(self, sandbox):
        for email in (JANE, "Jane@Example.COM"):
            assert numbers(search(sandbox, email_id=email)) == ["1001", "1005"]

    @pytest.mark.parametrize("field", ["order_name", "uuid", "external_id", "order_number"])
    def test_each_exact_filter_finds_the_order(self, sandbox, field):
        order = the_order(sandbox, "1001")
        assert search(sandbox, **{field: order[field]}) == [order]

    def test_uuid_ignores_case(self, sandbox):
        order = the_order(sandbox, "1006")
        assert numbers(search(sandbox, uuid=order["uuid"].upper())) == ["1006"]

    def test_zip_code(self, sandbox):
        assert numbers(search(sandbox, zip_code="10119")) == ["1001", "1005"]

    def test_filters_combine(self, sandbox):
        assert numbers(search(sandbox, email_id=JANE, order_number="1005")) == ["1005"]
        assert search(sandbox, email_id=JANE, order_number="1002") == []

    @pytest.mark.parametrize(
        "params", [{"order_number": "9999"}, {"order_name": "1001"}, {"order_number": ""}]
    )
    def test_no_match_is_an_empty_list(self, sandbox, params):
        assert search(sandbox, **params) == []

    def test_orders_belong_to_their_shop(self, sandbox):
        assert search(sandbox, order_number="2001") == []
        assert search(sandbox, "demo-outlet", OUTLET, order_number="1001") == []

    def test_placed_from_and_to(self, sandbox):
        start = sandbox.started_at
        recent = all_orders(sandbox, order_placed_from=(start - timedelta(days=2)).isoformat())
        assert recent and all(at(o["order_placed_at"]) >= start - timedelta(days=2) for o in recent)
        assert "1002" in numbers(recent) and "1005" not in numbers(recent)
        window = all_orders(
            sandbox,
            order_placed_from=(start - timedelta(days=10)).isoformat(),
            order_placed_to=(start - timedelta(days=8)).isoformat(),
        )
        assert "1005" in numbers(window) and "1001" not in numbers(window)
        boundary = start - timedelta(days=2)
        older = all_orders(sandbox, order_placed_to=boundary.isoformat())
        assert set(numbers(recent)) | set(numbers(older)) == set(numbers(all_orders(sandbox)))
        on_it = {o["order_number"] for o in older if at(o["order_placed_at"]) == boundary}
        assert set(numbers(recent)) & set(numbers(older)) == on_it, "both bounds are inclusive"

    def test_dates_may_be_zulu_or_plain_dates(self, sandbox):
        day = (sandbox.started_at - timedelta(days=3)).date().isoformat()
        assert all_orders(sandbox, order_placed_from=day) == all_orders(
            sandbox, order_placed_from=f"{day}T00:00:00Z"
        )

    def test_shipment_updated_since(self, sandbox):
        start = sandbox.started_at
        since = all_orders(sandbox, shipment_updated_since=(start - timedelta(hours=3)).isoformat())
        assert "1001" in numbers(since)  # its newest scan: two hours ago
        assert "1005" not in numbers(since) and "1002" not in numbers(since)
        for order in since:
            assert any(
                at(t["updated_at"]) >= start - timedelta(hours=3) for t in order["trackings"]
            )
        assert all_orders(sandbox, shipment_updated_since=start.isoformat()) == []

    def test_both_prefixes_answer_alike(self, sandbox):
        for path in ("/shops/demo-shop", "/shops/demo-shop/orders?order_number=1001"):
            new, old = (get(sandbox, path, prefix=prefix) for prefix in PREFIXES)
            assert new.status_code == old.status_code == 200
            assert new.content == old.content

    @pytest.mark.parametrize(
        ("param", "value", "kind"),
        [
            ("uuid", "1001", "uuid_parsing"),
            ("uuid", "err-500", "uuid_parsing"),
            ("order_placed_from", "yesterday", "datetime_from_date_parsing"),
            ("order_placed_to", "2024-13-45T00:00:00", "datetime_from_date_parsing"),
            ("shipment_updated_since", "", "datetime_from_date_parsing"),
        ],
    )
    def test_an_invalid_uuid_or_date_is_422(self, sandbox, param, value, kind):
        response = get(sandbox, "/shops/demo-shop/orders", **{param: value})
        [error] = assert_422(response, (["query", param], kind))
        assert error["input"] == value
        if kind == "uuid_parsing":
            assert error["msg"].startswith("Input should be a valid UUID")


class TestPaging:
    def test_pages_cover_all_orders_in_order_number_order(self, sandbox):
        everything = numbers(all_orders(sandbox))
        assert everything[:7] == ["1001", "1002", "1003", "1004", "1005", "1006", "1007"]
        assert everything == sorted(everything, key=int)
        pages = [search(sandbox, page=page, per_page=40) for page in range(1, 10)]
        assert [o["order_number"] for page in pages for o in page] == everything
        assert search(sandbox, page=50, per_page=100) == []

    def test_default_page_size_is_30(self, sandbox):
        assert numbers(search(sandbox)) == numbers(search(sandbox, per_page=100))[:30]

    @pytest.mark.parametrize("path", ["/shops/demo-shop/orders", "/shops/demo-shop/webhooks"])
    @pytest.mark.parametrize(
        ("param", "value", "kind"),
        [
            ("per_page", "0", "greater_than_equal"),
            ("per_page", "101", "less_than_equal"),
            ("per_page", "ten", "int_parsing"),
            ("page", "0", "greater_than_equal"),
            ("page", "-1", "greater_than_equal"),
            ("page", "1.5", "int_parsing"),
            ("page", "", "int_parsing"),
        ],
    )
    def test_out_of_range_or_not_an_integer_is_422(self, sandbox, path, param, value, kind):
        assert_422(get(sandbox, path, **{param: value}), (["query", param], kind))

    def test_several_errors_come_together(self, sandbox):
        response = get(sandbox, "/shops/demo-shop/orders", page="x", per_page="0", uuid="no")
        assert_422(
            response,
            (["query", "page"], "int_parsing"),
            (["query", "per_page"], "greater_than_equal"),
            (["query", "uuid"], "uuid_parsing"),
        )


class TestLanguages:
    @pytest.mark.parametrize(
        ("header", "language"),
        [
            (None, "en"),
            ("de", "de"),
            ("de-DE,de;q=0.9,en;q=0.8", "de"),
            ("en-GB,en;q=0.9,de;q=0.5", "en"),
            ("fr", "en"),
            ("fr, de;q=0.5", "de"),
            ("*", "en"),
        ],
    )
    def test_event_strings_follow_accept_language(self, sandbox, header, language):
        headers = {"Accept-Language": header} if header else {}
        [order] = search(sandbox, order_number="1001", headers=headers)
        events = the_tracking(order)["events"]
        assert {event["language"] for event in events} == {language}
        departed = events[-1]["event_strings"]["list_label"]
        assert (
            departed == {"en": "Left the parcel centre", "de": "Paketzentrum verlassen"}[language]
        )

    def test_only_the_strings_differ(self, sandbox):
        [english] = search(sandbox, order_number="1011")
        [german] = search(sandbox, order_number="1011", headers={"Accept-Language": "de"})
        for event in (*the_tracking(english)["events"], *the_tracking(german)["events"]):
            event.pop("event_strings"), event.pop("language")
        assert english == german


# --- credentials and routes -------------------------------------------------------------------


class TestCredentials:
    @pytest.mark.parametrize(
        ("auth", "status", "key"),
        [
            (None, 400, "invalid_credentials"),
            ("Bearer karla-demo-token", 400, "invalid_credentials"),
            ("Basic !!not-base64!!", 400, "invalid_credentials"),
            (("demo-shop", "wrong-token"), 400, "invalid_credentials"),
            (("demo-shop", "karla-outlet-token"), 400, "invalid_credentials"),
            (("demo-shop", "karla-revoked-token"), 401, "api_key_revoked"),
            (("anyone", "karla-revoked-token"), 401, "api_key_revoked"),
            (("no-api-access", "whatever"), 403, "api_access_denied"),
            (OUTLET, 403, "shop_access_denied"),
        ],
    )
    def test_each_case_answers_gokarlas_error(self, sandbox, auth, status, key):
        for path in ("/shops/demo-shop", "/shops/demo-shop/orders", "/shops/demo-shop/webhooks"):
            assert_gokarla_error(get(sandbox, path, auth=auth), status, key)

    def test_unknown_shop_is_404_shop_not_found(self, sandbox):
        for path in ("/shops/no-such-shop", "/shops/no-such-shop/orders"):
            assert_gokarla_error(get(sandbox, path), 404, "shop_not_found")

    def test_credentials_come_before_validation_and_faults(self, sandbox):
        response = get(sandbox, "/shops/demo-shop/orders", auth=None, order_number="err-500")
        assert_gokarla_error(response, 400, "invalid_credentials")
        response = get(sandbox, "/shops/demo-shop/orders", auth=OUTLET, page="0")
        assert_gokarla_error(response, 403, "shop_access_denied")

    def test_the_viewer_key_reads(self, sandbox):
        assert get(sandbox, "/shops/demo-shop", auth=VIEWER).json()["slug"] == "demo-shop"
        assert numbers(search(sandbox, auth=VIEWER, order_number="1001")) == ["1001"]
        assert get(sandbox, "/shops/demo-shop/webhooks", auth=VIEWER).status_code == 200


class TestRoutesAndMethods:
    @pytest.mark.parametrize(
        "path",
        [
            "/api/v2/shops/demo-shop",
            "/api/v1/shops",
            "/api/v1/shops/demo-shop/returns",
            "/",
            "/v1/shops/demo-shop/orders/1001",
            # No shipment GET of any kind (gokarla-api.md): every old sandbox path is gone.
            f"/api/v1/shops/demo-shop/shipments/{DRAFT_1002}",
            "/v1/shops/demo-shop/shipments/00340434161094042557",
            "/api/v1/shops/demo-shop/shipments?tracking_number=00340434161094042557",
            "/v1/shops/demo-shop/shipments",
            "/api/v1/shops/demo-shop/trackings/00340434161094042557",
            f"/api/v1/shops/demo-shop/shipments/{DRAFT_1002}/events/1",
        ],
    )
    @pytest.mark.parametrize("auth", [DEMO, None])
    def test_unknown_routes_are_fastapis_404_before_credentials(self, sandbox, path, auth):
        assert_not_found_route(get(sandbox, path, prefix="", auth=auth))

    @pytest.mark.parametrize(
        ("method", "path", "allow"),
        [
            ("HEAD", "/shops/demo-shop", "GET"),
            ("PUT", "/shops/demo-shop", "GET"),
            ("OPTIONS", "/shops/demo-shop/orders", "GET"),
            ("POST", "/shops/demo-shop/orders", "GET"),
            ("DELETE", "/shops/demo-shop/webhooks", "GET, POST"),
            (
                "GET",
                "/shops/demo-shop/webhooks/7f0c1d5e-1111-4222-8333-944455556666",
                "PATCH, DELETE",
            ),
            ("GET", f"/shops/demo-shop/shipments/{DRAFT_1002}/events", "POST"),
        ],
    )
    def test_another_method_is_405_with_allow(self, sandbox, method, path, allow):
        response = requests.request(method, f"{sandbox.url}/v1{path}", timeout=5)
        assert response.status_code == 405
        assert response.headers["Allow"] == allow
        assert response.content == (b"" if method == "HEAD" else b'{"detail":"Method Not Allowed"}')

    def test_a_trailing_slash_redirects_as_fastapi_does(self, sandbox):
        response = get(sandbox, "/shops/demo-shop/orders/", order_number="1001")
        assert response.status_code == 307
        assert (
            response.headers["Location"]
            == f"{sandbox.url}/api/v1/shops/demo-shop/orders?order_number=1001"
        )

    def test_405_keeps_the_connection(self, sandbox):
        with requests.Session() as session:
            before = sandbox.connections_opened
            url = f"{sandbox.url}/api/v1/shops/demo-shop"
            assert session.head(url, auth=DEMO, timeout=5).status_code == 405
            assert session.post(url, auth=DEMO, json={"a": 1}, timeout=5).status_code == 405
            assert session.get(url, auth=DEMO, timeout=5).status_code == 200
            assert sandbox.connections_opened == before + 1


class TestEnvelope:
    def test_2xx_bodies_are_wrapped_errors_are_not(self):
        with make_server(envelope=True).start() as server:
            orders = get(server, "/shops/demo-shop/orders", per_page=5).json()
            assert set(orders) == {"data", "metadata"}
            assert orders["metadata"] == {"page": 1, "per_page": 5, "count": 5}
            assert numbers(orders["data"]) == ["1001", "1002", "1003", "1004", "1005"]
            empty = get(server, "/shops/demo-shop/orders", order_number="0").json()
            assert empty == {"data": [], "metadata": {"page": 1, "per_page": 30, "count": 0}}
            shop = get(server, "/shops/demo-shop").json()
            assert shop["data"]["slug"] == "demo-shop" and shop["metadata"] == {}
            hooks = get(server, "/shops/demo-shop/webhooks").json()
            assert hooks["data"] == []
            assert_gokarla_error(get(server, "/shops/nope"), 404, "shop_not_found")
            assert_422(
                get(server, "/shops/demo-shop/orders", page="0"),
                (["query", "page"], "greater_than_equal"),
            )


# --- fault triggers ---------------------------------------------------------------------------


def trigger(server: SandboxServer, value: str, **kwargs: Any) -> requests.Response:
    return get(server, "/shops/demo-shop/orders", order_number=value, **kwargs)


class TestFaults:
    def test_500(self, sandbox):
        assert_gokarla_error(trigger(sandbox, "err-500"), 500, "internal_server_error")

    def test_503_always(self, sandbox):
        for _ in range(2):
            assert_gokarla_error(trigger(sandbox, "err-503"), 503, "service_unavailable")

    def test_429_with_retry_after(self, sandbox):
        response = trigger(sandbox, "err-429")
        assert_gokarla_error(response, 429, "rate_limit_exceeded")
        assert response.headers["Retry-After"] == "2"

    def test_malformed_json(self, sandbox):
        response = trigger(sandbox, "err-malformed")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.content)

    def test_html_page(self, sandbox):
        response = trigger(sandbox, "err-html")
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert response.text.lstrip().lower().startswith("<!doctype html>")

    def test_redirect_to_the_metadata_address(self, sandbox):
        response = trigger(sandbox, "err-redirect")
        assert response.status_code == 302
        assert response.headers["Location"] == "http://169.254.169.254/"

    def test_huge_valid_json(self, sandbox):
        response = trigger(sandbox, "err-huge")
        assert response.status_code == 200
        assert int(response.headers["Content-Length"]) == len(response.content) > 5 * 1024 * 1024
        assert isinstance(response.json(), list)

    def test_timeout_holds_the_answer(self, sandbox):
        with pytest.raises(requests.ReadTimeout):
            trigger(sandbox, "err-timeout", timeout=(2, 0.3))

    @pytest.mark.parametrize(
        "params",
        [
            {"order_name": "err-500"},
            {"external_id": "err-500"},
            {"email_id": "err-500"},
            {"zip_code": "err-500"},
            {"order_number": " ERR-500 "},
        ],
    )
    def test_any_string_filter_triggers(self, sandbox, params):
        response = get(sandbox, "/shops/demo-shop/orders", **params)
        assert_gokarla_error(response, 500, "internal_server_error")

    def test_validation_comes_before_triggers(self, sandbox):
        response = get(sandbox, "/shops/demo-shop/orders", order_number="err-500", page="0")
        assert_422(response, (["query", "page"], "greater_than_equal"))

    def test_triggers_work_in_every_shop(self, sandbox):
        response = get(sandbox, "/shops/demo-outlet/orders", auth=OUTLET, order_number="err-503")
        assert_gokarla_error(response, 503, "service_unavailable")

    def test_flaky_alternates_per_shop_and_trigger(self, own_sandbox):
        def flaky(shop: str = "demo-shop", auth: Any = DEMO) -> int:
            response = get(
                own_sandbox, f"/shops/{shop}/orders", auth=auth, order_number="err-flaky"
            )
            if response.status_code == 200:
                assert response.json() == []  # the normal answer: a miss
            return response.status_code

        assert [flaky() for _ in range(4)] == [503, 200, 503, 200]
        assert flaky("demo-outlet", OUTLET) == 503  # another shop counts on its own
        own_sandbox.reset_faults()
        assert flaky() == 503


# --- the server itself ------------------------------------------------------------------------


class TestServer:
    def test_two_requests_on_one_session_open_one_connection(self, sandbox):
        with requests.Session() as session:
            before = sandbox.connections_opened
            get(sandbox, "/shops/demo-shop", session=session)
            get(sandbox, "/shops/demo-shop/orders", session=session, order_number="1001")
            assert sandbox.connections_opened == before + 1

    def test_error_answers_keep_the_connection_too(self, sandbox):
        with requests.Session() as session:
            before = sandbox.connections_opened
            requests_and_statuses: list[tuple[Callable[[], requests.Response], int]] = [
                (lambda: get(sandbox, "/shops/nope", session=session), 404),
                (lambda: get(sandbox, "/nope", prefix="", session=session), 404),
                (lambda: get(sandbox, "/shops/demo-shop", auth=None, session=session), 400),
                (lambda: get(sandbox, "/shops/demo-shop/orders", session=session, page="x"), 422),
                (lambda: trigger(sandbox, "err-500", session=session), 500),
                (lambda: trigger(sandbox, "err-redirect", session=session), 302),
                (lambda: trigger(sandbox, "err-huge", session=session), 200),
                (lambda: get(sandbox, "/shops/demo-shop/orders/", session=session), 307),
                (lambda: get(sandbox, "/shops/demo-shop", session=session), 200),
            ]
            for send, status in requests_and_statuses:
                assert send().status_code == status
            assert sandbox.connections_opened == before + 1

    def test_latency_option_delays_every_answer(self):
        with make_server(latency_ms=150).start() as server:
            for path in ("/shops/demo-shop", "/nope"):
                started = time.monotonic()
                get(server, path)
                assert time.monotonic() - started >= 0.15

    def test_request_log_names_the_request_but_never_the_credentials(self):
        lines: list[str] = []
        with make_server(log=lines.append).start() as server:
            get(server, "/shops/demo-shop/orders", order_number="1001")
        assert len(lines) == 1
        assert "/api/v1/shops/demo-shop/orders?order_number=1001" in lines[0]
        assert lines[0].endswith(" 200")
        assert "karla-demo-token" not in lines[0] and "Basic" not in lines[0]

    def test_a_malformed_body_length_is_400_and_closes(self, sandbox):
        host, port = sandbox.server_address[:2]
        with socket.create_connection((host, port), timeout=5) as connection:
            connection.sendall(
                b"POST /v1/shops/demo-shop/webhooks HTTP/1.1\r\nHost: sandbox\r\n"
                b"Content-Length: nope\r\n\r\n{}"
            )
            answer = connection.makefile("rb").read()
        assert answer.startswith(b"HTTP/1.1 400 ")
        assert b"Connection: close" in answer


def test_runsandbox_serves_until_ctrl_c():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "manage.py", "runsandbox", "--port", "0", "--envelope"]
    process = subprocess.Popen(
        [*command, "--advance-every", "3600"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in line
        url = line.split("listening on ", 1)[1].split()[0]
        response = requests.get(f"{url}/v1/shops/demo-shop", auth=DEMO, timeout=5)
        assert response.json()["data"]["name"] == "Demo Shop"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert "Traceback" not in stderr

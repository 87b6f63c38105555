"""The GoKarla sandbox, observed the way a client observes it: over real HTTP.

Most tests share the session's ``sandbox``; the ones that need fresh state (err-flaky's
alternation), another option (latency, a request log) or a process (``runsandbox``) start
their own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.server import SandboxServer, make_server

DEMO = ("demo-shop", "karla-demo-token")
OUTLET = ("demo-outlet", "karla-outlet-token")
JANE = "jane@example.com"
# The documented draft shipments (sandbox.data): order 1002's, and 1003's back-ordered jacket.
DRAFT_1002 = "5c76cf4e-f62f-47c2-bcd4-722953d5582a"
DRAFT_1003 = "cf6bf46d-6d6b-4529-a3e3-aa85929d550e"
PREFIXES = ("/api/v1", "/v1")
ROOT = Path(__file__).resolve().parent.parent


def get(
    server: SandboxServer,
    path: str,
    *,
    auth: Any = DEMO,
    prefix: str = "/api/v1",
    session: requests.Session | None = None,
    timeout: Any = 10,
    **params: Any,
) -> requests.Response:
    """GET ``{prefix}{path}``; ``auth`` is a (username, token) pair, a raw header or None."""
    headers = {"Authorization": auth} if isinstance(auth, str) else {}
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


def the_order(server: SandboxServer, number: str, shop: str = "demo-shop", auth: Any = DEMO):
    found = search(server, shop, auth, order_number=number)
    assert [order["order_number"] for order in found] == [number]
    return found[0]


def the_tracking(order: dict) -> dict:
    assert len(order["trackings"]) == 1
    return order["trackings"][0]


def at(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() is not None, f"{text} has no offset"
    return moment


def assert_gokarla_error(response: requests.Response, status: int, key: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["key"] == key
    assert body["message"]
    assert body["type"] == ("api_error" if status >= 500 else "invalid_request_error")
    [error] = body["errors"]
    assert set(error) == {"loc", "msg", "field", "type"}


@pytest.fixture
def own_sandbox() -> Iterator[SandboxServer]:
    """A sandbox of this test's own, for state that must start fresh."""
    with make_server().start() as server:
        yield server


# --- the anchor orders ------------------------------------------------------------------------


class TestAnchorOrders:
    def test_1001_is_in_transit_with_dhl_for_jane_in_berlin(self, sandbox):
        order = the_order(sandbox, "1001")
        assert order["order_name"] == "#1001"
        assert order["email_id"] == JANE
        assert order["currency"] == "EUR"
        assert (order["address"]["name"], order["address"]["city"]) == ("Jane Doe", "Berlin")
        assert order["address"]["country"] == "Germany"
        assert len(order["products"]) >= 2
        tracking = the_tracking(order)
        carrier = tracking["carrier"]
        assert carrier["carrier_reference"] == "dhl"
        assert carrier["tracking_number"] == "00340434161094042557"
        assert "00340434161094042557" in carrier["tracking_url"]
        assert tracking["order_id"] == order["uuid"]
        events = tracking["events"]
        assert len(events) >= 3
        assert events[-1]["phase"] == "in_transit"
        # Live-looking: the last scan two hours, the ETA two days from the server's start.
        assert at(events[-1]["time"]) == sandbox.started_at - timedelta(hours=2)
        eta = tracking["estimated_arrival"]
        assert at(eta["time_prediction"]) == sandbox.started_at + timedelta(days=2)
        assert eta["language"] == "en"

    def test_1002_is_placed_with_a_draft_shipment_only(self, sandbox):
        order = the_order(sandbox, "1002")
        assert order["trackings"] == []
        assert all(product["shipment_id"] for product in order["products"])

    def test_1003_is_partially_fulfilled_one_of_two_shipments_delivered(self, sandbox):
        order = the_order(sandbox, "1003")
        expected = {product["shipment_id"] for product in order["products"]}
        assert len(expected) == 2
        tracking = the_tracking(order)
        assert tracking["id"] in expected
        assert tracking["state"] == "delivered"
        assert tracking["events"][-1]["phase"] == "delivered"

    def test_1004_is_cancelled_without_trackings(self, sandbox):
        order = the_order(sandbox, "1004")
        assert order["trackings"] == []
        assert at(order["cancelled_at"]) > at(order["order_placed_at"])

    def test_1005_is_delivered_to_jane_with_a_discount(self, sandbox):
        order = the_order(sandbox, "1005")
        assert order["email_id"] == JANE
        last = the_tracking(order)["events"][-1]
        assert (last["event_key"], last["phase"]) == ("SUCCESSFULLY_DELIVERED", "delivered")
        [discount] = order["discounts"]
        assert isinstance(discount["amount"], str)
        assert order["discount_price"] == float(discount["amount"])

    def test_1006_is_delayed_with_ups_and_an_arrival_window(self, sandbox):
        tracking = the_tracking(the_order(sandbox, "1006"))
        assert tracking["carrier"]["carrier_reference"] == "ups"
        assert tracking["carrier"]["tracking_number"] == "1Z999AA10123456784"
        assert "1Z999AA10123456784" in tracking["carrier"]["tracking_url"]
        assert tracking["flag"] == "delay"
        assert tracking["phase"] == "in_transit"
        window = tracking["estimated_arrival"]
        assert at(window["from"]) < at(window["to"])

    def test_1007_failed_delivery(self, sandbox):
        tracking = the_tracking(the_order(sandbox, "1007"))
        last = tracking["events"][-1]
        assert (last["event_key"], last["phase"]) == ("DELIVERY_ATTEMPTED", "delivery_failed")
        assert tracking["phase"] == "delivery_failed"

    def test_2001_of_the_outlet_is_in_transit(self, sandbox):
        order = the_order(sandbox, "2001", "demo-outlet", OUTLET)
        tracking = the_tracking(order)
        assert order["merchant_slug"] == tracking["merchant_slug"] == "demo-outlet"
        assert tracking["carrier"]["carrier_reference"] in {"dpd", "gls"}
        assert tracking["events"][-1]["phase"] == "in_transit"


def keys(names: str) -> frozenset[str]:
    return frozenset(names.split())


class TestShapes:
    ORDER_KEYS = keys(
        "uuid order_number order_name external_id merchant_slug order_placed_at "
        "total_order_price sub_total_price shipping_price discount_price currency email_id "
        "address products discounts segments weight trackings"
    )
    ADDRESS_KEYS = keys(
        "name company street address_line_1 address_line_2 city zip_code province "
        "province_code country country_code phone"
    )
    PRODUCT_KEYS = keys(
        "title quantity price size sku weight images tax_lines bundled_products shipment_id type"
    )
    EVENT_KEYS = keys(
        "event_key phase time timezone location additional_info event_strings language"
    )

    def test_every_order_has_gokarlas_fields_and_v4_uuids(self, sandbox):
        for order in search(sandbox, per_page=100):
            assert set(order) >= self.ORDER_KEYS
            assert set(order["address"]) >= self.ADDRESS_KEYS
            assert uuid.UUID(order["uuid"]).version == 4
            at(order["order_placed_at"])
            for product in order["products"]:
                assert set(product) >= self.PRODUCT_KEYS
                assert {"src", "alt"} <= set(product["images"][0])
            for tracking in order["trackings"]:
                self.assert_tracking(order, tracking)

    def assert_tracking(self, order: dict, tracking: dict) -> None:
        assert uuid.UUID(tracking["id"]).version == 4
        assert tracking["order_number"] == order["order_number"]
        assert tracking["carrier"]["tracking_number"] in tracking["carrier"]["tracking_url"]
        times = [at(event["time"]) for event in tracking["events"]]
        assert times == sorted(times), "events come oldest first"
        for event in tracking["events"]:
            assert set(event) >= self.EVENT_KEYS
            assert {"event_status", "list_label", "header_headline"} <= set(event["event_strings"])
        assert {product["shipment_id"] for product in tracking["products"]} == {tracking["id"]}

    def test_both_eta_shapes_occur(self, sandbox):
        trackings = [t for order in search(sandbox, per_page=100) for t in order["trackings"]]
        shapes = {frozenset(t["estimated_arrival"]) for t in trackings}
        assert frozenset({"time_prediction", "language"}) in shapes
        assert frozenset({"from", "to"}) in shapes
        assert all("phase" in t for t in trackings if "from" in t["estimated_arrival"])

    def test_the_shop_object(self, sandbox):
        response = get(sandbox, "/shops/demo-shop")
        assert response.status_code == 200
        shop = response.json()
        assert (shop["slug"], shop["name"]) == ("demo-shop", "Demo Shop")
        expected = "uuid slug name organization language logo_url shop_url shop_provider"
        assert set(expected.split()) | {"created_at", "updated_at"} <= set(shop)
        outlet = get(sandbox, "/shops/demo-outlet", auth=OUTLET).json()
        assert outlet["name"] == "Demo Outlet"


# --- searching and paging ---------------------------------------------------------------------


class TestSearch:
    def test_email_finds_both_of_janes_orders_ignoring_case(self, sandbox):
        for email in (JANE, "Jane@Example.COM"):
            assert [o["order_number"] for o in search(sandbox, email_id=email)] == ["1001", "1005"]

    @pytest.mark.parametrize("field", ["order_name", "uuid", "external_id"])
    def test_each_filter_finds_the_order(self, sandbox, field):
        order = the_order(sandbox, "1001")
        assert search(sandbox, **{field: order[field]}) == [order]

    def test_filters_combine(self, sandbox):
        assert [o["order_number"] for o in search(sandbox, email_id=JANE, order_number="1005")] == [
            "1005"
        ]
        assert search(sandbox, email_id=JANE, order_number="1002") == []

    @pytest.mark.parametrize("params", [{"order_number": "9999"}, {"order_name": "1001"}])
    def test_no_match_is_an_empty_list(self, sandbox, params):
        assert search(sandbox, **params) == []

    def test_orders_belong_to_their_shop(self, sandbox):
        assert search(sandbox, order_number="2001") == []
        assert search(sandbox, "demo-outlet", OUTLET, order_number="1001") == []

    def test_both_prefixes_answer_alike(self, sandbox):
        for path in ("/shops/demo-shop", "/shops/demo-shop/orders?order_number=1001"):
            new, old = (get(sandbox, path, prefix=prefix) for prefix in ("/api/v1", "/v1"))
            assert new.status_code == old.status_code == 200
            assert new.content == old.content


class TestPaging:
    def test_without_a_filter_all_orders_page_in_order_number_order(self, sandbox):
        everything = [o["order_number"] for o in search(sandbox)]
        assert everything[:7] == ["1001", "1002", "1003", "1004", "1005", "1006", "1007"]
        assert len(everything) >= 10
        pages = [search(sandbox, page=page, per_page=4) for page in (1, 2, 3, 4)]
        assert [len(page) for page in pages[:2]] == [4, 4]
        assert [o["order_number"] for page in pages for o in page] == everything
        assert search(sandbox, page=50, per_page=4) == []

    def test_default_page_size_is_30(self, sandbox):
        assert len(search(sandbox)) == len(search(sandbox, per_page=100)) <= 30

    @pytest.mark.parametrize(
        ("param", "value", "kind"),
        [
            ("per_page", "0", "greater_than_equal"),
            ("per_page", "101", "less_than_equal"),
            ("per_page", "ten", "int_parsing"),
            ("page", "0", "greater_than_equal"),
            ("page", "-1", "greater_than_equal"),
            ("page", "1.5", "int_parsing"),
            ("page", "+-2", "int_parsing"),
            ("page", "", "int_parsing"),
        ],
    )
    def test_out_of_range_or_not_an_integer_is_422(self, sandbox, param, value, kind):
        response = get(sandbox, "/shops/demo-shop/orders", **{param: value})
        assert response.status_code == 422
        assert response.headers["Content-Type"] == "application/json"
        [error] = response.json()["detail"]
        assert error["loc"] == ["query", param]
        assert error["type"] == kind
        assert error["msg"]


# --- shipments --------------------------------------------------------------------------------


class TestShipments:
    def test_by_id_and_by_tracking_number_give_the_orders_tracking(self, sandbox):
        tracking = the_tracking(the_order(sandbox, "1006"))
        by_id = get(sandbox, f"/shops/demo-shop/shipments/{tracking['id']}")
        by_number = get(sandbox, "/shops/demo-shop/shipments", tracking_number="1Z999AA10123456784")
        assert by_id.status_code == by_number.status_code == 200
        assert by_id.json() == by_number.json() == tracking

    @pytest.mark.parametrize(
        "path",
        [
            "/shops/demo-shop/shipments/00000000-0000-4000-8000-000000000000",
            "/shops/demo-shop/shipments?tracking_number=nope",
            "/shops/demo-outlet/shipments?tracking_number=00340434161094042557",
        ],
    )
    def test_unknown_shipment_is_404(self, sandbox, path):
        auth = OUTLET if "outlet" in path else DEMO
        assert_gokarla_error(get(sandbox, path, auth=auth), 404, "shipment_not_found")

    def test_a_search_without_tracking_number_is_422(self, sandbox):
        response = get(sandbox, "/shops/demo-shop/shipments")
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "tracking_number"]


def draft_ids(order: dict) -> list[str]:
    """The order's draft shipments: named by its line items, absent from ``trackings[]``."""
    tracked = {tracking["id"] for tracking in order["trackings"]}
    named = dict.fromkeys(p["shipment_id"] for p in order["products"] if p["shipment_id"])
    return [shipment_id for shipment_id in named if shipment_id not in tracked]


PRE_TRANSIT_PHASES = {"order_created", "order_processed"}


class TestDraftShipments:
    """A draft (no tracking number yet) answers by id: "no tracking data yet", not an error."""

    def assert_draft(self, server: SandboxServer, order: dict, draft: dict) -> None:
        assert draft["order_id"] == order["uuid"]
        assert draft["order_number"] == order["order_number"]
        assert draft["merchant_slug"] == order["merchant_slug"]
        assert draft["carrier"]["tracking_number"] is None
        assert draft["carrier"]["carrier_reference"] is None
        assert draft["state"] == "pending"
        assert draft["estimated_arrival"] is None
        events = draft["events"]
        assert events, "a draft still has its pre-transit events"
        assert {event["phase"] for event in events} <= PRE_TRANSIT_PHASES
        assert events[0]["event_key"] == "ORDER_CREATED"
        times = [at(event["time"]) for event in events]
        assert times == sorted(times)
        assert times[-1] <= server.started_at, "no event from the future"
        assert at(draft["updated_at"]) == times[-1]
        assert draft["products"]
        assert {product["shipment_id"] for product in draft["products"]} == {draft["id"]}
        assert draft["products"] == [
            product for product in order["products"] if product["shipment_id"] == draft["id"]
        ]

    def test_1002s_draft_is_the_documented_id(self, sandbox):
        order = the_order(sandbox, "1002")
        assert draft_ids(order) == [DRAFT_1002]
        response = get(sandbox, f"/shops/demo-shop/shipments/{DRAFT_1002}")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        draft = response.json()
        assert draft["id"] == DRAFT_1002
        self.assert_draft(sandbox, order, draft)
        assert [event["event_key"] for event in draft["events"]] == [
            "ORDER_CREATED",
            "ORDER_IN_PROCESSING",
        ]

    def test_1003s_back_ordered_jacket_is_a_second_draft(self, sandbox):
        order = the_order(sandbox, "1003")
        assert draft_ids(order) == [DRAFT_1003]
        draft = get(sandbox, f"/shops/demo-shop/shipments/{DRAFT_1003}").json()
        self.assert_draft(sandbox, order, draft)
        assert [product["sku"] for product in draft["products"]] == ["KS-RAI-JKT-M"]

    @pytest.mark.parametrize(("shop", "auth"), [("demo-shop", DEMO), ("demo-outlet", OUTLET)])
    def test_every_draft_answers_by_id(self, sandbox, shop, auth):
        orders = search(sandbox, shop, auth, per_page=100)
        drafts = [(order, shipment_id) for order in orders for shipment_id in draft_ids(order)]
        assert drafts
        for order, shipment_id in drafts:
            response = get(sandbox, f"/shops/{shop}/shipments/{shipment_id}", auth=auth)
            assert response.status_code == 200, (order["order_number"], response.text)
            self.assert_draft(sandbox, order, response.json())

    def test_the_id_is_case_insensitive_and_both_prefixes_answer(self, sandbox):
        path = f"/shops/demo-shop/shipments/{DRAFT_1002.upper()}"
        answers = [get(sandbox, path, prefix=prefix) for prefix in PREFIXES]
        assert [answer.status_code for answer in answers] == [200, 200]
        assert answers[0].content == answers[1].content
        assert answers[0].json()["id"] == DRAFT_1002

    def test_a_draft_is_not_in_the_orders_trackings(self, sandbox):
        assert the_order(sandbox, "1002")["trackings"] == []
        assert DRAFT_1003 not in {t["id"] for t in the_order(sandbox, "1003")["trackings"]}

    def test_another_shops_draft_is_not_found(self, sandbox):
        response = get(sandbox, f"/shops/demo-outlet/shipments/{DRAFT_1002}", auth=OUTLET)
        assert_gokarla_error(response, 404, "shipment_not_found")

    @pytest.mark.parametrize("tracking_number", ["", "null", "None", DRAFT_1002])
    def test_a_tracking_number_search_never_finds_a_draft(self, sandbox, tracking_number):
        response = get(sandbox, "/shops/demo-shop/shipments", tracking_number=tracking_number)
        assert_gokarla_error(response, 404, "shipment_not_found")


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
        for path in ("/shops/demo-shop", "/shops/demo-shop/orders?order_number=1001"):
            assert_gokarla_error(get(sandbox, path, auth=auth), status, key)

    def test_unknown_shop_is_404_shop_not_found(self, sandbox):
        for path in ("/shops/no-such-shop", "/shops/no-such-shop/orders"):
            assert_gokarla_error(get(sandbox, path), 404, "shop_not_found")

    def test_credentials_are_checked_before_faults(self, sandbox):
        response = get(sandbox, "/shops/demo-shop/orders", auth=None, order_number="err-500")
        assert_gokarla_error(response, 400, "invalid_credentials")
        response = get(sandbox, "/shops/demo-shop/orders", auth=OUTLET, order_number="err-500")
        assert_gokarla_error(response, 403, "shop_access_denied")


class TestRoutesAndMethods:
    @pytest.mark.parametrize(
        "path",
        ["/api/v2/shops/demo-shop", "/api/v1/shops", "/api/v1/shops/demo-shop/returns", "/"],
    )
    def test_unknown_route_is_404_json(self, sandbox, path):
        assert_gokarla_error(get(sandbox, path, prefix=""), 404, "not_found")

    def test_other_methods_are_405_json_and_keep_the_connection(self, sandbox):
        with requests.Session() as session:
            before = sandbox.connections_opened
            url = f"{sandbox.url}/api/v1/shops/demo-shop"
            head = session.head(url, auth=DEMO, timeout=5)
            assert head.status_code == 405
            assert head.headers["Allow"] == "GET"
            assert head.content == b""
            post = session.post(url, auth=DEMO, json={"a": 1}, timeout=5)
            assert_gokarla_error(post, 405, "method_not_allowed")
            assert session.get(url, auth=DEMO, timeout=5).status_code == 200
            assert sandbox.connections_opened == before + 1


# --- fault triggers ---------------------------------------------------------------------------

# How each trigger is reached: an order search, a shipment id, a tracking number.
ROUTES = {
    "order": ("/shops/demo-shop/orders", "order_number"),
    "shipment-id": ("/shops/demo-shop/shipments/{}", None),
    "tracking-number": ("/shops/demo-shop/shipments", "tracking_number"),
}


def trigger(server: SandboxServer, value: str, route: str, **kwargs: Any) -> requests.Response:
    path, param = ROUTES[route]
    if param is None:
        return get(server, path.format(value), **kwargs)
    return get(server, path, **{param: value}, **kwargs)


@pytest.mark.parametrize("route", list(ROUTES))
class TestFaults:
    def test_500(self, sandbox, route):
        assert_gokarla_error(trigger(sandbox, "err-500", route), 500, "internal_server_error")

    def test_503_always(self, sandbox, route):
        for _ in range(2):
            assert_gokarla_error(trigger(sandbox, "err-503", route), 503, "service_unavailable")

    def test_429_with_retry_after(self, sandbox, route):
        response = trigger(sandbox, "err-429", route)
        assert_gokarla_error(response, 429, "rate_limit_exceeded")
        assert response.headers["Retry-After"] == "2"

    def test_malformed_json(self, sandbox, route):
        response = trigger(sandbox, "err-malformed", route)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.content)

    def test_html_page(self, sandbox, route):
        response = trigger(sandbox, "err-html", route)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert response.text.lstrip().lower().startswith("<!doctype html>")

    def test_redirect_to_the_metadata_address(self, sandbox, route):
        response = trigger(sandbox, "err-redirect", route)
        assert response.status_code == 302
        assert response.headers["Location"] == "http://169.254.169.254/"

    def test_huge_valid_json(self, sandbox, route):
        response = trigger(sandbox, "err-huge", route)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        assert int(response.headers["Content-Length"]) == len(response.content) > 5 * 1024 * 1024
        assert isinstance(response.json(), list)

    def test_timeout_holds_the_answer(self, sandbox, route):
        with pytest.raises(requests.ReadTimeout):
            trigger(sandbox, "err-timeout", route, timeout=(2, 0.3))


class TestFaultReach:
    @pytest.mark.parametrize(
        "params",
        [
            {"order_name": "err-500"},
            {"uuid": "err-500"},
            {"external_id": "err-500"},
            {"email_id": "err-500"},
            {"order_number": " ERR-500 "},
        ],
    )
    def test_any_order_filter_triggers(self, sandbox, params):
        response = get(sandbox, "/shops/demo-shop/orders", **params)
        assert_gokarla_error(response, 500, "internal_server_error")

    def test_triggers_work_in_every_shop(self, sandbox):
        response = get(sandbox, "/shops/demo-outlet/orders", auth=OUTLET, order_number="err-503")
        assert_gokarla_error(response, 503, "service_unavailable")

    def test_flaky_alternates_per_shop_and_trigger(self, own_sandbox):
        def flaky(shop: str = "demo-shop", auth: Any = DEMO, shipment: bool = False) -> int:
            if shipment:
                response = get(own_sandbox, f"/shops/{shop}/shipments/err-flaky", auth=auth)
            else:
                response = get(
                    own_sandbox, f"/shops/{shop}/orders", auth=auth, order_number="err-flaky"
                )
            if response.status_code == 200:
                assert response.json() == []  # the normal answer: a miss
            return response.status_code

        assert [flaky() for _ in range(4)] == [503, 200, 503, 200]
        assert flaky("demo-outlet", OUTLET) == 503  # another shop counts on its own
        # The count is per (shop, trigger), shared by orders and shipments.
        assert [flaky(shipment=True), flaky(shipment=True)] == [503, 404]
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
            statuses = [
                get(sandbox, "/shops/nope", session=session).status_code,
                get(sandbox, "/nope", prefix="", session=session).status_code,
                get(sandbox, "/shops/demo-shop", auth=None, session=session).status_code,
                get(sandbox, "/shops/demo-shop/orders", session=session, page="x").status_code,
                get(
                    sandbox, "/shops/demo-shop/orders", session=session, order_number="err-500"
                ).status_code,
                get(
                    sandbox, "/shops/demo-shop/orders", session=session, order_number="err-redirect"
                ).status_code,
                get(
                    sandbox, "/shops/demo-shop/orders", session=session, order_number="err-huge"
                ).status_code,
                get(sandbox, "/shops/demo-shop", session=session).status_code,
            ]
            assert statuses == [404, 404, 400, 422, 500, 302, 200, 200]
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
        assert "karla-demo-token" not in lines[0]
        assert "Basic" not in lines[0]


def test_runsandbox_serves_until_ctrl_c():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runsandbox", "--port", "0"],
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
        assert response.json()["name"] == "Demo Shop"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert "Traceback" not in stderr

"""The GoKarla client against `responses`: what it asks, what it retries, what it refuses."""

import base64
import contextlib
import json
import logging
import re
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from karla_sidebar.gokarla import (
    AccessDenied,
    CredentialsRejected,
    Endpoint,
    GoKarlaClient,
    GoKarlaError,
    InvalidInput,
    NotGoKarlaAPI,
    OrderNotFound,
    RateLimited,
    ShopNotFound,
    TimedOut,
    TokenRevoked,
    Unavailable,
    UnexpectedResponse,
    WebhookNotFound,
    first_answering,
)
from karla_sidebar.gokarla import client as client_module

TOKEN = "sekret-token-4f9a2b7c"
ENDPOINT = Endpoint(api_root="https://demo-shop.gokarla.io/api/v1", shop_slug="demo-shop")
ROOT = "https://demo-shop.gokarla.io/api/v1/shops/demo-shop"
ORDERS = f"{ROOT}/orders"
SHIPMENT_ID = "8f0c1f4e-3b7a-4c1e-9a55-2f1d8c6b7a10"

# gokarla-api.md's table of operations: the only (method, path) pairs the client may send,
# below an API root. Every test here checks each request it saw against it.
DOCUMENTED = [
    ("GET", re.compile(r"shops/[^/]+")),
    ("GET", re.compile(r"shops/[^/]+/orders")),
    ("POST", re.compile(r"shops/[^/]+/webhooks")),
    ("GET", re.compile(r"shops/[^/]+/webhooks")),
    ("PATCH", re.compile(r"shops/[^/]+/webhooks/[^/]+")),
    ("DELETE", re.compile(r"shops/[^/]+/webhooks/[^/]+")),
    ("POST", re.compile(r"shops/[^/]+/shipments/[^/]+/events")),
]
API_ROOTS = re.compile(r"^/(?:api/)?v1/")


def undocumented(calls) -> list[str]:
    """The requests among ``calls`` that no documented GoKarla operation matches."""
    wrong = []
    for call in calls:
        path = urlsplit(call.request.url).path
        below_root = API_ROOTS.sub("", path)
        if below_root == path or not any(
            call.request.method == method and pattern.fullmatch(below_root)
            for method, pattern in DOCUMENTED
        ):
            wrong.append(f"{call.request.method} {path}")
    return wrong


UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

ORDER = {
    "uuid": "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d",
    "order_number": "1001",
    "order_name": "#1001",
    "email_id": "jane@example.com",
    "products": [{"title": "Blue Hoodie", "quantity": 1}],
    "trackings": [],
}
TRACKING = {
    "id": SHIPMENT_ID,
    "carrier": {"tracking_number": "00340434161094042557", "carrier_reference": "dhl"},
    "phase": "in_transit",
    "events": [],
}

# A draft shipment, as the sandbox answers it: no tracking number, no carrier, pre-transit only.
DRAFT = {
    "id": SHIPMENT_ID,
    "order_number": "1002",
    "carrier": {"tracking_number": None, "carrier_reference": None, "tracking_url": None},
    "state": "pending",
    "flag": "normal",
    "estimated_arrival": None,
    "events": [
        {
            "event_key": "ORDER_CREATED",
            "phase": "order_created",
            "time": "2024-05-01T09:00:00+00:00",
        }
    ],
}
UPS = "1Z999AA10123456784"


@pytest.fixture
def client():
    return GoKarlaClient(ENDPOINT, username="demo-shop", token=TOKEN, deadline=5)


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps
        assert undocumented(rsps.calls) == [], "the client called what GoKarla does not have"


@pytest.fixture
def sleeps(monkeypatch):
    slept = []
    monkeypatch.setattr(client_module.time, "sleep", slept.append)
    return slept


def queries(mocked):
    return [parse_qs(urlsplit(call.request.url).query) for call in mocked.calls]


def error_body(key, status_message="Not found"):
    return {"errors": [], "key": key, "message": status_message, "type": "invalid_request_error"}


class TestOrderFind:
    def test_an_order_number_searches_order_number_first(self, client, mocked):
        mocked.get(ORDERS, json=[ORDER])
        [found] = client.order_find(" 1001 ")
        assert found.order_number == "1001"
        assert queries(mocked) == [{"order_number": ["1001"]}]

    def test_a_missing_number_costs_two_calls_then_not_found(self, client, mocked):
        mocked.get(ORDERS, json=[])
        with pytest.raises(OrderNotFound) as caught:
            client.order_find("9999")
        assert caught.value.message == OrderNotFound.default_message
        assert queries(mocked) == [{"order_number": ["9999"]}, {"order_name": ["9999"]}]

    def test_a_number_found_by_name_on_the_second_call(self, client, mocked):
        mocked.get(
            ORDERS,
            json=[],
            match=[responses.matchers.query_param_matcher({"order_number": "SO-1"})],
        )
        mocked.get(
            ORDERS,
            json={"data": [ORDER]},
            match=[responses.matchers.query_param_matcher({"order_name": "SO-1"})],
        )
        assert len(client.order_find("SO-1")) == 1
        assert len(mocked.calls) == 2

    def test_a_hash_name_searches_order_name_only(self, client, mocked):
        mocked.get(ORDERS, json=[])
        with pytest.raises(OrderNotFound):
            client.order_find("#1001")
        assert queries(mocked) == [{"order_name": ["#1001"]}]

    def test_an_email_searches_email_id_and_may_find_several(self, client, mocked):
        mocked.get(ORDERS, json=[ORDER, {**ORDER, "order_number": "1005"}])
        found = client.order_find("jane@example.com")
        assert [order.order_number for order in found] == ["1001", "1005"]
        assert queries(mocked) == [{"email_id": ["jane@example.com"]}]

    def test_a_uuid_searches_uuid(self, client, mocked):
        mocked.get(ORDERS, json=[ORDER])
        client.order_find(ORDER["uuid"].upper())
        assert queries(mocked) == [{"uuid": [ORDER["uuid"]]}]

    @pytest.mark.parametrize("reference", ["5712345601001", "1234567890", " 5712345601001 "])
    def test_ten_or_more_digits_search_external_id_first(self, client, mocked, reference):
        mocked.get(ORDERS, json=[{**ORDER, "external_id": reference.strip()}])
        [found] = client.order_find(reference)
        assert found.external_id == reference.strip()
        assert queries(mocked) == [{"external_id": [reference.strip()]}]

    def test_a_missing_long_number_costs_two_calls_external_id_then_order_number(
        self, client, mocked
    ):
        mocked.get(ORDERS, json=[])
        with pytest.raises(OrderNotFound) as caught:
            client.order_find("5712345609999")
        assert caught.value.message == OrderNotFound.default_message
        assert queries(mocked) == [
            {"external_id": ["5712345609999"]},
            {"order_number": ["5712345609999"]},
        ]

    def test_a_long_order_number_is_found_on_the_second_call(self, client, mocked):
        mocked.get(
            ORDERS,
            json=[],
            match=[responses.matchers.query_param_matcher({"external_id": "100000000042"})],
        )
        mocked.get(
            ORDERS,
            json=[{**ORDER, "order_number": "100000000042"}],
            match=[responses.matchers.query_param_matcher({"order_number": "100000000042"})],
        )
        [found] = client.order_find("100000000042")
        assert found.order_number == "100000000042"
        assert len(mocked.calls) == 2

    @pytest.mark.parametrize(
        "reference",
        [
            "123456789",  # nine digits: an order number
            "57123456O1001",  # a letter O among the digits
            "5712345601001x",
            "5712 3456 01001",
            "\u0665\u0667\u0661\u0662\u0663\u0664\u0665\u0666\u0660\u0661",  # non-ASCII
        ],
    )
    def test_other_references_keep_order_number_then_order_name(self, client, mocked, reference):
        mocked.get(ORDERS, json=[])
        with pytest.raises(OrderNotFound):
            client.order_find(reference)
        assert queries(mocked) == [{"order_number": [reference]}, {"order_name": [reference]}]

    def test_orders_search_passes_its_filters(self, client, mocked):
        mocked.get(ORDERS, json=[])
        assert client.orders_search(external_id="shopify-555", email_id="jane@example.com") == []
        assert queries(mocked) == [
            {"external_id": ["shopify-555"], "email_id": ["jane@example.com"]}
        ]

    def test_orders_search_refuses_unknown_filters(self, client):
        with pytest.raises(TypeError):
            client.orders_search(postcode="10115")
        with pytest.raises(TypeError):
            client.orders_search()


class TestOnlyDocumentedOperations:
    def test_the_client_has_no_shipment_lookup(self, client):
        """GoKarla has no shipment GET and no tracking-number filter (gokarla-api.md)."""
        assert not hasattr(client, "shipment_get")
        with pytest.raises(TypeError):
            client.orders_search(tracking_number=UPS)

    def test_every_filter_and_paging_is_sent(self, client, mocked):
        mocked.get(ORDERS, json=[])
        client.orders_search(
            order_placed_from="2026-11-01T00:00:00+00:00",
            shipment_updated_since="2026-12-01T00:00:00+00:00",
            zip_code="10119",
            page=3,
            per_page=100,
        )
        assert queries(mocked) == [
            {
                "order_placed_from": ["2026-11-01T00:00:00+00:00"],
                "shipment_updated_since": ["2026-12-01T00:00:00+00:00"],
                "zip_code": ["10119"],
                "page": ["3"],
                "per_page": ["100"],
            }
        ]

    @pytest.mark.parametrize(("page", "per_page"), [(0, 30), (1, 0), (1, 101)])
    def test_paging_out_of_gokarla_s_range_is_refused_before_asking(
        self, client, mocked, page, per_page
    ):
        with pytest.raises(TypeError):
            client.orders_search(uuid=SHIPMENT_ID, page=page, per_page=per_page)
        assert len(mocked.calls) == 0

    def test_the_checker_catches_an_undocumented_path(self, client):
        """The teardown check above can fail: a shipment GET is reported."""
        with responses.RequestsMock() as rsps:
            rsps.get(f"{ROOT}/shipments/{SHIPMENT_ID}", json={})
            requests.get(f"{ROOT}/shipments/{SHIPMENT_ID}", timeout=1)
            rsps.get(ORDERS, json=[])
            requests.get(ORDERS, timeout=1)
            assert undocumented(rsps.calls) == [
                f"GET /api/v1/shops/demo-shop/shipments/{SHIPMENT_ID}"
            ]


class TestNotGoKarlasAPI:
    def test_fastapi_s_unknown_route_is_not_gokarla_s_api_never_not_found(self, client, mocked):
        mocked.get(ORDERS, status=404, json={"detail": "Not Found"})
        with pytest.raises(NotGoKarlaAPI) as caught:
            client.order_find("1001")
        assert "does not serve GoKarla's API" in caught.value.message
        assert caught.value.code == "not_gokarla_api"
        assert isinstance(caught.value, Unavailable)  # a failure for the breaker

    def test_a_wrong_method_is_not_gokarla_s_api(self, client, mocked):
        mocked.get(ROOT, status=405, json={"detail": "Method Not Allowed"})
        with pytest.raises(NotGoKarlaAPI):
            client.verify()

    @pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 422])
    def test_a_web_page_is_not_gokarla_s_api(self, client, mocked, status):
        mocked.get(ROOT, status=status, body="<html>Login</html>", content_type="text/html")
        with pytest.raises(NotGoKarlaAPI):
            client.verify()

    def test_gokarla_s_own_404_body_is_not_found(self, client, mocked):
        mocked.get(ROOT, status=404, json=error_body("shop_not_found"))
        with pytest.raises(ShopNotFound):
            client.verify()


class TestLanguage:
    @pytest.mark.parametrize(
        ("viewer", "sent"), [("de", "de"), ("de-DE", "de"), ("en-us", "en"), ("NL", "nl")]
    )
    def test_the_viewer_s_language_is_asked_for(self, mocked, viewer, sent):
        mocked.get(ORDERS, json=[ORDER])
        GoKarlaClient(ENDPOINT, username="demo-shop", token=TOKEN, language=viewer).order_find(
            "1001"
        )
        assert mocked.calls[0].request.headers["Accept-Language"] == sent

    @pytest.mark.parametrize("viewer", ["", "pt-BR", "klingon"])
    def test_a_language_gokarla_does_not_have_is_not_sent(self, mocked, viewer):
        mocked.get(ORDERS, json=[ORDER])
        GoKarlaClient(ENDPOINT, username="demo-shop", token=TOKEN, language=viewer).order_find(
            "1001"
        )
        assert "Accept-Language" not in mocked.calls[0].request.headers


class TestReferenceValidation:
    @pytest.mark.parametrize(
        ("reference", "message"),
        [
            ("", "Enter"),
            ("   ", "Enter"),
            ("x" * 201, "too long"),
            ("10\n01", "control characters"),
            ("1001\x00", "control characters"),
        ],
    )
    def test_bad_references_are_refused_before_any_call(self, client, mocked, reference, message):
        with pytest.raises(InvalidInput, match=message):
            client.order_find(reference)
        assert len(mocked.calls) == 0
        assert client.calls == 0

    def test_empty_messages_say_what_to_enter(self, client):
        with pytest.raises(InvalidInput, match="Enter an order number"):
            client.order_find("")


class TestStatusMapping:
    @pytest.mark.parametrize(
        ("status", "error"),
        [
            (400, CredentialsRejected),
            (401, TokenRevoked),
            (403, AccessDenied),
            (404, ShopNotFound),
            (500, Unavailable),
            (501, Unavailable),
            (418, UnexpectedResponse),
            (422, InvalidInput),
        ],
    )
    def test_verify(self, client, mocked, status, error):
        mocked.get(ROOT, status=status, json=error_body("some_key"))
        with pytest.raises(error) as caught:
            client.verify()
        assert type(caught.value) is error
        assert caught.value.status_code == status
        assert len(mocked.calls) == 1

    def test_verify_returns_the_shop(self, client, mocked):
        mocked.get(ROOT, json={"slug": "demo-shop", "name": "Demo Shop", "uuid": "x"})
        shop = client.verify()
        assert (shop.slug, shop.name) == ("demo-shop", "Demo Shop")

    def test_verify_fills_in_a_missing_slug(self, client, mocked):
        mocked.get(ROOT, json={"name": "Demo Shop"})
        assert client.verify().slug == "demo-shop"

    @pytest.mark.parametrize(
        ("key", "error"), [("shop_not_found", ShopNotFound), ("order_not_found", OrderNotFound)]
    )
    def test_order_404_depends_on_the_key(self, client, mocked, key, error):
        mocked.get(ORDERS, status=404, json=error_body(key))
        with pytest.raises(error):
            client.order_find("#1001")

    def test_404_without_gokarla_s_body_is_not_gokarla_s_api(self, client, mocked):
        mocked.get(ORDERS, status=404, body="<html>nope</html>", content_type="text/html")
        with pytest.raises(NotGoKarlaAPI):
            client.order_find("#1001")

    @pytest.mark.parametrize(("status", "error"), [(401, TokenRevoked), (403, AccessDenied)])
    def test_orders_share_the_credential_mapping(self, client, mocked, status, error):
        mocked.get(ORDERS, status=status, json=error_body("x"))
        with pytest.raises(error):
            client.order_find("1001")


class TestRetries:
    def test_503_is_retried_then_succeeds(self, client, mocked, sleeps):
        mocked.get(ORDERS, status=503)
        mocked.get(ORDERS, json=[ORDER])
        assert client.order_find("1001")[0].order_number == "1001"
        assert len(mocked.calls) == 2
        assert sleeps == [0.1]

    @pytest.mark.parametrize("status", [502, 503, 504])
    def test_gateway_errors_are_retried_twice_then_unavailable(
        self, client, mocked, sleeps, status
    ):
        mocked.get(ORDERS, status=status)
        with pytest.raises(Unavailable) as caught:
            client.order_find("#1001")
        assert caught.value.status_code == status
        assert len(mocked.calls) == 3
        assert sleeps == [0.1, 0.3]

    def test_500_is_not_retried(self, client, mocked, sleeps):
        mocked.get(ORDERS, status=500)
        with pytest.raises(Unavailable) as caught:
            client.order_find("#1001")
        assert caught.value.status_code == 500
        assert len(mocked.calls) == 1
        assert sleeps == []

    def test_read_timeout_is_not_retried(self, client, mocked, sleeps):
        mocked.get(ORDERS, body=requests.ReadTimeout("read timed out"))
        with pytest.raises(TimedOut):
            client.order_find("#1001")
        assert len(mocked.calls) == 1
        assert sleeps == []

    def test_connection_error_is_retried_then_succeeds(self, client, mocked, sleeps):
        mocked.get(ORDERS, body=requests.ConnectionError("refused"))
        mocked.get(ORDERS, json=[ORDER])
        assert client.order_find("#1001")
        assert len(mocked.calls) == 2

    def test_connection_errors_end_unavailable(self, client, mocked, sleeps):
        mocked.get(ORDERS, body=requests.ConnectionError("refused 10.0.0.1:443"))
        with pytest.raises(Unavailable) as caught:
            client.order_find("#1001")
        assert type(caught.value) is Unavailable
        assert "10.0.0.1" not in str(caught.value)
        assert len(mocked.calls) == 3

    def test_retries_never_go_past_the_deadline(self, mocked, sleeps):
        client = GoKarlaClient(ENDPOINT, username="demo-shop", token=TOKEN, deadline=0.05)
        mocked.get(ORDERS, status=503)
        with pytest.raises(Unavailable):
            client.order_find("#1001")
        assert len(mocked.calls) == 1
        assert sleeps == []

    def test_an_exhausted_deadline_is_a_timeout(self, mocked):
        client = GoKarlaClient(ENDPOINT, username="demo-shop", token=TOKEN, deadline=0)
        with pytest.raises(TimedOut):
            client.order_find("1001")
        assert len(mocked.calls) == 0


class TestRateLimit:
    def test_short_retry_after_is_honoured(self, client, mocked):
        mocked.get(ORDERS, status=429, headers={"Retry-After": "0"})
        mocked.get(ORDERS, json=[ORDER])
        assert client.order_find("#1001")
        assert len(mocked.calls) == 2

    def test_retry_after_is_slept(self, client, mocked, sleeps):
        mocked.get(ORDERS, status=429, headers={"Retry-After": "2"})
        mocked.get(ORDERS, json=[ORDER])
        client.order_find("#1001")
        assert sleeps == [2.0]

    def test_retry_after_counts_as_a_retry(self, client, mocked, sleeps):
        mocked.get(ORDERS, status=429, headers={"Retry-After": "1"})
        with pytest.raises(RateLimited) as caught:
            client.order_find("#1001")
        assert len(mocked.calls) == 3
        assert caught.value.retry_after == 1.0

    def test_long_retry_after_is_surfaced(self, client, mocked, sleeps):
        mocked.get(ORDERS, status=429, headers={"Retry-After": "30"})
        with pytest.raises(RateLimited) as caught:
            client.order_find("#1001")
        assert caught.value.retry_after == 30.0
        assert caught.value.status_code == 429
        assert len(mocked.calls) == 1
        assert sleeps == []

    def test_retry_after_past_the_deadline_is_surfaced(self, mocked, sleeps):
        client = GoKarlaClient(ENDPOINT, username="demo-shop", token=TOKEN, deadline=2)
        mocked.get(ORDERS, status=429, headers={"Retry-After": "3"})
        with pytest.raises(RateLimited):
            client.order_find("#1001")
        assert sleeps == []

    def test_429_without_retry_after(self, client, mocked, sleeps):
        mocked.get(ORDERS, status=429)
        with pytest.raises(RateLimited) as caught:
            client.order_find("#1001")
        assert caught.value.retry_after is None


class TestRefusedResponses:
    def test_redirect_is_not_followed(self, client, mocked):
        mocked.get(ORDERS, status=302, headers={"Location": "http://169.254.169.254/"})
        with pytest.raises(UnexpectedResponse, match="redirect") as caught:
            client.order_find("#1001")
        assert caught.value.status_code == 302
        assert len(mocked.calls) == 1  # nothing was asked of the redirect's target

    def test_declared_body_over_2_mb_is_refused(self, client, mocked):
        mocked.get(
            ORDERS,
            body=b"[]",
            content_type="application/json",
            headers={"Content-Length": str(3 * 1024 * 1024)},
        )
        with pytest.raises(UnexpectedResponse, match="2 MB"):
            client.order_find("#1001")

    def test_streamed_body_over_2_mb_is_refused(self, client, mocked):
        huge = b"[" + b'"x",' * (600 * 1024) + b'"x"]'
        mocked.get(ORDERS, body=huge, content_type="application/json")
        with pytest.raises(UnexpectedResponse, match="2 MB"):
            client.order_find("#1001")
        assert "Content-Length" not in mocked.calls[0].response.headers

    def test_body_just_under_the_cap_is_read(self, client, mocked):
        body = json.dumps([{**ORDER, "padding": "x" * (2 * 1024 * 1024 - 1000)}])
        mocked.get(ORDERS, body=body, content_type="application/json")
        assert client.order_find("#1001")

    def test_html_is_refused(self, client, mocked):
        mocked.get(ORDERS, body="<html>Maintenance</html>", content_type="text/html")
        with pytest.raises(NotGoKarlaAPI, match="web page, not GoKarla's API") as caught:
            client.order_find("#1001")
        assert "Maintenance" not in str(caught.value)

    def test_broken_json_is_refused(self, client, mocked):
        mocked.get(ORDERS, body='[{"order_number": ', content_type="application/json")
        with pytest.raises(UnexpectedResponse, match="not valid JSON"):
            client.order_find("#1001")

    def test_deeply_nested_json_is_refused(self, client, mocked):
        mocked.get(ORDERS, body="[" * 100_000 + "]" * 100_000, content_type="application/json")
        with pytest.raises(UnexpectedResponse):
            client.order_find("#1001")

    def test_json_of_the_wrong_shape_is_refused(self, client, mocked):
        mocked.get(ORDERS, json={"orders": "none"})
        with pytest.raises(UnexpectedResponse):
            client.order_find("#1001")

    def test_json_subtype_is_accepted(self, client, mocked):
        mocked.get(ORDERS, body=json.dumps([ORDER]), content_type="application/vnd.karla+json")
        assert client.order_find("#1001")


class TestRequests:
    def test_headers_auth_and_timeouts(self, client, mocked):
        mocked.get(ORDERS, json=[ORDER])
        client.order_find("1001")
        request = mocked.calls[0].request
        expected_auth = base64.b64encode(f"demo-shop:{TOKEN}".encode()).decode()
        assert request.headers["Authorization"] == f"Basic {expected_auth}"
        assert request.headers["Accept"] == "application/json"
        assert request.headers["User-Agent"].startswith("KarlaSidebar/")
        kwargs = request.req_kwargs
        assert kwargs["stream"] is True
        connect, read = kwargs["timeout"]
        assert connect <= 3.05
        assert 4 < read <= 5

    def test_one_session_per_thread_without_transport_retries(self):
        session = client_module.http_session()
        assert client_module.http_session() is session
        adapter = session.get_adapter("https://demo-shop.gokarla.io")
        assert adapter.max_retries.total == 0
        others = []
        thread = threading.Thread(target=lambda: others.append(client_module.http_session()))
        thread.start()
        thread.join()
        assert others[0] is not session


class TestSecrets:
    def test_repr_shows_root_and_username_but_never_the_token(self, client):
        text = repr(client)
        assert "https://demo-shop.gokarla.io/api/v1" in text
        assert "demo-shop" in text
        assert TOKEN not in text
        assert TOKEN not in str(client)
        assert not hasattr(client, "token")

    @pytest.mark.parametrize(
        "failure",
        [
            {"status": 400, "json": {"message": f"bad key {TOKEN}"}},
            {"status": 401, "json": {"message": TOKEN}},
            {"status": 403},
            {"status": 404, "json": error_body("shop_not_found")},
            {"status": 500, "body": f"Traceback ... token={TOKEN}"},
            {"status": 503},
            {"status": 429, "headers": {"Retry-After": "60"}},
            {"status": 302, "headers": {"Location": f"https://x/?t={TOKEN}"}},
            {"body": requests.ConnectionError(f"failed with {TOKEN}")},
            {"body": requests.ReadTimeout(f"timed out {TOKEN}")},
            {"body": f"<html>{TOKEN}</html>", "content_type": "text/html"},
            {"body": f"[{TOKEN}", "content_type": "application/json"},
        ],
    )
    def test_no_failure_shows_the_token_or_the_reference(
        self, client, mocked, sleeps, caplog, failure
    ):
        caplog.set_level(logging.DEBUG)
        mocked.get(ORDERS, **failure)
        mocked.get(ROOT, **failure)
        for call in (client.verify, lambda: client.order_find("jane@example.com")):
            with pytest.raises(GoKarlaError) as caught:
                call()
            for text in (str(caught.value), repr(caught.value)):
                assert TOKEN not in text
                assert "jane@example.com" not in text
        logged = caplog.text
        assert TOKEN not in logged
        assert base64.b64encode(f"demo-shop:{TOKEN}".encode()).decode() not in logged
        assert "jane" not in logged
        assert "/api/v1/shops/demo-shop/orders params=email_id" in logged

    def test_one_log_line_per_request_with_path_and_parameter_names(self, client, mocked, caplog):
        caplog.set_level(logging.INFO, logger="karla_sidebar.gokarla")
        mocked.get(ORDERS, json=[])
        with pytest.raises(OrderNotFound):
            client.order_find("1001")
        lines = [r.getMessage() for r in caplog.records if r.name == "karla_sidebar.gokarla"]
        assert len(lines) == 2
        assert lines[0].startswith(
            "GoKarla GET /api/v1/shops/demo-shop/orders params=order_number -> 200 in "
        )
        assert "1001" not in " ".join(lines)


# Shapes that stress the URL: separators, traversal, encodings, e-mails, UUIDs, long text.
REFERENCES = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from("/.?#%&=+@:;\\ \x00\n\t0aZ#é中"), max_size=40),
    st.sampled_from(
        ["../../admin", "..", "/", "%00", "%2e%2e%2f", "a?b=c#d", "#1001", "@", "a@b.c", "?#"]
    ),
    st.uuids().map(str),
    st.uuids().map(lambda value: f"{value}/../x"),
    st.emails(),
    st.text(min_size=195, max_size=260),
    st.from_regex(r"[0-9]{8,14}", fullmatch=True),  # order numbers and external ids
    st.from_regex(r"1Z[0-9A-Z]{3}( [0-9A-Z]{3,4}){3}", fullmatch=True),  # grouped tracking
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reference=REFERENCES)
def test_any_reference_keeps_host_and_path_prefix(reference):
    client = GoKarlaClient(ENDPOINT, username="demo-shop", token=TOKEN, deadline=5)
    urls = []

    def answer(request):
        urls.append(request.url)
        return 200, {"Content-Type": "application/json"}, "[]"

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.add_callback(responses.GET, re.compile(r".*"), callback=answer)
        with contextlib.suppress(GoKarlaError):
            client.order_find(reference)
        assert len(urls) <= 2, "a not-found costs at most two calls"

    expected = reference.strip()
    for url in urls:
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == "https://demo-shop.gokarla.io"
        assert parts.path.startswith("/api/v1/shops/demo-shop/")
        assert parts.fragment == ""
        tail = parts.path.removeprefix("/api/v1/shops/demo-shop/")
        assert tail == "orders"
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
        [(name, [value])] = query.items()
        assert name in ("order_number", "order_name", "email_id", "uuid", "external_id")
        assert value == expected or (name == "uuid" and value == expected.lower())


@pytest.mark.parametrize(
    ("no_proxy", "expected"),
    [("", {"https": "http://proxy.internal:3128"}), (".gokarla.io", {})],
)
def test_the_environment_s_proxy_is_used_as_requests_would(
    client, mocked, monkeypatch, no_proxy, expected
):
    """The proxy of HTTPS_PROXY, except for hosts NO_PROXY names; the CA bundle of
    REQUESTS_CA_BUNDLE."""
    for name in ("https_proxy", "no_proxy", "all_proxy", "ALL_PROXY", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)  # only the variables set here count
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/corporate.pem")
    mocked.get(ORDERS, json=[ORDER])
    client.order_find("1001")
    client.order_find("1001")
    sent = [call.request.req_kwargs for call in mocked.calls]
    assert [kwargs["proxies"] for kwargs in sent] == [expected, expected]
    # What requests itself would take from the environment, reading it on every call:
    settings_per_call = requests.Session().merge_environment_settings(ORDERS, {}, None, None, None)
    assert settings_per_call["proxies"] == expected
    assert {kwargs["verify"] for kwargs in sent} == {"/etc/ssl/certs/corporate.pem"}


class TestFirstAnswering:
    """Connect tries the API roots a URL leads to; the first that answers as GoKarla wins."""

    SHOP_ROOT = Endpoint("https://demo-shop.gokarla.io/api/v1", "demo-shop")
    API_ROOT = Endpoint("https://api.gokarla.io/v1", "demo-shop")
    SHOP = {"slug": "demo-shop", "name": "Demo Shop"}

    def verify(self):
        return first_answering((self.SHOP_ROOT, self.API_ROOT), username="u", token=TOKEN)

    def test_the_first_root_that_answers_is_chosen(self, mocked):
        mocked.get(f"{self.SHOP_ROOT.api_root}/shops/demo-shop", json=self.SHOP)
        endpoint, shop = self.verify()
        assert (endpoint, shop.name) == (self.SHOP_ROOT, "Demo Shop")
        assert len(mocked.calls) == 1

    @pytest.mark.parametrize(
        "not_gokarla",
        [
            {"status": 404, "json": {"detail": "Not Found"}},
            {"status": 200, "body": "<html>GoKarla</html>", "content_type": "text/html"},
            {"status": 302, "headers": {"Location": "https://gokarla.io/login"}},
            {"body": requests.ConnectionError("no such host")},
        ],
    )
    def test_an_address_that_is_not_gokarla_s_api_moves_on(self, mocked, not_gokarla):
        mocked.get(f"{self.SHOP_ROOT.api_root}/shops/demo-shop", **not_gokarla)
        mocked.get(f"{self.API_ROOT.api_root}/shops/demo-shop", json=self.SHOP)
        endpoint, _ = self.verify()
        assert endpoint == self.API_ROOT

    @pytest.mark.parametrize(
        ("status", "key", "error"),
        [
            (400, "invalid_credentials", CredentialsRejected),
            (401, "api_key_revoked", TokenRevoked),
            (404, "shop_not_found", ShopNotFound),
        ],
    )
    def test_gokarla_s_own_refusal_ends_the_search(self, mocked, status, key, error):
        mocked.get(
            f"{self.SHOP_ROOT.api_root}/shops/demo-shop", status=status, json=error_body(key)
        )
        with pytest.raises(error):
            self.verify()
        assert len(mocked.calls) == 1

    def test_no_root_answering_names_every_address_tried(self, mocked):
        for endpoint in (self.SHOP_ROOT, self.API_ROOT):
            mocked.get(f"{endpoint.api_root}/shops/demo-shop", status=404, json={"detail": "x"})
        with pytest.raises(NotGoKarlaAPI) as caught:
            self.verify()
        assert caught.value.message.startswith(
            "No GoKarla API answered at https://demo-shop.gokarla.io/api/v1 and "
            "https://api.gokarla.io/v1."
        )


HOOKS = f"{ROOT}/webhooks"
HOOK_UUID = "3f2b8c1d-7e4a-4b6f-9c2d-1a0e5f7b8c9d"
HOOK_SECRET = "whsec-test-7d1e2c3b4a"
HOOK = {
    "uuid": HOOK_UUID,
    "url": "https://karla.example.com/webhooks/gokarla/abc/",
    "enabled_events": ["shipments"],
    "description": "Karla Sidebar",
    "status": "active",
    "secret": HOOK_SECRET,
    "merchant_slug": "demo-shop",
}


def not_connected() -> requests.ConnectionError:
    """What requests raises when the connection could not be opened (nothing was sent)."""
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    reason = NewConnectionError(None, "Connection refused")
    return requests.ConnectionError(MaxRetryError(None, ROOT, reason=reason))


def create_hook(client):
    return client.webhook_create(
        url=HOOK["url"], secret=HOOK_SECRET, enabled_events=("shipments",), description="Karla"
    )


class TestWebhooks:
    def test_create_sends_the_documented_body_and_returns_the_webhook(self, client, mocked):
        mocked.post(HOOKS, json=HOOK, status=201)
        hook = create_hook(client)
        assert (hook.uuid, hook.url, hook.enabled_events, hook.status) == (
            HOOK_UUID,
            HOOK["url"],
            ("shipments",),
            "active",
        )
        assert json.loads(mocked.calls[0].request.body) == {
            "url": HOOK["url"],
            "enabled_events": ["shipments"],
            "secret": HOOK_SECRET,
            "description": "Karla",
            "status": "active",
        }
        assert HOOK_SECRET not in repr(hook)

    def test_a_viewer_key_may_not_create_one(self, client, mocked, sleeps):
        mocked.post(HOOKS, status=403, json=error_body("insufficient_permissions"))
        with pytest.raises(AccessDenied):
            create_hook(client)
        assert len(mocked.calls) == 1

    @pytest.mark.parametrize(
        "failure",
        [
            {"status": 503},
            {"status": 502},
            {"status": 429, "headers": {"Retry-After": "1"}},
            {"body": requests.ConnectionError("connection reset by peer")},
            {"body": requests.ReadTimeout("read timed out")},
        ],
    )
    def test_a_write_that_may_have_reached_gokarla_is_never_repeated(
        self, client, mocked, sleeps, failure
    ):
        mocked.post(HOOKS, **failure)
        with pytest.raises(GoKarlaError):
            create_hook(client)
        assert len(mocked.calls) == 1
        assert sleeps == []

    def test_a_connection_that_could_not_be_opened_is_tried_once_more(self, client, mocked, sleeps):
        mocked.post(HOOKS, body=not_connected())
        mocked.post(HOOKS, json=HOOK, status=201)
        assert create_hook(client).uuid == HOOK_UUID
        assert len(mocked.calls) == 2

    def test_refused_settings_say_what_to_check(self, client, mocked):
        mocked.post(HOOKS, status=422, json={"detail": [{"loc": ["body", "url"], "msg": "x"}]})
        with pytest.raises(InvalidInput) as caught:
            create_hook(client)
        assert "PUBLIC_BASE_URL" in caught.value.message

    def test_search_pages_and_reads_the_list(self, client, mocked):
        listed = {key: value for key, value in HOOK.items() if key != "secret"}
        mocked.get(HOOKS, json={"data": [listed], "metadata": {}})
        [hook] = client.webhooks_search(page=2, per_page=100)
        assert hook.uuid == HOOK_UUID
        assert queries(mocked) == [{"page": ["2"], "per_page": ["100"]}]

    def test_update_patches_only_what_it_is_given(self, client, mocked):
        mocked.patch(f"{HOOKS}/{HOOK_UUID}", json={**HOOK, "url": "https://new.example.com/"})
        hook = client.webhook_update(HOOK_UUID.upper(), url="https://new.example.com/")
        assert hook.url == "https://new.example.com/"
        assert mocked.calls[0].request.method == "PATCH"
        assert json.loads(mocked.calls[0].request.body) == {"url": "https://new.example.com/"}
        with pytest.raises(TypeError):
            client.webhook_update(HOOK_UUID, secret="x")

    def test_delete_answers_nothing(self, client, mocked):
        mocked.delete(f"{HOOKS}/{HOOK_UUID}", status=204)
        assert client.webhook_delete(HOOK_UUID) is None
        assert mocked.calls[0].request.method == "DELETE"

    def test_deleting_a_webhook_gokarla_does_not_have(self, client, mocked):
        mocked.delete(f"{HOOKS}/{HOOK_UUID}", status=404, json=error_body("webhook_not_found"))
        with pytest.raises(WebhookNotFound):
            client.webhook_delete(HOOK_UUID)
        mocked.delete(f"{HOOKS}/{HOOK_UUID}", status=404, json={"detail": "Not Found"})
        with pytest.raises(NotGoKarlaAPI):
            client.webhook_delete(HOOK_UUID)

    def test_an_id_that_is_no_uuid_is_never_sent(self, client, mocked):
        with pytest.raises(WebhookNotFound):
            client.webhook_delete("../orders")
        assert len(mocked.calls) == 0

    def test_the_secret_is_never_logged(self, client, mocked, caplog):
        caplog.set_level(logging.DEBUG)
        mocked.post(HOOKS, json=HOOK, status=201)
        create_hook(client)
        assert HOOK_SECRET not in caplog.text
        assert "GoKarla POST /api/v1/shops/demo-shop/webhooks params=- -> 201" in caplog.text

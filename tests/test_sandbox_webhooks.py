"""The sandbox's writes: webhooks (create, search, update, delete), the shipment-events POST
that moves a shipment along, the signed webhook deliveries it sends, and the auto-advance.

Every test here changes data, so each starts a sandbox of its own; the session's shared
``sandbox`` stays pristine for the other tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from sandbox.server import SandboxServer, make_server
from tests.test_sandbox import (
    DEMO,
    DRAFT_1002,
    DRAFT_1003,
    OUTLET,
    VIEWER,
    WEBHOOK,
    assert_422,
    assert_fields,
    assert_gokarla_error,
    assert_order,
    assert_tracking,
    at,
    search,
    the_order,
    the_tracking,
)

HOOKS = "/shops/demo-shop/webhooks"


def call(
    server: SandboxServer,
    method: str,
    path: str,
    *,
    auth: Any = DEMO,
    body: Any = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    **params: Any,
) -> requests.Response:
    return requests.request(
        method,
        f"{server.url}/api/v1{path}",
        json=body,
        data=raw,
        params=params,
        auth=auth,
        headers=headers,
        timeout=10,
        allow_redirects=False,
    )


def create_hook(server: SandboxServer, **fields: Any) -> dict:
    response = call(server, "POST", HOOKS, body=fields)
    assert response.status_code == 201, response.text
    return response.json()


def shipment_of(server: SandboxServer, number: str) -> str:
    return the_tracking(the_order(server, number))["id"]


def post_event(
    server: SandboxServer, shipment_id: str, event_name: str, **fields: Any
) -> requests.Response:
    path = f"/shops/demo-shop/shipments/{shipment_id}/events"
    return call(server, "POST", path, body={"event_name": event_name, **fields})


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with make_server().start() as own:
        yield own


class Receiver:
    """A local webhook endpoint: records every POST, answers ``status`` after ``delay``."""

    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.arrived:
                    receiver.received.append((self.path, dict(self.headers), body))
                    receiver.arrived.notify_all()
                time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        serve = threading.Thread(target=self.http.serve_forever, args=(0.05,), daemon=True)
        serve.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}{path}"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[str, dict[str, str], bytes]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.http.shutdown()
    endpoint.http.server_close()


# --- webhooks ---------------------------------------------------------------------------------


class TestWebhookCrud:
    def test_create_answers_201_with_the_secret_only_then(self, server):
        created = create_hook(
            server,
            url="https://hooks.example/karla",
            enabled_events=["shipments"],
            secret="s3cret",
            description="Karla Sidebar",
        )
        assert_fields(created, WEBHOOK, "webhook", required=WEBHOOK)
        assert created["secret"] == "s3cret"
        assert (created["status"], created["merchant_slug"]) == ("active", "demo-shop")
        assert created["enabled_events"] == ["shipments"]
        [found] = call(server, "GET", HOOKS).json()
        assert "secret" not in found
        assert found == {k: v for k, v in created.items() if k != "secret"}

    def test_a_secret_is_generated_when_none_is_given(self, server):
        created = create_hook(server, url="http://127.0.0.1:9/hook")
        assert len(created["secret"]) >= 24
        assert (created["enabled_events"], created["description"]) == ([], None)

    def test_the_same_url_again_updates_that_webhook_and_answers_200(self, server):
        first = create_hook(server, url="https://hooks.example/a", enabled_events=["*"])
        again = call(
            server,
            "POST",
            HOOKS,
            body={
                "url": "https://hooks.example/a",
                "enabled_events": ["shipments"],
                "status": "inactive",
                "secret": "new",
            },
        )
        assert again.status_code == 200
        body = again.json()
        assert (body["uuid"], body["secret"]) == (first["uuid"], "new")
        assert (body["enabled_events"], body["status"]) == (["shipments"], "inactive")
        assert len(call(server, "GET", HOOKS).json()) == 1
        kept = call(server, "POST", HOOKS, body={"url": "https://hooks.example/a"}).json()
        assert kept["secret"] == "new", "no secret in the request: the secret stays"

    def test_search_filters_and_pages(self, server):
        hooks = [create_hook(server, url=f"https://hooks.example/{n}") for n in range(3)]
        call(server, "PATCH", f"{HOOKS}/{hooks[1]['uuid']}", body={"status": "inactive"})

        def found(**params: Any) -> list[str]:
            response = call(server, "GET", HOOKS, **params)
            assert response.status_code == 200, response.text
            return [hook["url"] for hook in response.json()]

        urls = [hook["url"] for hook in hooks]
        assert found() == urls
        assert found(status="inactive") == [urls[1]]
        assert found(status="active") == [urls[0], urls[2]]
        assert found(uuid=hooks[2]["uuid"]) == [urls[2]]
        assert found(url=urls[0]) == [urls[0]]
        assert found(url="https://hooks.example/none") == []
        assert found(per_page=2, page=2) == [urls[2]]
        assert_422(call(server, "GET", HOOKS, status="paused"), (["query", "status"], "enum"))

    def test_webhooks_belong_to_their_shop(self, server):
        create_hook(server, url="https://hooks.example/shop")
        assert call(server, "GET", "/shops/demo-outlet/webhooks", auth=OUTLET).json() == []

    def test_patch_changes_only_what_it_names(self, server):
        hook = create_hook(
            server, url="https://hooks.example/p", description="old", enabled_events=["*"]
        )
        response = call(
            server,
            "PATCH",
            f"{HOOKS}/{hook['uuid']}",
            body={"enabled_events": ["shipments/delivered"], "description": None},
        )
        assert response.status_code == 200
        body = response.json()
        assert "secret" not in body
        assert (body["enabled_events"], body["description"]) == (["shipments/delivered"], None)
        assert (body["url"], body["status"], body["created_at"]) == (
            hook["url"],
            "active",
            hook["created_at"],
        )
        assert at(body["updated_at"]) >= at(hook["updated_at"])

    def test_delete_answers_204_then_404(self, server):
        hook = create_hook(server, url="https://hooks.example/d")
        deleted = call(server, "DELETE", f"{HOOKS}/{hook['uuid']}")
        assert (deleted.status_code, deleted.content) == (204, b"")
        assert call(server, "GET", HOOKS).json() == []
        again = call(server, "DELETE", f"{HOOKS}/{hook['uuid']}")
        assert_gokarla_error(again, 404, "webhook_not_found")

    @pytest.mark.parametrize("method", ["PATCH", "DELETE"])
    def test_an_unknown_webhook_is_404(self, server, method):
        response = call(server, method, f"{HOOKS}/7f0c1d5e-1111-4222-8333-944455556666", body={})
        assert_gokarla_error(response, 404, "webhook_not_found")

    @pytest.mark.parametrize(
        ("body", "raw", "expected"),
        [
            (None, b"", [(["body"], "missing")]),
            (None, b"{not json", [(["body", 1], "json_invalid")]),
            ([], None, [(["body"], "model_attributes_type")]),
            ({}, None, [(["body", "url"], "missing")]),
            ({"url": "hooks.example/x"}, None, [(["body", "url"], "url_parsing")]),
            ({"url": "ftp://hooks.example/x"}, None, [(["body", "url"], "url_scheme")]),
            ({"url": 7}, None, [(["body", "url"], "url_type")]),
            (
                {"url": "https://h.example", "enabled_events": "shipments"},
                None,
                [(["body", "enabled_events"], "list_type")],
            ),
            (
                {"url": "https://h.example", "enabled_events": [1]},
                None,
                [(["body", "enabled_events", 0], "string_type")],
            ),
            (
                {"url": "https://h.example", "status": "paused", "description": 5},
                None,
                [(["body", "description"], "string_type"), (["body", "status"], "enum")],
            ),
            (
                {"url": "https://h.example", "secret": 1},
                None,
                [(["body", "secret"], "string_type")],
            ),
        ],
    )
    def test_a_bad_creation_body_is_422(self, server, body, raw, expected):
        headers = {"Content-Type": "application/json"} if raw is not None else None
        response = call(server, "POST", HOOKS, body=body, raw=raw, headers=headers)
        assert_422(response, *expected)
        assert call(server, "GET", HOOKS).json() == []

    def test_a_bad_update_body_is_422(self, server):
        hook = create_hook(server, url="https://hooks.example/u")
        path = f"{HOOKS}/{hook['uuid']}"
        assert_422(call(server, "PATCH", path, body={"status": "on"}), (["body", "status"], "enum"))
        assert_422(
            call(server, "PATCH", path, body={"url": "mailto:x@y"}), (["body", "url"], "url_scheme")
        )


class TestViewerKey:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("POST", HOOKS),
            ("PATCH", f"{HOOKS}/7f0c1d5e-1111-4222-8333-944455556666"),
            ("DELETE", f"{HOOKS}/7f0c1d5e-1111-4222-8333-944455556666"),
            ("POST", f"/shops/demo-shop/shipments/{DRAFT_1002}/events"),
        ],
    )
    def test_writes_are_403(self, server, method, path):
        body = {"url": "https://hooks.example/v", "event_name": "ORDER_CANCELLED"}
        response = call(server, method, path, auth=VIEWER, body=body)
        assert_gokarla_error(response, 403, "insufficient_permissions")
        assert call(server, "GET", HOOKS, auth=VIEWER).json() == []
        assert the_order(server, "1002")["trackings"] == []


# --- shipment events --------------------------------------------------------------------------


class TestShipmentEvents:
    def test_an_event_moves_1001_along(self, server):
        shipment = shipment_of(server, "1001")
        before = datetime.now(UTC).replace(microsecond=0)
        response = post_event(server, shipment, "OUT_FOR_DELIVERY")
        assert response.status_code == 201, response.text
        tracking = response.json()
        assert_tracking(tracking)
        assert (tracking["id"], tracking["state"]) == (shipment, "transit")
        last = tracking["events"][-1]
        assert (last["event_key"], last["phase"]) == ("OUT_FOR_DELIVERY", "in_delivery")
        assert last["location"]["city"] == "Berlin"
        assert at(tracking["updated_at"]) >= before
        order = the_order(server, "1001")
        assert_order(order)
        assert the_tracking(order) == tracking
        delivered = post_event(server, shipment, "SUCCESSFULLY_DELIVERED").json()
        assert delivered["state"] == "delivered"
        assert [e["event_key"] for e in delivered["events"][-2:]] == [
            "OUT_FOR_DELIVERY",
            "SUCCESSFULLY_DELIVERED",
        ]

    def test_the_sync_filter_sees_the_change(self, server):
        since = datetime.now(UTC).replace(microsecond=0)
        assert search(server, shipment_updated_since=since.isoformat()) == []
        post_event(server, shipment_of(server, "1006"), "ARRIVAL_AT_TRANSPORT_HUB")
        changed = search(server, shipment_updated_since=since.isoformat())
        assert [order["order_number"] for order in changed] == ["1006"]
        assert the_tracking(changed[0])["flag"] == "delay", "the delay is not over yet"

    def test_the_event_time_is_the_requests_or_now(self, server):
        shipment = shipment_of(server, "1007")
        when = "2030-01-02T03:04:05+01:00"
        given = post_event(server, shipment, "OUT_FOR_DELIVERY", event_time=when, external_id="x-1")
        assert at(given.json()["events"][-1]["time"]) == at(when)
        started = datetime.now(UTC).replace(microsecond=0)
        now = post_event(server, shipment, "SUCCESSFULLY_DELIVERED").json()["events"][-1]
        assert started <= at(now["time"]) <= datetime.now(UTC)

    def test_the_answer_speaks_the_requested_language(self, server):
        response = call(
            server,
            "POST",
            f"/shops/demo-shop/shipments/{shipment_of(server, '1001')}/events",
            body={"event_name": "OUT_FOR_DELIVERY"},
            headers={"Accept-Language": "de"},
        )
        last = response.json()["events"][-1]
        assert (last["language"], last["event_strings"]["event_status"]) == ("de", "In Zustellung")

    def test_a_drafts_first_carrier_event_makes_it_a_tracking(self, server):
        response = post_event(server, DRAFT_1002, "PARCEL_HANDED_TO_CARRIER")
        assert response.status_code == 201, response.text
        tracking = response.json()
        assert_tracking(tracking)
        assert tracking["id"] == DRAFT_1002
        carrier = tracking["carrier"]
        assert carrier["carrier_reference"] == "dhl"
        assert carrier["tracking_number"] == "00340434739183560307"  # documented in sandbox.data
        assert carrier["tracking_number"] in carrier["tracking_url"]
        assert [e["event_key"] for e in tracking["events"]] == [
            "ORDER_CREATED",
            "ORDER_IN_PROCESSING",
            "PARCEL_HANDED_TO_CARRIER",
        ]
        assert tracking["state"] == "transit"
        order = the_order(server, "1002")
        assert order["trackings"] == [tracking]
        with make_server().start() as another:
            again = post_event(another, DRAFT_1002, "PARCEL_HANDED_TO_CARRIER").json()
        assert again["carrier"]["tracking_number"] == carrier["tracking_number"], "deterministic"

    def test_a_pre_transit_event_leaves_a_draft_a_draft(self, server):
        response = post_event(server, DRAFT_1003, "ORDER_CANCELLED")
        assert response.status_code == 201
        draft = response.json()
        assert_tracking(draft, draft=True)
        assert "carrier" not in draft
        assert (draft["state"], draft["events"][-1]["event_key"]) == ("pending", "ORDER_CANCELLED")
        assert [t["id"] for t in the_order(server, "1003")["trackings"]] != [DRAFT_1003]
        assert DRAFT_1003 not in {t["id"] for t in the_order(server, "1003")["trackings"]}

    @pytest.mark.parametrize(
        ("shop", "auth", "shipment_id"),
        [
            ("demo-shop", DEMO, "7f0c1d5e-1111-4222-8333-944455556666"),
            ("demo-shop", DEMO, "00340434161094042557"),  # a tracking number is no id
            ("demo-outlet", OUTLET, DRAFT_1002),  # another shop's shipment
        ],
    )
    def test_an_unknown_shipment_is_404(self, server, shop, auth, shipment_id):
        response = call(
            server,
            "POST",
            f"/shops/{shop}/shipments/{shipment_id}/events",
            auth=auth,
            body={"event_name": "OUT_FOR_DELIVERY"},
        )
        assert_gokarla_error(response, 404, "shipment_not_found")

    def test_the_shipment_id_ignores_case(self, server):
        assert post_event(server, DRAFT_1002.upper(), "ORDER_CANCELLED").status_code == 201

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            ({}, [(["body", "event_name"], "missing")]),
            ({"event_name": "TELEPORTED"}, [(["body", "event_name"], "enum")]),
            ({"event_name": "out_for_delivery"}, [(["body", "event_name"], "enum")]),
            (
                {"event_name": "OUT_FOR_DELIVERY", "event_time": "soon"},
                [(["body", "event_time"], "datetime_from_date_parsing")],
            ),
            (
                {"event_name": "OUT_FOR_DELIVERY", "event_time": 5},
                [(["body", "event_time"], "datetime_type")],
            ),
            (
                {"event_name": "OUT_FOR_DELIVERY", "external_id": 5},
                [(["body", "external_id"], "string_type")],
            ),
        ],
    )
    def test_a_bad_body_is_422(self, server, body, expected):
        path = f"/shops/demo-shop/shipments/{DRAFT_1002}/events"
        assert_422(call(server, "POST", path, body=body), *expected)
        assert the_order(server, "1002")["trackings"] == []

    def test_faults_trigger_on_the_shipment_id(self, server):
        assert_gokarla_error(
            post_event(server, "err-500", "OUT_FOR_DELIVERY"), 500, "internal_server_error"
        )
        response = post_event(server, "ERR-429", "OUT_FOR_DELIVERY")
        assert_gokarla_error(response, 429, "rate_limit_exceeded")
        flaky = [post_event(server, "err-flaky", "OUT_FOR_DELIVERY").status_code for _ in range(2)]
        assert flaky == [503, 404]
        assert_422(post_event(server, "err-500", "NOPE"), (["body", "event_name"], "enum"))


# --- deliveries -------------------------------------------------------------------------------


def verify(secret: str, header: str, body: bytes) -> int:
    """The receiver's check of ``Karla-Signature``: returns ``t``."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256)
    assert hmac.compare_digest(expected.hexdigest(), fields["v1"])
    return int(fields["t"])


class TestDeliveries:
    def test_an_event_is_delivered_signed_with_the_order_and_shipment(self, server, receiver):
        hook = create_hook(
            server, url=receiver.url(), enabled_events=["shipments"], secret="s3cret"
        )
        shipment = shipment_of(server, "1001")
        started = time.time()
        assert post_event(server, shipment, "OUT_FOR_DELIVERY").status_code == 201
        [(path, headers, raw)] = receiver.wait_for(1)
        assert path == "/hook"
        assert headers["Content-Type"] == "application/json"
        assert started - 1 <= verify("s3cret", headers["Karla-Signature"], raw) <= time.time()
        body = json.loads(raw)
        assert set(body) == {
            "uuid",
            "event",
            "event_group",
            "direction",
            "created_at",
            "merchant_slug",
            "context",
        }
        assert body["event"] == "shipments/in_delivery/OUT_FOR_DELIVERY"
        assert (body["event_group"], body["direction"]) == (
            "shipment_in_delivery",
            "merchant_customer",
        )
        assert body["merchant_slug"] == "demo-shop"
        at(body["created_at"])
        context = body["context"]
        assert set(context) == {"order", "shipments", "customer"}
        assert_order(context["order"], "webhook order")
        assert context["order"]["order_number"] == "1001"
        [tracking] = context["shipments"]
        assert_tracking(tracking, "webhook shipment")
        assert (
            tracking["id"] == shipment and tracking["events"][-1]["event_key"] == "OUT_FOR_DELIVERY"
        )
        assert context["order"]["trackings"] == [tracking]
        assert context["customer"] == {"email": "jane@example.com", "name": "Jane Doe"}
        assert server.wait_for_deliveries(5)
        [delivery] = server.deliveries
        assert (delivery.webhook_uuid, delivery.url, delivery.event) == (
            hook["uuid"],
            receiver.url(),
            body["event"],
        )
        assert (delivery.status, delivery.error, delivery.uuid) == (200, None, body["uuid"])

    def test_only_matching_active_webhooks_get_the_event(self, server, receiver):
        wanted = {
            "all": [],
            "star": ["*"],
            "phase": ["shipments/in_delivery"],
            "exact": ["shipments/in_delivery/OUT_FOR_DELIVERY"],
        }
        unwanted = {
            "other": ["shipments/delivered"],
            "partial": ["shipments/in_deliv"],
            "claims": ["claims"],
        }
        for name, events in {**wanted, **unwanted}.items():
            create_hook(server, url=receiver.url(f"/{name}"), enabled_events=events)
        create_hook(server, url=receiver.url("/inactive"), status="inactive")
        call(
            server,
            "POST",
            "/shops/demo-outlet/webhooks",
            auth=OUTLET,
            body={"url": receiver.url("/outlet")},
        )
        post_event(server, shipment_of(server, "1001"), "OUT_FOR_DELIVERY")
        assert server.wait_for_deliveries(5)
        assert sorted(path for path, _, _ in receiver.received) == sorted(
            f"/{name}" for name in wanted
        )
        assert {delivery.status for delivery in server.deliveries} == {200}

    def test_a_return_goes_the_other_way(self, server, receiver):
        create_hook(server, url=receiver.url())
        post_event(server, shipment_of(server, "1005"), "RETURN_CREATED")
        [(_, _, raw)] = receiver.wait_for(1)
        body = json.loads(raw)
        assert (body["event"], body["direction"]) == (
            "shipments/return_created/RETURN_CREATED",
            "customer_merchant",
        )

    def test_a_draft_event_is_delivered_with_the_draft(self, server, receiver):
        create_hook(server, url=receiver.url(), enabled_events=["shipments/order_processed"])
        post_event(server, DRAFT_1002, "ORDER_CANCELLED")
        [(_, _, raw)] = receiver.wait_for(1)
        context = json.loads(raw)["context"]
        [draft] = context["shipments"]
        assert_tracking(draft, draft=True)
        assert draft["id"] == DRAFT_1002 and context["order"]["trackings"] == []

    def test_the_api_answers_before_the_receiver_does(self, server):
        slow = Receiver(delay=1.0)
        try:
            create_hook(server, url=slow.url())
            started = time.monotonic()
            assert (
                post_event(server, shipment_of(server, "1001"), "OUT_FOR_DELIVERY").status_code
                == 201
            )
            assert time.monotonic() - started < 0.5
            assert server.wait_for_deliveries(5)
            assert server.deliveries[-1].status == 200
        finally:
            slow.http.shutdown()
            slow.http.server_close()

    def test_a_failed_delivery_is_logged(self, server):
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            port = unused.getsockname()[1]
        create_hook(server, url=f"http://127.0.0.1:{port}/hook")  # nobody listens there
        post_event(server, shipment_of(server, "1001"), "OUT_FOR_DELIVERY")
        assert server.wait_for_deliveries(5)
        [delivery] = server.deliveries
        assert (delivery.status, delivery.error) == (None, "ConnectionRefusedError")

    def test_a_redirect_is_not_followed(self, server):
        redirecting = Receiver(status=302)
        try:
            create_hook(server, url=redirecting.url())
            post_event(server, shipment_of(server, "1001"), "OUT_FOR_DELIVERY")
            assert server.wait_for_deliveries(5)
            assert [d.status for d in server.deliveries] == [302]
            assert len(redirecting.received) == 1
        finally:
            redirecting.http.shutdown()
            redirecting.http.server_close()


class TestAutoAdvance:
    def test_advance_one_moves_the_first_unfinished_shipment_a_step(self, server):
        change = server.api.advance_one()
        assert change is not None
        assert change.shipment["id"] == shipment_of(server, "1001")
        assert (
            the_tracking(the_order(server, "1001"))["events"][-1]["event_key"] == "OUT_FOR_DELIVERY"
        )

    def test_the_auto_advance_leaves_the_documented_orders_and_drafts_alone(self, server):
        """Only 1001 and the generated orders move by themselves: 1002's draft, 1006's delay,
        1011's pickup stay as the README describes them however long the demo runs."""
        changes = (server.api.advance_one() for _ in range(400))
        moved = {change.order["order_number"] for change in changes if change is not None}
        assert "1001" in moved
        assert all(number == "1001" or int(number) >= 5001 for number in moved)
        assert the_order(server, "1002")["trackings"] == []

    def test_advance_every_moves_shipments_and_delivers_webhooks(self, receiver):
        with make_server(advance_every=0.05).start() as server:
            create_hook(server, url=receiver.url())
            assert receiver.wait_for(2), "deliveries from the auto-advance"
            changed = search(server, shipment_updated_since=server.started_at.isoformat())
            assert changed, "the moved shipments' orders"
        count = len(receiver.received)
        time.sleep(0.3)
        assert len(receiver.received) <= count + 1, "stopped with the server"

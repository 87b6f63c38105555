"""GoKarla's webhook deliveries: only a signed, fresh, first delivery to the right account's
address changes its shipment index; everything else is refused with a 4xx and changes nothing.

The end-to-end test at the bottom has a sandbox of its own deliver to a live server.
"""

from __future__ import annotations

import json
import logging
import time

import pytest
import requests
from django.test import Client
from django.urls import reverse

from karla_sidebar import lookups
from karla_sidebar import webhooks as intake
from karla_sidebar.gokarla.signatures import signature_compute
from karla_sidebar.models import ShipmentIndexEntry, WebhookDelivery
from sandbox.deliveries import payload
from sandbox.server import make_server

SECRET = "acme-webhook-secret-0123456789"
GLOBEX_SECRET = "globex-webhook-secret-9876543210"
DHL_1001 = "00340434161094042557"
DRAFT_1002 = "5c76cf4e-f62f-47c2-bcd4-722953d5582a"
TRACKING_OF_DRAFT_1002 = "00340434739183560307"  # the sandbox derives it from the id
ADA = lookups.Actor(source="sidebar", actor_id="a-1", actor_name="Ada Agent")


def with_secret(account, secret: str):
    """The account as after registration: GoKarla signs its deliveries with ``secret``."""
    account.webhook_secret = secret
    account.webhook_status = account.WebhookStatus.ACTIVE
    account.save()
    return account


@pytest.fixture
def acme(shop_account):
    return with_secret(shop_account, SECRET)


@pytest.fixture
def globex(globex_account):
    return with_secret(globex_account, GLOBEX_SECRET)


@pytest.fixture(scope="module")
def order_1001(sandbox) -> dict:
    """Order 1001 exactly as the session's sandbox serves it."""
    response = requests.get(
        f"{sandbox.url}/api/v1/shops/demo-shop/orders",
        params={"order_number": "1001"},
        auth=("demo-shop", "karla-demo-token"),
        timeout=10,
    )
    [order] = response.json()
    return order


def event_body(order: dict, **changes) -> bytes:
    body = payload("demo-shop", "DEPARTURE_FROM_TRANSPORT_HUB", order, order["trackings"][0])
    body.update(changes)
    return json.dumps(body).encode()


def signed(body: bytes, secret: str = SECRET, at: int | None = None) -> str:
    timestamp = int(time.time()) if at is None else at
    return f"t={timestamp},v1={signature_compute(secret=secret, timestamp=timestamp, body=body)}"


def deliver(account, body: bytes, signature: str | None = None, **extra):
    """POST a delivery as GoKarla would (a client that never had a session or CSRF token)."""
    headers = {} if signature is None else {"HTTP_KARLA_SIGNATURE": signature}
    url = reverse("gokarla-webhook", kwargs={"webhook_id": account.webhook_id})
    return Client(enforce_csrf_checks=True).post(
        url, body, content_type="application/json", **headers, **extra
    )


def indexed(account) -> list[str]:
    return sorted(
        ShipmentIndexEntry.objects.filter(account_id=account.pk).values_list(
            "tracking_number", flat=True
        )
    )


def nothing_changed(*accounts) -> bool:
    return all(
        not ShipmentIndexEntry.objects.filter(account_id=account.pk).exists()
        and not WebhookDelivery.objects.filter(account_id=account.pk).exists()
        for account in accounts
    )


def error_code(response) -> str:
    return response.json()["error"]["code"]


class TestAValidDelivery:
    def test_indexes_the_order_s_shipments_and_answers_fast(self, acme, order_1001):
        body = event_body(order_1001)
        response = deliver(acme, body, signed(body))
        assert response.status_code == 200
        assert response.json() == {"status": "accepted", "indexed": 1}
        entry = ShipmentIndexEntry.objects.get(account_id=acme.pk, tracking_number=DHL_1001)
        assert (entry.order_uuid, entry.order_number, entry.source) == (
            order_1001["uuid"],
            "1001",
            "webhook",
        )
        acme.refresh_from_db()
        assert acme.webhook_last_delivery_at is not None

    def test_get_shipment_then_finds_it_through_the_index(self, workspace, acme, order_1001):
        body = event_body(order_1001)
        assert deliver(acme, body, signed(body)).status_code == 200
        result = lookups.shipment_lookup(workspace=workspace, reference=DHL_1001, actor=ADA)
        assert result.first.record.tracking_number == DHL_1001
        assert result.first.resolved_by == "index"

    def test_trackings_without_their_order_are_indexed_under_their_order(self, acme):
        tracking = {
            "id": "0f6c2a9e-1b3d-4c5e-8f7a-9b0c1d2e3f4a",
            "order_id": "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
            "order_number": "4711",
            "carrier": {"tracking_number": "1Z 999 AA1 0123456784", "carrier_reference": "ups"},
            "events": [],
        }
        body = json.dumps({"event": "shipments/in_transit/X", "context": {"shipments": [tracking]}})
        response = deliver(acme, body.encode(), signed(body.encode()))
        assert response.status_code == 200
        entry = ShipmentIndexEntry.objects.get(account_id=acme.pk)
        assert (entry.order_uuid, entry.order_number, entry.tracking_key) == (
            tracking["order_id"],
            "4711",
            "1Z999AA10123456784",
        )

    def test_is_never_framed_and_sets_no_cookie(self, acme, order_1001):
        body = event_body(order_1001)
        response = deliver(acme, body, signed(body))
        assert response["X-Frame-Options"] == "DENY"
        assert not response.cookies

    def test_a_header_with_extra_schemes_is_read(self, acme, order_1001):
        body = event_body(order_1001)
        header = f"v0=abc, {signed(body)}, v1={'0' * 64}"
        assert deliver(acme, body, header).status_code == 200


class TestRefused:
    @pytest.mark.parametrize(
        ("tamper", "status", "code"),
        [
            (lambda body, sig: (body.replace(b"1001", b"1002"), sig), 401, "invalid_signature"),
            (lambda body, sig: (body, sig[:-4] + "0000"), 401, "invalid_signature"),
            (lambda body, sig: (body, signed(body, secret="not-the-secret")), 401,
             "invalid_signature"),
            (lambda body, sig: (body, signed(body, at=int(time.time()) - 301)), 401,
             "signature_expired"),
            (lambda body, sig: (body, signed(body, at=int(time.time()) + 360)), 401,
             "signature_expired"),
            (lambda body, sig: (body, None), 400, "invalid_signature_header"),
            (lambda body, sig: (body, "sha256=abc"), 400, "invalid_signature_header"),
            (lambda body, sig: (body, sig.replace("t=", "t=-")), 400, "invalid_signature_header"),
            (lambda body, sig: (body, f"{sig},t=1"), 400, "invalid_signature_header"),
            (lambda body, sig: (body, "t=1," + "v1=" + "g" * 64), 400, "invalid_signature_header"),
        ],
        ids=[
            "tampered body",
            "tampered signature",
            "another secret",
            "old timestamp",
            "future timestamp",
            "no header",
            "not our scheme",
            "negative time",
            "two times",
            "not hex",
        ],
    )  # fmt: skip
    def test_a_delivery_that_is_not_gokarla_s_now(self, acme, order_1001, tamper, status, code):
        body = event_body(order_1001)
        body, signature = tamper(body, signed(body))
        response = deliver(acme, body, signature)
        assert (response.status_code, error_code(response)) == (status, code)
        assert nothing_changed(acme)

    def test_a_replayed_delivery_changes_nothing(self, acme, order_1001):
        body = event_body(order_1001)
        signature = signed(body)
        assert deliver(acme, body, signature).status_code == 200
        first = ShipmentIndexEntry.objects.get(account_id=acme.pk).indexed_at
        replay = deliver(acme, body, signature)
        assert (replay.status_code, error_code(replay)) == (409, "repeated_delivery")
        assert ShipmentIndexEntry.objects.get(account_id=acme.pk).indexed_at == first
        assert WebhookDelivery.objects.filter(account_id=acme.pk).count() == 1

    def test_a_replay_with_its_header_dressed_up_is_still_a_replay(self, acme, order_1001):
        body = event_body(order_1001)
        signature = signed(body)
        assert deliver(acme, body, signature).status_code == 200
        dressed = f" v0=x , {signature.replace(',', ' , ')} , v1={'a' * 64}"
        assert deliver(acme, body, dressed).status_code == 409

    def test_another_workspace_s_address_with_this_workspace_s_signature(
        self, acme, globex, order_1001
    ):
        body = event_body(order_1001)
        response = deliver(globex, body, signed(body, secret=SECRET))
        assert (response.status_code, error_code(response)) == (401, "invalid_signature")
        assert nothing_changed(acme, globex)

    def test_malformed_json(self, acme):
        body = b'{"event": "shipments/in_transit/X", "context": {'
        response = deliver(acme, body, signed(body))
        assert (response.status_code, error_code(response)) == (400, "invalid_json")
        assert nothing_changed(acme)

    def test_a_body_that_is_not_utf_8(self, acme):
        body = b"\xff\xfe{}"
        assert deliver(acme, body, signed(body)).status_code == 400
        assert nothing_changed(acme)

    def test_a_huge_payload(self, acme, order_1001):
        body = event_body(order_1001, padding="x" * (intake.MAX_BODY_BYTES + 1))
        response = deliver(acme, body, signed(body))
        assert (response.status_code, error_code(response)) == (413, "payload_too_large")
        assert nothing_changed(acme)

    @pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
    def test_any_other_method(self, acme, method):
        url = reverse("gokarla-webhook", kwargs={"webhook_id": acme.webhook_id})
        assert getattr(Client(), method)(url).status_code == 405
        assert nothing_changed(acme)

    @pytest.mark.parametrize("webhook_id", ["unknown-id", "x" * 65, "a.b", "%00"])
    def test_an_address_no_webhook_has(self, acme, order_1001, webhook_id):
        body = event_body(order_1001)
        response = Client().post(
            f"/webhooks/gokarla/{webhook_id}/",
            body,
            content_type="application/json",
            HTTP_KARLA_SIGNATURE=signed(body),
        )
        assert response.status_code == 404
        assert nothing_changed(acme)

    def test_an_account_without_a_registered_webhook(self, shop_account, order_1001):
        body = event_body(order_1001)
        assert deliver(shop_account, body, signed(body, secret="")).status_code == 404
        assert nothing_changed(shop_account)


class TestOddShapes:
    @pytest.mark.parametrize(
        "data",
        [
            [],
            "text",
            {},
            {"event": "claims/created", "context": {"customer": {"email": "jane@example.com"}}},
            {"context": {"order": "1001", "orders": [None, 3], "shipments": {"id": "x"}}},
            {"context": {"order": {"products": []}, "shipments": [{"carrier": {}}, []]}},
            {"context": {"shipments": [{"id": "s-1", "carrier": {"tracking_number": "X1"}}]}},
            {"context": {"order": {"uuid": "u-1", "trackings": [{"events": "many"}, 5]}}},
        ],
        ids=[
            "a list",
            "a string",
            "an empty object",
            "a claim",
            "wrong types",
            "no identifiers",
            "a tracking without its order's uuid",
            "an unreadable tracking",
        ],
    )
    def test_are_taken_in_logged_and_change_no_index(self, acme, caplog, data):
        caplog.set_level(logging.DEBUG)
        body = json.dumps(data).encode()
        response = deliver(acme, body, signed(body))
        assert (response.status_code, response.json()["indexed"]) == (202, 0)
        assert not ShipmentIndexEntry.objects.filter(account_id=acme.pk).exists()
        assert "nothing to index" in caplog.text
        assert SECRET not in caplog.text and body.decode() not in caplog.text


class TestHousekeeping:
    def test_deliveries_older_than_a_day_are_deleted_now_and_then(
        self, acme, order_1001, monkeypatch
    ):
        from datetime import timedelta

        from django.utils import timezone

        old = WebhookDelivery.objects.create(
            account=acme, key="0" * 64, received_at=timezone.now() - timedelta(days=2)
        )
        recent = WebhookDelivery.objects.create(
            account=acme, key="1" * 64, received_at=timezone.now() - timedelta(hours=1)
        )
        monkeypatch.setattr(intake, "_next_purge", 0.0)
        body = event_body(order_1001)
        assert deliver(acme, body, signed(body)).status_code == 200
        kept = set(WebhookDelivery.objects.values_list("pk", flat=True))
        assert old.pk not in kept and recent.pk in kept and len(kept) == 2

    def test_refusals_are_logged_with_their_reason_only(self, acme, order_1001, caplog):
        caplog.set_level(logging.DEBUG)
        body = event_body(order_1001)
        forged = signed(body, secret="wrong")
        deliver(acme, body, forged)
        deliver(acme, body, signed(body))
        assert "Webhook delivery refused: 401 invalid_signature" in caplog.text
        for secret in (SECRET, forged, body.decode()):
            assert secret not in caplog.text
        assert SECRET not in repr(acme)


# --- end to end --------------------------------------------------------------------------------


@pytest.fixture
def own_sandbox(settings):
    """A sandbox of this test's own (its shipments move), the app pointed at it."""
    server = make_server(port=0).start()
    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_URL = server.url
    yield server
    server.stop()


def test_a_new_shipment_is_found_by_its_tracking_number_seconds_later(
    own_sandbox, live_server, settings, workspace
):
    from accounts.services import account_connect

    settings.PUBLIC_BASE_URL = live_server.url
    account = account_connect(
        workspace=workspace,
        url=own_sandbox.url,
        username="demo-shop",
        token="karla-demo-token",
        label="Demo Shop",
    )
    assert account.webhook_status == "active"

    own_sandbox.api.add_shipment_event("demo-shop", DRAFT_1002, "PARCEL_HANDED_TO_CARRIER")

    deadline = time.monotonic() + 10
    while TRACKING_OF_DRAFT_1002 not in indexed(account) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert TRACKING_OF_DRAFT_1002 in indexed(account)
    [delivery] = own_sandbox.deliveries
    assert (delivery.status, delivery.error) == (200, None)
    result = lookups.shipment_lookup(
        workspace=workspace, reference=TRACKING_OF_DRAFT_1002, actor=ADA
    )
    assert result.first.resolved_by == "index"
    assert result.first.record.id == DRAFT_1002


def test_a_cached_get_order_is_not_reused_after_gokarla_s_news(
    own_sandbox, live_server, settings, workspace
):
    """Get Order 1002 (placed) is cached; GoKarla's webhook says its parcel left: asked again
    within the cache's minute, Get Order shows the news instead of the cached answer."""
    from accounts.services import account_connect

    settings.PUBLIC_BASE_URL = live_server.url
    account = account_connect(
        workspace=workspace,
        url=own_sandbox.url,
        username="demo-shop",
        token="karla-demo-token",
        label="Demo Shop",
    )
    before = lookups.order_lookup(workspace=workspace, reference="1002", actor=ADA)
    assert before.first.record.status.value == "placed"
    assert lookups.order_lookup(workspace=workspace, reference="1002", actor=ADA).first.cached

    own_sandbox.api.add_shipment_event("demo-shop", DRAFT_1002, "PARCEL_HANDED_TO_CARRIER")
    deadline = time.monotonic() + 10
    while TRACKING_OF_DRAFT_1002 not in indexed(account) and time.monotonic() < deadline:
        time.sleep(0.05)

    after = lookups.order_lookup(workspace=workspace, reference="1002", actor=ADA)
    assert not after.first.cached
    assert after.first.record.status.value == "fulfilled"

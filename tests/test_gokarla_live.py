"""The GoKarla client against the live sandbox: real sockets, real status codes, real faults."""

import logging
import threading
import time

import pytest

from karla_sidebar.gokarla import (
    AccessDenied,
    CredentialsRejected,
    Endpoint,
    GoKarlaClient,
    NoTrackingYet,
    OrderNotFound,
    OrderStatus,
    RateLimited,
    ShipmentNotFound,
    ShipmentStatus,
    ShopNotFound,
    TimedOut,
    TokenRevoked,
    Unavailable,
    UnexpectedResponse,
    endpoint_from_url,
)

DHL_1001 = "00340434161094042557"
UPS_1006 = "1Z999AA10123456784"
EXTERNAL_ID_1001 = "5712345601001"
# Draft shipments (no tracking number yet), as documented in sandbox.data.
DRAFT_1002 = "5c76cf4e-f62f-47c2-bcd4-722953d5582a"
DRAFT_1003 = "cf6bf46d-6d6b-4529-a3e3-aa85929d550e"


@pytest.fixture
def connect(sandbox_settings):
    """A client for a sandbox shop, its endpoint built from the sandbox URL like an admin's."""

    def connect(username="demo-shop", token="karla-demo-token", **options):
        endpoint = endpoint_from_url(sandbox_settings.url, username=username)
        return GoKarlaClient(endpoint, username=username, token=token, **options)

    return connect


@pytest.fixture
def shop(connect):
    return connect()


@pytest.fixture
def requests_logged(caplog):
    """The status of each request the client made, from its log (one line per request)."""
    caplog.set_level(logging.INFO, logger="karla_sidebar.gokarla")

    def statuses():
        return [
            record.getMessage().split(" -> ")[1].split(" in ")[0]
            for record in caplog.records
            if record.name == "karla_sidebar.gokarla"
        ]

    return statuses


def only(orders):
    [order] = orders
    return order


class TestAnchorOrders:
    def test_1001_is_in_transit_with_dhl(self, shop):
        order = only(shop.order_find("1001"))
        assert order.status is OrderStatus.FULFILLED
        assert order.customer_name == "Jane Doe"
        assert order.email == "jane@example.com"
        assert order.address.city == "Berlin"
        assert len(order.line_items) >= 2
        [shipment] = order.shipments
        assert shipment.status is ShipmentStatus.IN_TRANSIT
        assert (shipment.carrier_name, shipment.tracking_number) == ("DHL", DHL_1001)
        assert shipment.eta is not None
        assert len(shipment.events) >= 3
        times = [event.time for event in shipment.events]
        assert times == sorted(times, reverse=True)

    def test_1001_by_name_and_by_uuid(self, shop):
        order = only(shop.order_find("1001"))
        assert only(shop.order_find(order.order_name)).uuid == order.uuid
        assert only(shop.order_find(order.uuid.upper())).order_number == "1001"

    def test_1002_is_placed(self, shop):
        order = only(shop.order_find("1002"))
        assert order.status is OrderStatus.PLACED
        assert order.fulfilled_shipments == 0

    def test_1003_is_partially_fulfilled(self, shop):
        order = only(shop.order_find("1003"))
        assert order.status is OrderStatus.PARTIALLY_FULFILLED
        assert (order.fulfilled_shipments, order.expected_shipments) == (1, 2)
        assert [s.status for s in order.shipments if s.tracking_number] == [
            ShipmentStatus.DELIVERED
        ]

    def test_1004_is_cancelled(self, shop):
        assert only(shop.order_find("1004")).status is OrderStatus.CANCELLED

    def test_1005_is_delivered(self, shop):
        order = only(shop.order_find("1005"))
        assert order.status is OrderStatus.DELIVERED
        assert order.email == "jane@example.com"

    def test_jane_has_1001_and_1005(self, shop):
        numbers = {order.order_number for order in shop.order_find("jane@example.com")}
        assert {"1001", "1005"} <= numbers

    def test_1006_is_delayed_with_ups(self, shop):
        [shipment] = only(shop.order_find("1006")).shipments
        assert shipment.status is ShipmentStatus.DELAYED
        assert shipment.is_delayed
        assert (shipment.carrier_name, shipment.tracking_number) == ("UPS", UPS_1006)

    def test_1007_delivery_failed(self, shop):
        [shipment] = only(shop.order_find("1007")).shipments
        assert shipment.status is ShipmentStatus.DELIVERY_FAILED

    def test_demo_outlet_2001_is_fulfilled(self, connect):
        outlet = connect("demo-outlet", "karla-outlet-token")
        assert only(outlet.order_find("2001")).status is OrderStatus.FULFILLED

    def test_unknown_order_is_not_found(self, shop, requests_logged):
        with pytest.raises(OrderNotFound):
            shop.order_find("999999")
        assert requests_logged() == ["200", "200"]

    def test_1001_by_external_id_in_one_call(self, shop, requests_logged):
        order = only(shop.order_find(EXTERNAL_ID_1001))
        assert (order.order_number, order.external_id) == ("1001", EXTERNAL_ID_1001)
        assert requests_logged() == ["200"]

    def test_an_unknown_external_id_costs_two_calls(self, shop, requests_logged):
        with pytest.raises(OrderNotFound):
            shop.order_find("5712345609999")
        assert requests_logged() == ["200", "200"]

    def test_another_shops_order_is_not_found(self, shop):
        with pytest.raises(OrderNotFound):
            shop.order_find("2001")


class TestShipments:
    def test_by_tracking_number(self, shop):
        shipment = shop.shipment_get(DHL_1001)
        assert shipment.order_number == "1001"
        assert shipment.status is ShipmentStatus.IN_TRANSIT
        assert shipment.carrier_name == "DHL"

    def test_by_id(self, shop):
        [tracked] = only(shop.order_find("1001")).shipments
        shipment = shop.shipment_get(tracked.id.upper())
        assert (shipment.id, shipment.tracking_number) == (tracked.id, DHL_1001)

    def test_delayed_by_tracking_number(self, shop):
        assert shop.shipment_get(UPS_1006).status is ShipmentStatus.DELAYED

    @pytest.mark.parametrize(
        ("typed", "expected"),
        [
            ("1Z999 AA1 0123456784", UPS_1006),  # as UPS prints it
            (" 1Z999 AA1 012 345 6784 ", UPS_1006),
            ("0034 0434 1610 9404 2557", DHL_1001),
        ],
    )
    def test_a_tracking_number_typed_with_spaces(self, shop, requests_logged, typed, expected):
        assert shop.shipment_get(typed).tracking_number == expected
        assert requests_logged() == ["200"]

    @pytest.mark.parametrize(
        ("draft", "order_number"), [(DRAFT_1002, "1002"), (DRAFT_1003, "1003")]
    )
    def test_a_draft_shipment_is_no_tracking_yet(self, shop, requests_logged, draft, order_number):
        expected = {
            product.shipment_id for product in only(shop.order_find(order_number)).line_items
        }
        assert draft in expected
        for reference in (draft, draft.upper()):
            with pytest.raises(NoTrackingYet) as caught:
                shop.shipment_get(reference)
            assert caught.value.status_code == 200
            assert caught.value.message == NoTrackingYet.default_message
            assert "No tracking data yet" in caught.value.message
        assert requests_logged()[-2:] == ["200", "200"]

    def test_another_shops_draft_is_not_found(self, connect):
        with pytest.raises(ShipmentNotFound):
            connect("demo-outlet", "karla-outlet-token").shipment_get(DRAFT_1002)

    @pytest.mark.parametrize("reference", ["NOPE-123", "8f0c1f4e-3b7a-4c1e-9a55-2f1d8c6b7a10"])
    def test_unknown_shipment_is_not_found(self, shop, reference):
        with pytest.raises(ShipmentNotFound) as caught:
            shop.shipment_get(reference)
        assert caught.value.status_code == 404


class TestCredentials:
    def test_right_pair_verifies_and_names_the_shop(self, shop):
        assert shop.verify().name == "Demo Shop"

    def test_wrong_pair_is_rejected(self, connect):
        with pytest.raises(CredentialsRejected) as caught:
            connect(token="not-the-token").verify()
        assert type(caught.value) is CredentialsRejected
        assert caught.value.status_code == 400
        assert "rejected the username or API token" in caught.value.message

    def test_revoked_token(self, connect):
        with pytest.raises(TokenRevoked) as caught:
            connect(token="karla-revoked-token").verify()
        assert caught.value.status_code == 401
        assert "revoked or has expired" in caught.value.message

    def test_username_without_api_access(self, connect):
        with pytest.raises(AccessDenied) as caught:
            connect(username="no-api-access").verify()
        assert caught.value.status_code == 403
        assert "API access is not enabled" in caught.value.message

    def test_key_of_another_shop(self, sandbox_settings):
        endpoint = Endpoint(
            url=sandbox_settings.url,
            api_root=f"{sandbox_settings.url}/api/v1",
            shop_slug="demo-shop",
        )
        client = GoKarlaClient(endpoint, username="demo-outlet", token="karla-outlet-token")
        with pytest.raises(AccessDenied) as caught:
            client.verify()
        assert "belongs to another shop" in caught.value.message

    def test_unknown_shop(self, sandbox_settings):
        endpoint = Endpoint(
            url=sandbox_settings.url,
            api_root=f"{sandbox_settings.url}/api/v1",
            shop_slug="no-such-shop",
        )
        client = GoKarlaClient(endpoint, username="demo-shop", token="karla-demo-token")
        with pytest.raises(ShopNotFound) as caught:
            client.verify()
        assert caught.value.status_code == 404
        assert "Check the GoKarla URL" in caught.value.message
        with pytest.raises(ShopNotFound):
            client.order_find("1001")


class TestFaults:
    @pytest.mark.parametrize("lookup", ["order_find", "shipment_get"])
    def test_500_is_unavailable_without_retry(self, shop, requests_logged, lookup):
        with pytest.raises(Unavailable) as caught:
            getattr(shop, lookup)("err-500")
        assert caught.value.status_code == 500
        assert requests_logged() == ["500"]

    def test_503_is_unavailable_after_two_retries(self, shop, requests_logged):
        with pytest.raises(Unavailable) as caught:
            shop.order_find("err-503")
        assert caught.value.status_code == 503
        assert requests_logged() == ["503", "503", "503"]

    def test_flaky_succeeds_after_exactly_one_retry(self, sandbox, shop, requests_logged):
        sandbox.reset_faults()
        assert shop.orders_search(order_number="err-flaky") == []
        assert requests_logged() == ["503", "200"]

    def test_flaky_lookup_ends_as_not_found(self, sandbox, shop, requests_logged):
        sandbox.reset_faults()
        with pytest.raises(OrderNotFound):
            shop.order_find("err-flaky")
        assert requests_logged() == ["503", "200", "503", "200"]

    def test_timeout_ends_within_the_deadline(self, connect):
        client = connect(deadline=2)
        started = time.monotonic()
        with pytest.raises(TimedOut):
            client.order_find("err-timeout")
        assert time.monotonic() - started < 3

    def test_rate_limit_beyond_the_deadline_is_surfaced(self, connect, requests_logged):
        with pytest.raises(RateLimited) as caught:
            connect(deadline=1.5).order_find("err-429")
        assert caught.value.retry_after == 2
        assert requests_logged() == ["429"]

    @pytest.mark.parametrize("lookup", ["order_find", "shipment_get"])
    def test_malformed_json(self, shop, lookup):
        with pytest.raises(UnexpectedResponse, match="not valid JSON"):
            getattr(shop, lookup)("err-malformed")

    def test_html_maintenance_page(self, shop):
        with pytest.raises(UnexpectedResponse, match="other than JSON"):
            shop.order_find("err-html")

    @pytest.mark.parametrize("lookup", ["order_find", "shipment_get"])
    def test_redirect_is_not_followed(self, shop, requests_logged, lookup):
        with pytest.raises(UnexpectedResponse, match="redirect") as caught:
            getattr(shop, lookup)("err-redirect")
        assert caught.value.status_code == 302
        assert requests_logged() == ["302"]

    def test_huge_body_is_refused(self, shop):
        with pytest.raises(UnexpectedResponse, match="2 MB"):
            shop.order_find("err-huge")


def test_twenty_lookups_in_one_thread_open_one_connection(sandbox, connect):
    client = connect()
    before = sandbox.connections_opened
    failures = []

    def lookups():
        try:
            for _ in range(10):
                client.order_find("1001")
                client.shipment_get(DHL_1001)
        except Exception as exc:  # reported by the assertion below
            failures.append(exc)

    worker = threading.Thread(target=lookups)  # a fresh thread: a fresh session
    worker.start()
    worker.join()
    assert failures == []
    assert sandbox.connections_opened - before == 1

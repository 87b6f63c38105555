"""The GoKarla client against the live sandbox: real sockets, real status codes, real faults."""

import logging
import threading
import time

import pytest

from accounts.connection import endpoint_candidates, first_answering
from karla_sidebar.gokarla import (
    AccessDenied,
    CredentialsRejected,
    Endpoint,
    GoKarlaClient,
    NotGoKarlaAPI,
    OrderNotFound,
    OrderStatus,
    RateLimited,
    ShipmentStatus,
    ShopNotFound,
    TimedOut,
    TokenRevoked,
    Unavailable,
    UnexpectedResponse,
)
from karla_sidebar.gokarla.client import ORDERS_PATH

DHL_1001 = "00340434161094042557"
UPS_1006 = "1Z999AA10123456784"
EXTERNAL_ID_1001 = "5712345601001"
HERMES_1005 = "10037492015842"
# Draft shipments (no tracking number yet), as documented in sandbox.data.
DRAFT_1002 = "5c76cf4e-f62f-47c2-bcd4-722953d5582a"
DRAFT_1003 = "cf6bf46d-6d6b-4529-a3e3-aa85929d550e"


@pytest.fixture
def connect(sandbox_settings):
    """A client for a sandbox shop, its endpoint built from the sandbox URL like an admin's."""

    def connect(username="demo-shop", token="karla-demo-token", **options):
        endpoint = endpoint_candidates(sandbox_settings.url, username=username).endpoints[0]
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
        assert shipment.eta.language == "de"
        assert shipment.eta.text  # GoKarla's own words, not a date
        assert len(shipment.events) >= 3
        assert any(event.time is None for event in shipment.events)
        times = [event.time for event in shipment.events if event.time]
        assert times == sorted(times, reverse=True)
        assert shipment.last_event.event_key == "DEPARTURE_FROM_TRANSPORT_HUB"

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

    def test_1004_is_placed_with_nothing_that_says_cancelled(self, shop):
        assert only(shop.order_find("1004")).status is OrderStatus.PLACED

    def test_1005_is_delivered_by_hermes_with_a_percentage_discount(self, shop):
        order = only(shop.order_find("1005"))
        assert order.status is OrderStatus.DELIVERED
        assert order.email == "jane@example.com"
        [shipment] = order.shipments
        assert (shipment.carrier_name, shipment.tracking_number) == ("Hermes", HERMES_1005)
        assert [(d.code, d.is_percentage) for d in order.discounts] == [("WELCOME10", True)]

    def test_1011_waits_at_a_packstation(self, shop):
        [shipment] = only(shop.order_find("1011")).shipments
        assert shipment.status is ShipmentStatus.READY_FOR_PICKUP
        assert shipment.pickup.name == "DHL Packstation 152"
        assert shipment.pickup.type == "locker"
        assert "04109 Leipzig" in shipment.pickup.address_line

    def test_jane_has_1001_and_1005(self, shop):
        numbers = {order.order_number for order in shop.order_find("jane@example.com")}
        assert {"1001", "1005"} <= numbers

    def test_1006_is_delayed_with_ups(self, shop):
        [shipment] = only(shop.order_find("1006")).shipments
        assert shipment.status is ShipmentStatus.DELAYED
        assert shipment.is_delayed
        assert (shipment.carrier_name, shipment.tracking_number) == ("UPS", UPS_1006)
        assert shipment.eta.is_window

    def test_1007_delivery_failed(self, shop):
        [shipment] = only(shop.order_find("1007")).shipments
        assert shipment.status is ShipmentStatus.DELIVERY_FAILED

    def test_demo_outlet_2001_is_fulfilled_by_deutsche_post(self, connect):
        outlet = connect("demo-outlet", "karla-outlet-token")
        order = only(outlet.order_find("2001"))
        assert order.status is OrderStatus.FULFILLED
        assert order.shipments[0].carrier_name == "Deutsche Post"

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


class TestWhatTheSandboxDoesNotHave:
    """GoKarla has no shipment lookup: the sandbox says so as GoKarla's server would."""

    @pytest.mark.parametrize(
        "path", [f"shipments/{DHL_1001}", "shipments", f"orders/{DRAFT_1002}", "tracking"]
    )
    def test_an_unknown_route_is_not_gokarla_s_api(self, shop, path):
        with pytest.raises(NotGoKarlaAPI) as caught:
            shop._get(f"shops/demo-shop/{path}", {}, _deadline(), not_found=OrderNotFound)
        assert caught.value.status_code == 404

    def test_drafts_are_named_by_line_items_only(self, shop):
        order = only(shop.order_find("1002"))
        assert order.draft_shipment_ids == (DRAFT_1002,)
        assert order.shipments == ()

    def test_orders_changed_since_a_moment(self, shop, sandbox):
        since = sandbox.started_at.isoformat()
        changed = shop.orders_search(shipment_updated_since=since, per_page=100)
        assert all(
            any(s.updated_at and s.updated_at >= sandbox.started_at for s in order.shipments)
            for order in changed
        )

    def test_paging_through_the_generated_orders(self, shop, sandbox):
        start = (sandbox.started_at.replace(microsecond=0)).isoformat()
        first = shop.orders_search(order_placed_to=start, per_page=100)
        second = shop.orders_search(order_placed_to=start, per_page=100, page=2)
        assert len(first) == 100
        assert second and {o.uuid for o in first}.isdisjoint({o.uuid for o in second})


def _deadline():
    from karla_sidebar.gokarla.client import _Deadline

    return _Deadline(5)


class TestConnectRoots:
    def test_the_typed_v1_path_answers(self, sandbox_settings):
        candidates = endpoint_candidates(f"{sandbox_settings.url}/v1/", username="demo-popup")
        endpoint, shop = first_answering(
            candidates.endpoints, username="demo-popup", token="karla-popup-token"
        )
        assert endpoint.api_root == f"{sandbox_settings.url}/v1"
        assert shop.name == "Demo Pop-up Store"

    def test_a_wrong_slug_is_no_such_shop(self, sandbox_settings):
        candidates = endpoint_candidates(
            sandbox_settings.url, username="demo-popup", shop_slug="demo-popp"
        )
        with pytest.raises(ShopNotFound):
            first_answering(candidates.endpoints, username="demo-popup", token="karla-popup-token")

    def test_the_orders_path_is_the_documented_one(self):
        assert ORDERS_PATH == "shops/{slug}/orders"


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
        endpoint = Endpoint(api_root=f"{sandbox_settings.url}/api/v1", shop_slug="demo-shop")
        client = GoKarlaClient(endpoint, username="demo-outlet", token="karla-outlet-token")
        with pytest.raises(AccessDenied) as caught:
            client.verify()
        assert "belongs to another shop" in caught.value.message

    def test_unknown_shop(self, sandbox_settings):
        endpoint = Endpoint(api_root=f"{sandbox_settings.url}/api/v1", shop_slug="no-such-shop")
        client = GoKarlaClient(endpoint, username="demo-shop", token="karla-demo-token")
        with pytest.raises(ShopNotFound) as caught:
            client.verify()
        assert caught.value.status_code == 404
        assert "no shop with this slug" in caught.value.message
        with pytest.raises(ShopNotFound):
            client.order_find("1001")


class TestFaults:
    def test_500_is_unavailable_without_retry(self, shop, requests_logged):
        with pytest.raises(Unavailable) as caught:
            shop.order_find("err-500")
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

    def test_malformed_json(self, shop):
        with pytest.raises(UnexpectedResponse, match="not valid JSON"):
            shop.order_find("err-malformed")

    def test_html_maintenance_page(self, shop):
        with pytest.raises(NotGoKarlaAPI, match="web page"):
            shop.order_find("err-html")

    def test_redirect_is_not_followed(self, shop, requests_logged):
        with pytest.raises(UnexpectedResponse, match="redirect") as caught:
            shop.order_find("err-redirect")
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
                client.order_find("jane@example.com")
        except Exception as exc:  # reported by the assertion below
            failures.append(exc)

    worker = threading.Thread(target=lookups)  # a fresh thread: a fresh session
    worker.start()
    worker.join()
    assert failures == []
    assert sandbox.connections_opened - before == 1

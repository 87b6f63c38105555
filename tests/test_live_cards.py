"""Live cards: an open order or shipment card asks the app (never GoKarla) every few seconds
whether GoKarla told of something newer, and updates itself when it did."""

import re
from html import unescape

import pytest

from accounts.services import account_connect
from karla_sidebar.models import LookupRecord, ShipmentIndexEntry
from karla_sidebar.shipment_index import shipment_index_update
from karla_sidebar.sidebar_session import SIDEBAR_TOKEN_HEADER
from sandbox.server import make_server
from tests.tokens import sidebar_token

HEADER = f"HTTP_{SIDEBAR_TOKEN_HEADER.upper().replace('-', '_')}"
DHL_1001 = "00340434161094042557"


@pytest.fixture
def own_sandbox(settings):
    """A sandbox of this test's own: its shipments move along without touching other tests'."""
    server = make_server(port=0).start()
    settings.SANDBOX_ENABLED, settings.SANDBOX_URL = True, server.url
    yield server
    server.stop()


@pytest.fixture
def account(workspace, own_sandbox):
    return account_connect(
        workspace=workspace,
        url=own_sandbox.url,
        username="demo-shop",
        token="karla-demo-token",
        label="Demo Shop",
    )


@pytest.fixture
def headers(workspace):
    return {
        HEADER: sidebar_token(workspace, customer_email="jane@example.com"),
        "HTTP_HX_REQUEST": "true",
    }


def live_url(body: str) -> str:
    match = re.search(r'data-live hx-get="([^"]+)"', body)
    assert match, "the card asks for live updates"
    return unescape(match.group(1))


def gokarla_reports(sandbox, account, event_key="OUT_FOR_DELIVERY"):
    """GoKarla moves 1001's parcel along and the index learns of it, as a webhook would."""
    from accounts.services import account_client

    order = account_client(account=account).order_find("1001")[0]
    sandbox.api.add_shipment_event("demo-shop", order.shipments[0].id, event_key)
    fresh = account_client(account=account).orders_search(uuid=order.uuid)
    shipment_index_update(account=account, orders=fresh, source=ShipmentIndexEntry.Source.WEBHOOK)


def test_a_card_without_news_is_left_alone_at_the_cost_of_one_query(
    client, account, headers, django_assert_num_queries
):
    body = client.post("/sidebar/order/", {"reference": "1001"}, **headers).content.decode()
    url = live_url(body)
    assert url.startswith("/sidebar/live/?action=order&")
    with django_assert_num_queries(3):  # the token's workspace, the account, the index
        response = client.get(url, **headers)
    assert response.status_code == 204
    assert SIDEBAR_TOKEN_HEADER not in response  # polling does not keep a session alive


def test_a_card_updates_itself_when_gokarla_reports_news(client, account, own_sandbox, headers):
    body = client.post("/sidebar/order/", {"reference": "1001"}, **headers).content.decode()
    assert "In transit" in body
    url = live_url(body)
    gokarla_reports(own_sandbox, account)
    response = client.get(url, **headers)
    assert response.status_code == 200
    card = response.content.decode()
    assert "Out for delivery" in card
    assert "Updated: GoKarla reported news at" in card
    assert "Updated from GoKarla. Order #1001" in card  # the polite announcement
    assert client.get(live_url(card), **headers).status_code == 204  # and quiet again
    lookup, refresh = LookupRecord.objects.order_by("id")  # the refresh: one GoKarla call
    assert (refresh.action, refresh.outcome, refresh.cached) == ("order", "found", False)
    # The agent asked for the first; the card asked for the refresh on its own: the history
    # shows it apart from the agent's lookups.
    assert (lookup.automatic, refresh.automatic) == (False, True)


def test_a_shipment_card_updates_itself_too(client, account, own_sandbox, headers):
    body = client.post("/sidebar/shipment/", {"reference": DHL_1001}, **headers).content.decode()
    url = live_url(body)
    assert "action=shipment" in url
    gokarla_reports(own_sandbox, account, "SUCCESSFULLY_DELIVERED")
    card = client.get(url, **headers).content.decode()
    assert "Delivered" in card and "Updated: GoKarla reported news at" in card


def test_the_card_s_own_lookup_is_no_news(client, account, headers):
    first = client.post("/sidebar/order/", {"reference": "1001"}, **headers).content.decode()
    again = client.post(
        "/sidebar/order/", {"reference": "1001", "refresh": "1"}, **headers
    ).content.decode()
    assert client.get(live_url(first), **headers).status_code == 204
    assert client.get(live_url(again), **headers).status_code == 204


@pytest.mark.parametrize(
    "query",
    [
        "action=order&account=1&reference=1001&since=0",
        "action=refund&account=1&reference=1001&since=0&v=a:1",
        "action=order&account=x&reference=1001&since=0&v=a:1",
        "action=order&account=1&reference=1001&since=0&v=nonsense",
    ],
)
def test_a_malformed_question_is_a_400(client, account, headers, query):
    assert client.get(f"/sidebar/live/?{query}", **headers).status_code == 400


def test_another_workspace_s_account_is_a_404(client, account, headers, other_workspace):
    from accounts.models import GoKarlaAccount

    theirs = GoKarlaAccount.objects.create(
        workspace=other_workspace, label="Theirs", url="https://x.gokarla.io", username="x"
    )
    query = f"action=order&account={theirs.pk}&reference=1001&since=0&v=a:1"
    assert client.get(f"/sidebar/live/?{query}", **headers).status_code == 404


def test_without_a_session_it_is_a_401(client, account):
    query = "action=order&account=1&reference=1001&since=0&v=a:1"
    assert client.get(f"/sidebar/live/?{query}").status_code == 401

"""The agent sidebar over HTTP: launch, header sessions, Get Order, Get Shipment, errors."""

import re

import jwt
import pytest

from karla_sidebar.armincx import launch_token_mint
from karla_sidebar.models import LookupRecord
from karla_sidebar.sidebar_session import SIDEBAR_TOKEN_HEADER
from tests.tokens import launch_claims

REFUSED = "This sidebar link has expired or is invalid. Reopen the conversation."


def claims(**overrides):
    return launch_claims(conversation="c-42", **overrides)


def sign(payload, secret="acme-sidebar-secret-0123456789abcdef", algorithm="HS256"):
    return jwt.encode(payload, secret, algorithm=algorithm)


def launch(client, token):
    return client.get("/sidebar/", {"token": token})


def session_token(response) -> str:
    match = re.search(r'name="karla-sidebar-token" content="([^"]+)"', response.content.decode())
    assert match, "the sidebar page carries its session token"
    return match.group(1)


@pytest.fixture
def agent(client, workspace, shop_account):
    """An agent in Acme's sidebar: a client plus the sidebar token header."""
    response = launch(client, sign(claims(customer_email="jane@example.com", tz="Europe/Berlin")))
    assert response.status_code == 200
    return {f"HTTP_{SIDEBAR_TOKEN_HEADER.upper().replace('-', '_')}": session_token(response)}


def post(client, path, headers, **data):
    return client.post(f"/sidebar/{path}/", data, **headers, HTTP_HX_REQUEST="true")


# Launch


def test_launch_shows_the_two_actions_with_contract_labels(client, shop_account, outlet_account):
    body = launch(client, sign(claims())).content.decode()
    for label in (
        "Get Order",
        "Order ID or reference number",
        "Get Shipment",
        "Shipment ID or tracking reference",
        "GoKarla account",
        "All accounts",
    ):
        assert label in body
    assert re.search(rf'<option value="{shop_account.pk}" selected>Demo Shop', body)


def test_single_account_has_no_account_selector(client, shop_account):
    body = launch(client, sign(claims())).content.decode()
    assert "All accounts" not in body


# Sessions: the header and nothing else


def test_sidebar_endpoints_need_the_header(client, alice, agent):
    client.force_login(alice)  # a Django session cookie does not authenticate the sidebar
    response = client.post("/sidebar/order/", {"reference": "1001"})
    assert response.status_code == 401
    assert "Reopen the conversation" in response.content.decode()


def test_header_session_works_without_cookies_and_is_renewed(client, agent):
    client.cookies.clear()
    response = post(client, "order", agent, reference="1001")
    assert response.status_code == 200
    assert response[SIDEBAR_TOKEN_HEADER]
    assert "token" not in response.request["QUERY_STRING"]


# Get Order


def test_order_1001_shows_everything_an_agent_needs(client, agent):
    response = post(client, "order", agent, reference="1001")
    body = response.content.decode()
    for expected in (
        "#1001",
        "Fulfilled",
        "Jane Doe",
        "jane@example.com",
        "Berlin",
        "Payment",
        "Paid",
        "Fulfillment",
        "SKU",
        "€",
        "00340434161094042557",
        "DHL",
        "Copy reply",
        "Refresh",
        "Demo Shop",
        "fetched",
    ):
        assert expected in body, expected
    assert body.count('class="qty"') >= 2


@pytest.mark.parametrize(
    ("reference", "status"),
    [
        ("1001", "Fulfilled"),
        ("1002", "Placed"),
        ("1003", "Partially fulfilled"),
        ("1004", "Placed"),  # GoKarla's payload says nothing of a cancellation
        ("1005", "Delivered"),
        ("1006", "Fulfilled"),
        ("1007", "Fulfilled"),
        ("#1001", "Fulfilled"),
    ],
)
def test_every_anchor_order_renders_its_status(client, agent, reference, status):
    body = post(client, "order", agent, reference=reference).content.decode()
    assert f">{status}</span>" in body
    assert "Jane Doe" in body or "Ship to" in body
    assert "Placed" in body and "Payment" in body and "Fulfillment" in body


def test_partially_fulfilled_order_says_how_much(client, agent):
    body = post(client, "order", agent, reference="1003").content.decode()
    assert "Partially fulfilled: 1 of 2 shipments" in body


def test_placed_order_says_no_tracking_yet(client, agent):
    body = post(client, "order", agent, reference="1002").content.decode()
    assert "No tracking yet" in body


def test_order_not_found_offers_all_accounts(client, agent, outlet_account):
    body = post(client, "order", agent, reference="9999").content.decode()
    assert "No order with that number or reference in this GoKarla account." in body
    assert "Search all accounts" in body


def test_search_all_accounts_finds_the_outlet_order(client, agent, outlet_account):
    body = post(client, "order", agent, reference="2001", account="all").content.decode()
    assert "#2001" in body and "Demo Outlet" in body


def test_email_search_lists_the_customers_orders(client, agent):
    body = post(client, "customer-orders", agent).content.decode()
    assert "1001" in body and "1005" in body
    assert "Recent orders" in body


@pytest.mark.parametrize("reference", ["", "   ", "x" * 201])
def test_empty_or_overlong_input_is_refused_with_a_message(client, agent, reference):
    response = post(client, "order", agent, reference=reference)
    assert response.status_code == 422
    body = response.content.decode()
    assert "Enter a reference" in body or "too long" in body


# Get Shipment


def test_shipment_shows_carrier_status_last_event_and_eta(client, agent):
    body = post(client, "shipment", agent, reference="00340434161094042557").content.decode()
    for expected in (
        "DHL",
        "00340434161094042557",
        "In transit",
        "Last event",
        "Estimated delivery",
        "Track on DHL",
        "All events",
        "ago",
    ):
        assert expected in body, expected
    assert "Not available yet" not in body


def test_delayed_shipment_is_flagged(client, agent):
    post(client, "order", agent, reference="1006")  # its parcel is known from now on
    body = post(client, "shipment", agent, reference="1Z999AA10123456784").content.decode()
    assert "Delayed" in body and "reports a delay" in body


def test_an_unknown_shipment_says_what_was_searched_and_offers_get_order(client, agent):
    body = post(client, "shipment", agent, reference="2001").content.decode()
    assert "or in the orders of jane@example.com" in body
    assert "GoKarla cannot look up tracking numbers directly" in body
    assert ">Get the customer's orders</button>" in body
    assert '<input type="hidden" name="reference" value="jane@example.com">' in body
    assert 'action="/sidebar/order/"' in body


def test_without_a_customer_the_not_found_offers_get_order_for_the_reference(
    client, workspace, shop_account
):
    response = launch(client, sign(claims()))
    headers = {f"HTTP_{SIDEBAR_TOKEN_HEADER.upper().replace('-', '_')}": session_token(response)}
    body = post(client, "shipment", headers, reference="2001").content.decode()
    assert ">Get Order 2001</button>" in body


def test_order_1001_shows_gokarla_s_german_eta_text(client, agent, sandbox):
    [order] = [o for o in sandbox.api.catalog.orders["demo-shop"] if o["order_number"] == "1001"]
    text = order["trackings"][0]["estimated_arrival"]["time_prediction"]
    body = post(client, "order", agent, reference="1001").content.decode()
    assert f"Estimated delivery: {text}" in body


def test_order_1011_shows_where_the_parcel_waits(client, agent):
    body = post(client, "order", agent, reference="1011").content.decode()
    assert "Waiting at:" in body
    assert '<strong>DHL Packstation 152</strong> <span class="muted small">(Parcel locker)' in body
    assert "Brühl 1, 04109 Leipzig" in body
    assert "Estimated delivery" not in body  # it is there already
    assert "Ready for pickup" in body


def test_order_1005_names_hermes_and_its_percentage_discount(client, agent):
    body = post(client, "order", agent, reference="1005").content.decode()
    assert "<span>Hermes</span>" in body
    assert "WELCOME10 (10%)" in body


def test_times_are_in_the_agents_time_zone(client, agent):
    body = post(client, "shipment", agent, reference="00340434161094042557").content.decode()
    assert re.search(r'datetime="[^"]+\+0[12]:00"', body)  # Europe/Berlin from the launch


# Failures (every fault trigger: tests/test_resilience.py)


def test_revoked_token_tells_agent_to_ask_an_admin(client, agent, shop_account):
    type(shop_account).objects.filter(pk=shop_account.pk).update(api_token="karla-revoked-token")
    body = post(client, "order", agent, reference="1001").content.decode()
    assert "revoked" in body and "Settings → Integrations → GoKarla" in body


# Isolation


def test_account_of_another_workspace_answers_404(client, agent, globex_account):
    response = post(client, "order", agent, reference="1001", account=str(globex_account.pk))
    assert response.status_code == 404
    body = response.content.decode()
    assert "That GoKarla account is not connected to this workspace." in body
    assert "#1001" not in body
    assert LookupRecord.objects.get().outcome == "invalid_input"


def test_sidebar_url_command_prints_a_working_launch(client, shop_account, capsys):
    from django.core.management import call_command

    call_command(
        "sidebar_url",
        "--workspace",
        "acme",
        "--agent",
        "a-9",
        "--name",
        "Ben",
        "--conversation",
        "c-7",
        "--customer-email",
        "jane@example.com",
    )
    url = capsys.readouterr().out.strip()
    assert url.startswith("http://127.0.0.1:8000/sidebar/?token=")
    response = client.get(url.replace("http://127.0.0.1:8000", ""))
    assert response.status_code == 200 and "Ben" in response.content.decode()


def test_minted_token_round_trip(client, workspace, shop_account):
    token = launch_token_mint(workspace=workspace, agent_id="a-1", agent_name="Ada")
    assert launch(client, token).status_code == 200


def test_sidebar_sets_no_cookie(client, shop_account):
    for response in (launch(client, sign(claims())), launch(client, "bad")):
        assert not response.cookies
        assert "Cookie" not in response.get("Vary", "")


@pytest.mark.parametrize(
    ("reference", "attention"), [("1006", "Delayed"), ("1007", "Delivery failed")]
)
def test_order_badge_shows_a_shipments_problem(client, agent, reference, attention):
    body = post(client, "order", agent, reference=reference).content.decode()
    head = body.split("</header>")[0]
    assert f">{attention}</span>" in head


def test_cards_post_to_the_sidebar_under_the_apps_path_prefix(client, agent):
    """Served under a path prefix (SCRIPT_NAME), every form of a card posts under it; served
    at the root again, under the root (the URLs are reversed once per prefix)."""

    from django.urls import set_script_prefix

    def form_targets(prefix: str) -> set[str]:
        set_script_prefix(prefix)  # what Django's WSGI handler does with SCRIPT_NAME
        try:
            response = post(client, "order", agent, reference="1001")
        finally:
            set_script_prefix("/")
        assert response.status_code == 200
        return set(re.findall(r'hx-post="([^"]+)"', response.content.decode()))

    assert form_targets("/karla/") == {"/karla/sidebar/order/", "/karla/sidebar/shipment/"}
    assert form_targets("/") == {"/sidebar/order/", "/sidebar/shipment/"}


def test_a_customer_without_orders_is_said_so(client, shop_account):
    """The recent-orders list of a customer GoKarla has no order for says just that."""
    response = launch(client, sign(claims(customer_email="nobody@example.com")))
    token = {f"HTTP_{SIDEBAR_TOKEN_HEADER.upper().replace('-', '_')}": session_token(response)}
    body = post(client, "customer-orders", token).content.decode()
    assert "No orders found for this customer." in body
    assert "No order with that number" not in body


def test_the_sidebar_sends_no_referrer(client, shop_account):
    """The launch URL holds a token: nothing the sidebar links to or loads may be told it."""
    response = launch(client, sign(claims()))
    assert response["Referrer-Policy"] == "no-referrer"
    refused = launch(client, "not-a-token")
    assert refused["Referrer-Policy"] == "no-referrer"


def test_a_parcel_waiting_for_pickup_shows_no_past_eta(client, agent, sandbox):
    """1011 waits at a Packstation: its ETA (a day already past) would only confuse."""
    [order] = [o for o in sandbox.api.catalog.orders["demo-shop"] if o["order_number"] == "1011"]
    predicted = order["trackings"][0]["estimated_arrival"]["time_prediction"]
    post(client, "order", agent, reference="1011")
    body = post(client, "shipment", agent, reference="00340434161094099990").content.decode()
    assert "DHL Packstation 152" in body
    assert predicted not in body

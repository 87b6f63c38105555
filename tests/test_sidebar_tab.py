"""The Sidebar tab's new settings and its test sidebar: what the cards show agents, the
ArminCX conversation link of the history, and a sidebar to try as the admin."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from accounts.models import Workspace
from karla_sidebar.launch import AUDIENCE
from karla_sidebar.sidebar_session import SIDEBAR_TOKEN_HEADER
from tests.tokens import sidebar_token

TAB = "/settings/integrations/gokarla/sidebar/"
HEADER = f"HTTP_{SIDEBAR_TOKEN_HEADER.upper().replace('-', '_')}"
DHL_1001 = "00340434161094042557"
SETTINGS = {"sidebar_language": "", "sections": ["customer", "address", "line_items", "events"]}


def save(client, **changes):
    return client.post(f"{TAB}settings/", {**SETTINGS, **changes})


def test_an_admin_chooses_what_the_cards_show_and_the_conversation_link(alice_client, workspace):
    response = save(
        alice_client,
        sections=["line_items", "events"],
        conversation_url_pattern="https://app.armincx.com/conversations/{conversation}",
    )
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert workspace.sidebar_hidden_sections == "customer,address"
    assert workspace.sidebar_sections == {
        "customer": False,
        "address": False,
        "line_items": True,
        "events": True,
    }
    assert workspace.conversation_url("c 1/2") == (
        "https://app.armincx.com/conversations/c%201%2F2"
    )
    page = alice_client.get(TAB).content.decode()
    checked = r'<input type="checkbox" name="sections" value="{}"[^>]* checked'
    assert re.search(checked.format("line_items"), page)
    assert not re.search(checked.format("customer"), page)


@pytest.mark.parametrize(
    "pattern",
    [
        "app.armincx.com/conversations/{conversation}",
        "javascript:alert(1)//{conversation}",
        "https://app.armincx.com/conversations/",
        "https://app.armincx.com/{conversation}/{conversation}",
        "https://app.armincx.com/{id}/{conversation}",
        "https://[::1/{conversation}",
    ],
)
def test_a_conversation_link_that_cannot_work_is_refused(alice_client, workspace, pattern):
    response = save(alice_client, conversation_url_pattern=pattern)
    assert response.status_code == 422
    assert 'id="id_conversation_url_pattern_error"' in response.content.decode()
    workspace.refresh_from_db()
    assert workspace.conversation_url_pattern == ""


def test_a_lead_reads_the_settings_and_may_not_change_them(leo_client, workspace):
    workspace.sidebar_hidden_sections = "events"
    workspace.conversation_url_pattern = "https://app.armincx.com/c/{conversation}"
    workspace.save()
    page = leo_client.get(TAB).content.decode()
    assert "https://app.armincx.com/c/{conversation}" in page
    assert "Line items" in page and "Open a test sidebar" not in page
    assert save(leo_client, sections=[]).status_code == 403
    assert leo_client.get(f"{TAB}test/").status_code == 403


def order_card(client, workspace, reference="1001", path="order") -> str:
    headers = {HEADER: sidebar_token(workspace), "HTTP_HX_REQUEST": "true"}
    return client.post(f"/sidebar/{path}/", {"reference": reference}, **headers).content.decode()


def test_the_sidebar_shows_only_what_the_workspace_lets_agents_see(client, workspace, shop_account):
    everything = order_card(client, workspace)
    for shown in ("<dt>Customer</dt>", "Jane Doe", "<dt>Ship to</dt>", "Berlin", ">Items</h3>"):
        assert shown in everything, shown
    assert "All events" in order_card(client, workspace, DHL_1001, "shipment")

    Workspace.objects.filter(pk=workspace.pk).update(
        sidebar_hidden_sections="customer,address,line_items,events"
    )
    card = order_card(client, workspace)
    for hidden in ("<dt>Customer</dt>", "<dt>Ship to</dt>", "Berlin", ">Items</h3>"):
        assert hidden not in card, hidden
    assert "Fulfilled" in card and "Total" in card and DHL_1001 in card  # the rest stays
    shipment = order_card(client, workspace, DHL_1001, "shipment")
    assert "All events" not in shipment and "Last event" in shipment


def test_an_admin_opens_a_test_sidebar_launched_as_themselves(
    alice_client, client, workspace, shop_account
):
    alice_client.cookies["karla_tz"] = "Europe/Berlin"
    response = alice_client.get(
        f"{TAB}test/", {"customer_email": "jane@example.com", "locale": "de"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    frame = re.search(r'<iframe class="test-sidebar-frame" src="([^"]+)"', page).group(1)
    src = urlsplit(unescape(frame))
    assert src.path == "/sidebar/"
    token = parse_qs(src.query)["token"][0]
    claims = jwt.decode(token, workspace.sidebar_secret, algorithms=["HS256"], audience=AUDIENCE)
    assert (claims["sub"], claims["name"], claims["conversation"]) == (
        "test:alice",
        "alice",
        "karla-test",
    )
    assert (claims["customer_email"], claims["locale"], claims["tz"]) == (
        "jane@example.com",
        "de",
        "Europe/Berlin",
    )
    assert 'data-sidebar-origin="http://testserver"' in page
    assert '<textarea id="reply-box"' in page  # Insert into reply lands here, as in ArminCX

    # The frame opens the sidebar, which may be framed by the app's own page and talks to it.
    sidebar = client.get(unescape(frame))
    assert sidebar.status_code == 200
    assert "frame-ancestors 'self'" in sidebar["Content-Security-Policy"]
    assert re.search(r'name="karla-host-origins" content="[^"]*http://testserver"', sidebar.text)

    # When its session ends, the page asks for a fresh launch token for the same test.
    token_url = unescape(re.search(r'data-token-url="([^"]+)"', page).group(1))
    fresh = alice_client.get(token_url).json()["token"]
    again = jwt.decode(fresh, workspace.sidebar_secret, algorithms=["HS256"], audience=AUDIENCE)
    assert (again["customer_email"], again["locale"]) == ("jane@example.com", "de")
    assert again["jti"] != claims["jti"]


def test_a_test_sidebar_with_a_wrong_e_mail_is_refused_with_the_message(alice_client, workspace):
    response = alice_client.get(f"{TAB}test/", {"customer_email": "not-an-address"})
    assert response.status_code == 422
    assert 'id="id_customer_email_error"' in response.content.decode()
    assert "test-sidebar-frame" not in response.content.decode()

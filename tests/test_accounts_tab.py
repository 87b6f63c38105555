"""The Accounts tab: an admin connects, tests, updates, defaults and removes GoKarla accounts."""

import html
import re

import pytest
import requests
import responses
from django.db import connection
from django.test import Client

from accounts.models import AccountActivity, GoKarlaAccount
from karla_sidebar.models import LookupRecord

ACCOUNTS = "/settings/integrations/gokarla/accounts/"
ADD = ACCOUNTS + "add/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def add(client, url, username, token, label="", shop_slug="", **extra):
    data = {
        "url": url,
        "username": username,
        "api_token": token,
        "label": label,
        "shop_slug": shop_slug,
    }
    return client.post(ADD, data, **HTMX, **extra)


def field_errors(response, field):
    """The error shown under a field (the element its aria-describedby names), as read."""
    body = response.content.decode()
    shown = re.search(rf'<div class="error" id="id_{field}_error">(.*?)</div>', body, re.S)
    return html.unescape(shown.group(1)) if shown else ""


@pytest.mark.django_db
def test_login_page_and_redirect_to_accounts_tab(client, alice):
    assert client.get("/login/").status_code == 200
    response = client.post("/login/", {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b"Accounts connected" in page.content
    assert b"+ Add account" in page.content


@pytest.mark.django_db
def test_accounts_tab_requires_login(client):
    response = client.get(ACCOUNTS)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_connect_saves_account_and_refreshes_list(alice_client, workspace, sandbox_settings):
    response = add(alice_client, sandbox_settings.url, "demo-shop", "karla-demo-token")
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#accounts-list"
    assert "accountsChanged" in response["HX-Trigger"]
    body = response.content.decode()
    assert "Demo Shop" in body and "Connected" in body
    account = GoKarlaAccount.objects.get(workspace=workspace)
    assert account.shop_name == "Demo Shop"
    assert account.is_default
    assert AccountActivity.objects.filter(
        account=account, action="connected", actor_name="alice"
    ).exists()


def test_add_form_opens_as_dialog_with_contract_labels(alice_client, workspace):
    page = alice_client.get(ADD, **HTMX).content.decode()
    for label in ("GoKarla URL", "Username", "API Token", "Connect"):
        assert label in page
    assert "<html" not in page  # the dialog's partial, not a whole page
    full = alice_client.get(ADD).content.decode()
    assert "<html" in full and "Connect" in full  # works without JavaScript too


@pytest.mark.parametrize(
    ("username", "token", "field", "message"),
    [
        ("nobody", "karla-demo-token", "api_token", "rejected the username or API token"),
        ("demo-shop", "wrong-token", "api_token", "rejected the username or API token"),
        ("demo-shop", "karla-revoked-token", "api_token", "revoked"),
        ("no-api-access", "karla-demo-token", "api_token", "API access is not enabled"),
    ],
)
def test_connect_failure_explains_next_to_field_and_keeps_input(
    alice_client, workspace, sandbox_settings, username, token, field, message
):
    response = add(alice_client, sandbox_settings.url, username, token)
    assert response.status_code == 422
    assert message in field_errors(response, field)
    body = response.content.decode()
    assert f'value="{sandbox_settings.url}"' in body  # the URL is kept
    assert f'value="{username}"' in body  # the username is kept
    assert token not in body  # the token field is empty
    assert not GoKarlaAccount.objects.exists()


SHOP_ROOT = "https://acme.gokarla.io/api/v1/shops/acme"
API_ROOT = "https://api.gokarla.io/v1/shops/acme"


@responses.activate
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("upstream", "message"),
    [
        (
            {"status": 404, "json": {"detail": "Not Found"}},
            "No GoKarla API answered at https://acme.gokarla.io/api/v1 and "
            "https://api.gokarla.io/v1. Check the GoKarla URL",
        ),
        (
            {"status": 200, "body": "<html>Sign in</html>", "content_type": "text/html"},
            "No GoKarla API answered at",
        ),
        ({"body": requests.ConnectionError("refused")}, "could not be reached at"),
        ({"body": requests.ReadTimeout("slow")}, "could not be reached at"),
    ],
)
def test_connect_tries_each_api_root_and_then_points_at_the_url(alice_client, upstream, message):
    responses.get(SHOP_ROOT, **upstream)
    responses.get(API_ROOT, **upstream)
    response = add(alice_client, "https://acme.gokarla.io", "acme", "tok-123")
    assert message in field_errors(response, "url")
    asked = [call.request.url for call in responses.calls]
    assert (asked[0], asked[-1]) == (SHOP_ROOT, API_ROOT)
    assert "refused" not in response.content.decode()  # no socket text shown


@responses.activate
@pytest.mark.django_db
def test_connect_stores_the_api_root_that_answered(alice_client, workspace):
    responses.get(SHOP_ROOT, status=404, json={"detail": "Not Found"})
    responses.get(API_ROOT, json={"slug": "acme", "name": "Acme Store"})
    response = add(alice_client, "https://acme.gokarla.io", "sidebar-key", "tok-123")
    account = GoKarlaAccount.objects.get(workspace=workspace)
    assert (account.url, account.api_root, account.shop_slug) == (
        "https://acme.gokarla.io",
        "https://api.gokarla.io/v1",
        "acme",
    )
    body = response.content.decode()
    assert "shop “acme” at https://api.gokarla.io/v1" in body
    assert "https://api.gokarla.io/v1" in alice_client.get(ACCOUNTS).content.decode()


@responses.activate
@pytest.mark.django_db
def test_the_activity_reads_in_the_viewer_s_language(alice_client, workspace):
    """Stored details say nothing in a language of their own (the shop and its address), or
    are notes translated when shown."""
    from accounts.webhooks import LEFT_BEHIND_NOTE

    responses.get(SHOP_ROOT, status=404, json={"detail": "Not Found"})
    responses.get(API_ROOT, json={"slug": "acme", "name": "Acme Store"})
    add(alice_client, "https://acme.gokarla.io", "sidebar-key", "tok-123")
    AccountActivity.objects.create(
        workspace=workspace, account_label="Old Shop", action=AccountActivity.Action.REMOVED,
        detail=LEFT_BEHIND_NOTE,
    )  # fmt: skip
    body = html.unescape(alice_client.get(ACCOUNTS, HTTP_ACCEPT_LANGUAGE="de").content.decode())
    assert "Acme Store (acme) · https://api.gokarla.io/v1" in body
    assert " at https://" not in body
    assert "Sein Webhook konnte bei GoKarla nicht gelöscht werden" in body


@responses.activate
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "username", "shop_slug", "advice"),
    [
        ("https://acme.gokarla.io", "acme", "", "taken from the GoKarla URL"),
        ("https://api.gokarla.io/v1/", "acme", "", "taken from the username"),
        ("https://api.gokarla.io/v1/", "key-name", "acme", "Check the shop slug under More"),
    ],
)
def test_no_such_shop_says_where_the_slug_came_from(alice_client, url, username, shop_slug, advice):
    shop_gone = {"key": "shop_not_found", "message": "Shop not found.", "errors": []}
    responses.get(SHOP_ROOT, status=404, json=shop_gone)
    responses.get(API_ROOT, status=404, json=shop_gone)
    response = add(alice_client, url, username, "tok-123", shop_slug=shop_slug)
    errors = field_errors(response, "shop_slug")
    assert "GoKarla has no shop “acme”." in errors
    assert advice in errors
    assert '<details class="more-options" open>' in response.content.decode()
    assert len(responses.calls) == 1  # GoKarla answered: no other address is tried


@responses.activate
@pytest.mark.django_db
def test_connect_strips_spaces_and_trailing_slash_with_a_note(alice_client, workspace):
    responses.get(
        "https://acme.gokarla.io/api/v1/shops/acme", json={"slug": "acme", "name": "Acme Store"}
    )
    response = add(alice_client, "  https://acme.gokarla.io/ ", "acme", "tok-123")
    body = response.content.decode()
    assert "Removed the trailing slash." in body
    account = GoKarlaAccount.objects.get(workspace=workspace)
    assert account.url == "https://acme.gokarla.io"
    assert account.label == "Acme Store"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://acme.gokarla.io", "https://"),
        ("https://evil.example.com", "Only GoKarla addresses"),
        ("https://gokarla.io.evil.com", "Only GoKarla addresses"),
        ("https://127.0.0.1", "not an IP address"),
        ("https://2130706433", "not an IP address"),
        ("https://0x7f.1", "not an IP address"),
        ("https://127.1", "not an IP address"),
        ("https://user:pw@acme.gokarla.io", "user name and password"),
        ("https://acme.gokarla.io:8443", "port"),
        ("https://acme.gokarla.io/admin", "path"),
    ],
)
def test_connect_refuses_bad_urls_without_calling_gokarla(alice_client, url, message):
    with responses.RequestsMock() as mock:  # any outbound call would fail the test
        response = add(alice_client, url, "acme", "tok-123")
        assert not mock.calls
    assert message in field_errors(response, "url")
    assert "pw@" not in response.content.decode()


def test_sandbox_url_refused_when_sandbox_disabled(alice_client, sandbox, settings):
    settings.SANDBOX_ENABLED = False
    settings.SANDBOX_URL = sandbox.url
    response = add(alice_client, sandbox.url, "demo-shop", "karla-demo-token")
    assert field_errors(response, "url")
    assert not GoKarlaAccount.objects.exists()


def test_duplicate_account_refused(alice_client, shop_account, sandbox_settings):
    response = add(alice_client, sandbox_settings.url, "demo-shop", "karla-demo-token")
    assert "already connected" in response.content.decode()
    assert GoKarlaAccount.objects.count() == 1


def test_token_never_rendered_anywhere(alice_client, shop_account, admin_user):
    pages = [
        alice_client.get(ACCOUNTS),
        alice_client.get(f"{ACCOUNTS}{shop_account.pk}/token/"),
        alice_client.get(f"{ACCOUNTS}{shop_account.pk}/token/", **HTMX),
        alice_client.post(f"{ACCOUNTS}{shop_account.pk}/test/", **HTMX),
    ]
    operator = Client()
    operator.force_login(admin_user)
    pages.append(operator.get("/django-admin/accounts/gokarlaaccount/"))
    pages.append(operator.get(f"/django-admin/accounts/gokarlaaccount/{shop_account.pk}/change/"))
    for page in pages:
        assert page.status_code == 200
        assert b"karla-demo-token" not in page.content
    assert "karla-demo-token" not in repr(shop_account)


def test_token_column_holds_ciphertext(shop_account):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT api_token FROM accounts_gokarlaaccount WHERE id = %s", [shop_account.pk]
        )
        (raw,) = cursor.fetchone()
    assert "karla-demo-token" not in raw
    assert raw.startswith("gAAAA")  # a Fernet token
    assert GoKarlaAccount.objects.get(pk=shop_account.pk).api_token == "karla-demo-token"


def test_test_connection_updates_status(alice_client, shop_account):
    GoKarlaAccount.objects.filter(pk=shop_account.pk).update(status="failing", last_error="old")
    response = alice_client.post(f"{ACCOUNTS}{shop_account.pk}/test/", **HTMX)
    assert "connection works" in response.content.decode()
    shop_account.refresh_from_db()
    assert shop_account.status == "connected" and shop_account.last_error == ""


def test_test_connection_failure_marks_account(alice_client, shop_account):
    GoKarlaAccount.objects.filter(pk=shop_account.pk).update(username="nobody")
    response = alice_client.post(f"{ACCOUNTS}{shop_account.pk}/test/", **HTMX)
    body = response.content.decode()
    assert "rejected the username or API token" in body
    assert "Needs attention" in body
    shop_account.refresh_from_db()
    assert shop_account.status == "failing"
    assert AccountActivity.objects.filter(action="test_failed").exists()


def test_update_token_blank_keeps_wrong_refused_right_saved(alice_client, shop_account):
    url = f"{ACCOUNTS}{shop_account.pk}/token/"
    response = alice_client.post(url, {"api_token": ""}, **HTMX)
    assert "kept the current token" in response.content.decode()

    response = alice_client.post(url, {"api_token": "karla-revoked-token"}, **HTMX)
    assert "revoked" in field_errors(response, "api_token")
    assert GoKarlaAccount.objects.get(pk=shop_account.pk).api_token == "karla-demo-token"

    GoKarlaAccount.objects.filter(pk=shop_account.pk).update(status="failing")
    response = alice_client.post(url, {"api_token": "karla-demo-token"}, **HTMX)
    assert "token updated and verified" in response.content.decode()
    assert GoKarlaAccount.objects.get(pk=shop_account.pk).status == "connected"


def test_make_default_moves_the_marker(alice_client, shop_account, outlet_account):
    alice_client.post(f"{ACCOUNTS}{outlet_account.pk}/default/", **HTMX)
    defaults = GoKarlaAccount.objects.filter(is_default=True)
    assert list(defaults) == [outlet_account]


def test_remove_asks_first_then_keeps_history_label(alice_client, shop_account, outlet_account):
    LookupRecord.objects.create(
        workspace=shop_account.workspace,
        source="sidebar",
        action="order",
        reference="1001",
        account=shop_account,
        account_label=shop_account.label,
        outcome="found",
    )
    confirm = alice_client.get(f"{ACCOUNTS}{shop_account.pk}/remove/", **HTMX)
    assert "Remove Demo Shop?" in confirm.content.decode()
    assert GoKarlaAccount.objects.filter(pk=shop_account.pk).exists()

    alice_client.post(f"{ACCOUNTS}{shop_account.pk}/remove/", **HTMX)
    assert not GoKarlaAccount.objects.filter(pk=shop_account.pk).exists()
    record = LookupRecord.objects.get()
    assert record.account is None and record.account_label == "Demo Shop"
    assert GoKarlaAccount.objects.get(pk=outlet_account.pk).is_default  # a new default


@pytest.mark.parametrize("action", ["test", "token", "default", "remove"])
def test_other_workspace_admin_gets_404(gwen_client, shop_account, action):
    url = f"{ACCOUNTS}{shop_account.pk}/{action}/"
    assert gwen_client.post(url, {"api_token": "x"}).status_code == 404
    if action in ("token", "remove"):
        assert gwen_client.get(url).status_code == 404
    assert GoKarlaAccount.objects.filter(pk=shop_account.pk, is_default=True).exists()


def test_other_workspace_does_not_see_accounts(gwen_client, shop_account):
    assert b"Demo Shop" not in gwen_client.get(ACCOUNTS).content


@pytest.mark.parametrize("action", ["test", "token", "default", "remove"])
def test_lead_cannot_change(leo_client, shop_account, action):
    url = f"{ACCOUNTS}{shop_account.pk}/{action}/"
    assert leo_client.post(url, {"api_token": "x"}).status_code == 403
    assert leo_client.post(ADD, {}).status_code == 403
    assert GoKarlaAccount.objects.filter(pk=shop_account.pk, is_default=True).exists()


def test_lead_sees_read_only_list(leo_client, shop_account):
    body = leo_client.get(ACCOUNTS).content.decode()
    assert "Demo Shop" in body
    assert "+ Add account" not in body and "Test connection" not in body


@pytest.mark.parametrize("action", ["test", "token", "default", "remove"])
def test_csrf_enforced_on_every_form(alice, shop_account, action):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(f"{ACCOUNTS}{shop_account.pk}/{action}/").status_code == 403
    assert client.post(ADD, {"url": "https://a.gokarla.io"}).status_code == 403


def test_workspace_switcher(client, alice, other_workspace, shop_account, globex_account):
    from accounts.models import Membership

    Membership.objects.create(user=alice, workspace=other_workspace, role="lead")
    client.force_login(alice)
    assert b'data-account="Demo Shop"' in client.get(ACCOUNTS).content
    client.post("/settings/workspace/", {"workspace": other_workspace.pk})
    page = client.get(ACCOUNTS).content
    assert b'data-account="Globex Shop"' in page and b'data-account="Demo Shop"' not in page


# The Sidebar tab: what an ArminCX admin needs to embed the sidebar

SIDEBAR_TAB = "/settings/integrations/gokarla/sidebar/"


def test_sidebar_tab_shows_url_and_origins_but_hides_the_secret(alice_client, workspace, settings):
    settings.SIDEBAR_FRAME_ANCESTORS = ["https://app.armincx.example"]
    body = alice_client.get(SIDEBAR_TAB).content.decode()
    assert "http://testserver/sidebar/" in body
    assert "https://app.armincx.example" in body
    assert workspace.sidebar_secret not in body
    revealed = alice_client.post(SIDEBAR_TAB + "secret/", HTTP_HX_REQUEST="true")
    assert workspace.sidebar_secret in revealed.content.decode()


def test_lead_cannot_reveal_or_rotate_the_secret(leo_client, workspace):
    assert workspace.sidebar_secret not in leo_client.get(SIDEBAR_TAB).content.decode()
    assert leo_client.post(SIDEBAR_TAB + "secret/").status_code == 403
    assert leo_client.post(SIDEBAR_TAB + "rotate/").status_code == 403


def test_rotation_keeps_the_previous_secret_valid_for_the_grace_period(alice_client, workspace):
    from karla_sidebar.armincx import launch_token_mint
    from karla_sidebar.launch import launch_token_verify

    old_token = launch_token_mint(workspace=workspace, agent_id="a-1", agent_name="Ada")
    response = alice_client.post(SIDEBAR_TAB + "rotate/", follow=True)
    assert "New sidebar secret created" in response.content.decode()
    workspace.refresh_from_db()
    assert workspace.sidebar_secret != "acme-sidebar-secret-0123456789abcdef"
    assert workspace.previous_sidebar_secret == "acme-sidebar-secret-0123456789abcdef"
    assert launch_token_verify(old_token).agent_id == "a-1"  # signed with the old secret


@pytest.mark.parametrize("token", ["tok en", "tök", "tok\u200b"])
def test_token_with_spaces_or_non_ascii_is_refused_before_gokarla(alice_client, token):
    with responses.RequestsMock() as mock:
        response = add(alice_client, "https://acme.gokarla.io", "acme", token)
        assert not mock.calls
    assert "only letters, digits and punctuation" in field_errors(response, "api_token")


def test_times_follow_the_viewers_time_zone(alice_client, shop_account):
    alice_client.cookies["karla_tz"] = "Asia/Tokyo"
    assert '+09:00"' in alice_client.get(ACCOUNTS).content.decode()
    alice_client.cookies["karla_tz"] = "Not/AZone"  # ignored: the server's zone (UTC)
    assert '+00:00"' in alice_client.get(ACCOUNTS).content.decode()


def test_connect_the_popup_shop_with_gokarla_s_v1_path(alice_client, workspace, sandbox_settings):
    response = add(alice_client, f"{sandbox_settings.url}/v1/", "demo-popup", "karla-popup-token")
    assert response.status_code == 200
    account = GoKarlaAccount.objects.get(workspace=workspace)
    assert (account.api_root, account.shop_slug, account.shop_name) == (
        f"{sandbox_settings.url}/v1",
        "demo-popup",
        "Demo Pop-up Store",
    )
    assert f"shop “demo-popup” at {sandbox_settings.url}/v1" in response.content.decode()
    # And it works: the connection test and a lookup go to the root that answered.
    alice_client.post(f"{ACCOUNTS}{account.pk}/test/", **HTMX)
    account.refresh_from_db()
    assert (account.status, account.last_error) == ("connected", "")
    from karla_sidebar import lookups

    ada = lookups.Actor(source="sidebar", actor_id="a-1", actor_name="Ada")
    result = lookups.order_lookup(workspace=workspace, reference="3001", actor=ada)
    assert result.first.record.order_number == "3001"


def test_a_wrong_shop_slug_in_more_options_is_no_such_shop(
    alice_client, workspace, sandbox_settings
):
    response = add(
        alice_client,
        f"{sandbox_settings.url}/v1/",
        "demo-popup",
        "karla-popup-token",
        shop_slug="demo-popp",
    )
    assert response.status_code == 422
    assert field_errors(response, "shop_slug") == (
        "GoKarla has no shop “demo-popp”. Check the shop slug under More options."
    )
    assert not GoKarlaAccount.objects.exists()

"""Browser tests of the settings pages as admins and leads use them (issue 18): keyboard only,
as a screen reader reads them, and axe-core on every page, the error pages included.

The browser, its pages and the helpers are ``tests/test_browser.py``'s (Debian's Chromium
through Playwright, nothing leaves the machine).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from tests.browser import tab_until_focused
from tests.test_browser import (
    ACCOUNTS,
    ARTIFACTS,
    armincx,
    armincx_server,
    assert_accessible,
    browser,
    log_in,
    origins,
    page,
)

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the module above skips or fails first
    pytest.skip("Playwright is not installed", allow_module_level=True)

# The fixtures of tests/test_browser.py this module's tests use (pytest finds them here).
FIXTURES = (armincx, armincx_server, browser, origins, page)

HISTORY = "/settings/integrations/gokarla/history/"
TOKEN = "karla-demo-token"


def type_into_dialog(page, *texts: str) -> None:
    """Type each text into the dialog's fields in turn, moving on with Tab."""
    for index, text in enumerate(texts):
        if index:
            page.keyboard.press("Tab")
        page.keyboard.type(text)


@pytest.mark.browser
def test_a_second_try_connects_without_pasting_the_token_again(
    page, live_server, alice, sandbox_settings
):
    """Keyboard only: a URL GoKarla does not answer at is refused; the admin fixes only the
    URL and connects. The token stays in its field, and no answer of the server holds it."""
    answers: list[str] = []
    page.on("response", lambda r: answers.append(r.text()) if "/accounts/add/" in r.url else None)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}{ACCOUNTS}")
    tab_until_focused(page, page.get_by_role("link", name="+ Add account"))
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Add GoKarla account")
    url, token = dialog.get_by_label("GoKarla URL"), dialog.get_by_label("API Token", exact=True)
    expect(url).to_be_focused()
    type_into_dialog(page, f"{sandbox_settings.url}/admin", "demo-shop", TOKEN)
    page.keyboard.press("Enter")

    expect(dialog.locator("#id_url_error")).to_contain_text("GoKarla URLs start with https://")
    expect(url).to_be_focused()
    expect(token).to_have_value(TOKEN)  # kept by the browser
    page.keyboard.press("Control+A")
    page.keyboard.type(sandbox_settings.url)
    page.keyboard.press("Enter")

    expect(page.locator("dialog#dialog")).to_be_hidden()
    row = page.get_by_role("row", name=re.compile("Demo Shop"))
    expect(row.get_by_role("rowheader")).to_be_focused()
    assert len(answers) >= 2 and not any(TOKEN in answer for answer in answers)


@pytest.mark.browser
def test_a_screen_reader_hears_the_error_with_its_field(page, live_server, alice, sandbox_settings):
    """What a screen reader says on reaching a refused field: its name, then (through
    aria-describedby) the error first and the help after it."""
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}{ACCOUNTS}")
    page.get_by_role("link", name="+ Add account").click()
    dialog = page.get_by_role("dialog", name="Add GoKarla account")
    dialog.get_by_label("GoKarla URL").fill(sandbox_settings.url)
    dialog.get_by_label("Username").fill("demo-shop")
    dialog.get_by_label("API Token", exact=True).fill("karla-revoked-token")
    dialog.get_by_role("button", name="Connect").click()

    token = page.get_by_role("textbox", name="API Token")
    expect(token).to_be_focused()
    expect(token).to_have_accessible_description(
        re.compile(
            r"^GoKarla says this API token was revoked .* paste it here\. "
            r"From GoKarla's portal: Settings → API keys\."
        )
    )
    assert "Update token" not in dialog.inner_text()  # no account to update yet
    url = page.get_by_role("textbox", name="GoKarla URL")
    expect(url).to_have_accessible_description(re.compile(r"^Your shop's GoKarla address"))
    assert_accessible(page, "Add account, refused")


@pytest.mark.browser
def test_focus_follows_each_change_in_the_accounts_list(
    page, live_server, alice, shop_account, outlet_account
):
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}{ACCOUNTS}")
    outlet = page.get_by_role("row", name=re.compile("Demo Outlet"))

    outlet.get_by_role("button", name="Test connection").click()
    expect(page.locator("#accounts-list [role=status]")).to_contain_text(
        "Demo Outlet: connection works"
    )
    expect(outlet.get_by_role("rowheader")).to_be_focused()

    outlet.get_by_role("button", name="Make default").click()
    expect(page.locator("#accounts-list [role=status]")).to_contain_text(
        "Demo Outlet is now the default account"
    )
    outlet = page.get_by_role("row", name=re.compile("Demo Outlet"))
    expect(outlet.get_by_role("rowheader")).to_be_focused()

    # Removing asks first, with the focus on Cancel: Enter does not remove the account.
    shop = page.get_by_role("row", name=re.compile("Demo Shop"))
    shop.get_by_role("link", name="Remove").click()
    dialog = page.get_by_role("dialog", name="Remove Demo Shop?")
    expect(dialog.get_by_role("link", name="Cancel")).to_be_focused()
    assert_accessible(page, "the Remove dialog")
    dialog.get_by_role("button", name="Remove account").click()
    message = page.locator("#accounts-list .alert-success")
    expect(message).to_have_text("Removed Demo Shop.")
    expect(message).to_be_focused()  # its row is gone: the message says what happened
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "accounts.png", full_page=True)


@pytest.mark.browser
def test_axe_finds_nothing_on_the_admin_pages(page, live_server, alice, shop_account):
    from accounts.api_keys import api_key_create, api_key_revoke
    from accounts.models import ApiKey

    for name, days_ago in (("Zapier", None), ("Old Make", 3), ("Ancient", 45)):
        key, _ = api_key_create(workspace=shop_account.workspace, name=name)
        if days_ago is not None:
            api_key_revoke(api_key=key)
            ApiKey.objects.filter(pk=key.pk).update(
                revoked_at=timezone.now() - dt.timedelta(days=days_ago)
            )
    page.goto(f"{live_server.url}/login/")
    assert_accessible(page, "the login page")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    assert_accessible(page, "the login page, refused")
    log_in(page, live_server, "alice")

    page.goto(f"{live_server.url}{ACCOUNTS}")
    assert_accessible(page, "the Accounts tab")
    row = page.get_by_role("row", name=re.compile("Demo Shop"))
    row.get_by_role("link", name="Update token").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert_accessible(page, "the Update token dialog")
    page.keyboard.press("Escape")
    row.get_by_role("button", name="Test connection").click()
    expect(page.locator("#accounts-list [role=status]")).to_contain_text("connection works")
    assert_accessible(page, "the Accounts tab after a test")

    page.goto(f"{live_server.url}/settings/integrations/gokarla/api-keys/")
    revoked = page.locator("details.revoked-keys")
    expect(revoked).to_contain_text("1 key revoked more than 30 days ago")
    expect(page.get_by_role("row", name=re.compile("Old Make"))).to_contain_text("Revoked")
    expect(page.get_by_role("row", name=re.compile("Ancient"))).to_be_hidden()  # folded away
    revoked.locator("summary").click()
    assert_accessible(page, "the API keys tab")
    page.get_by_role("button", name="Create key").click()  # no name
    expect(page.get_by_label("Name", exact=True)).to_be_focused()
    assert_accessible(page, "the API keys tab, refused")

    page.goto(f"{live_server.url}/settings/integrations/gokarla/sidebar/")
    assert_accessible(page, "the Sidebar tab")
    page.goto(f"{live_server.url}{HISTORY}")
    assert_accessible(page, "the History tab, empty")
    page.goto(f"{live_server.url}{HISTORY}?date_from=soon")
    expect(page.get_by_role("alert")).to_contain_text("Check the filters.")
    assert_accessible(page, "the History tab, its filters refused")
    page.goto(f"{live_server.url}{ACCOUNTS}add/")
    page.get_by_role("button", name="Connect").click()
    assert_accessible(page, "Add account as a page of its own, refused")


@pytest.mark.browser
@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/no/such/page/", "Not found"),
        ("/settings/integrations/gokarla/api-keys/", "Not allowed"),
        ("/bad/", "Bad request"),
        ("/broken/", "Something went wrong"),
    ],
)
def test_axe_finds_nothing_on_the_error_pages(page, live_server, leo, settings, path, heading):
    settings.ROOT_URLCONF = "tests.test_error_pages"  # adds /bad/ and /broken/
    log_in(page, live_server, "leo")
    page.goto(f"{live_server.url}{path}")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_role("link", name="Go to the GoKarla settings")).to_be_visible()
    assert_accessible(page, f"the {heading} page")


@pytest.mark.browser
def test_a_lead_sees_who_looked_up_what_account_health_and_opens_the_conversation(
    page, live_server, leo, workspace, settings, armincx
):
    from accounts.models import GoKarlaAccount
    from karla_sidebar.models import LookupRecord

    shop = GoKarlaAccount.objects.create(
        workspace=workspace, label="Demo Shop", url="https://demo.gokarla.io",
        username="demo", api_token="unused", status="failing",
        last_error="GoKarla rejected the username or API token.",
    )  # fmt: skip
    workspace.conversation_url_pattern = f"{armincx.origin}/conversation/{{conversation}}"
    workspace.save()
    rows = [
        ("a-1", "Ada Agent", "found", False, "order"),
        ("a-1", "Ada Agent", "unavailable", False, "order"),
        ("a-1", "Ada Agent", "timeout", False, "shipment"),
        ("a-2", "Bob Agent", "found", False, "order"),
        ("a-2", "Bob Agent", "found", True, "customer_orders"),
    ]
    for actor_id, name, outcome, automatic, action in rows:
        LookupRecord.objects.create(
            workspace=workspace, source="sidebar", actor_id=actor_id, actor_name=name,
            conversation="c-1001", action=action, reference="1001", account=shop,
            account_label="Demo Shop", outcome=outcome, automatic=automatic, latency_ms=120,
        )  # fmt: skip
    log_in(page, live_server, "leo")
    page.goto(f"{live_server.url}{HISTORY}")

    health = page.get_by_role("region", name="Account health")
    expect(health.get_by_role("row", name=re.compile("Demo Shop"))).to_contain_text(
        "Needs attention"
    )
    by_agent = page.get_by_role("region", name="By agent")
    expect(by_agent.get_by_role("row", name=re.compile("Ada Agent"))).to_contain_text("33.3%")
    expect(by_agent.get_by_role("row", name=re.compile("Bob Agent"))).to_contain_text("100%")
    by_account = page.get_by_role("region", name="By account")
    expect(by_account.get_by_role("row", name=re.compile("Demo Shop"))).to_contain_text("4")
    expect(page.get_by_test_id("automatic-apart")).to_contain_text("1 automatic lookup")
    assert_accessible(page, "the History tab with insight")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "history.png", full_page=True)

    # The agent's row narrows the list to Ada; the conversation opens in ArminCX.
    by_agent.get_by_role("link", name="Ada Agent").click()
    expect(page).to_have_url(re.compile(r"\?agent=a-1$"))
    expect(page.get_by_text("3 lookups match.")).to_be_visible()
    with page.context.expect_page() as opened:
        page.get_by_role("link", name=re.compile("Open in ArminCX")).first.click()
    conversation = opened.value
    expect(conversation).to_have_url(f"{armincx.origin}/conversation/c-1001")
    expect(conversation).to_have_title("Conversation · ArminCX")

    page.get_by_label("Include automatic lookups").check()
    expect(page).to_have_url(re.compile(r"agent=a-1.*automatic=on"))  # the answer is in
    expect(page.get_by_text("3 lookups match.")).to_be_visible()  # Ada made none automatically
    page.get_by_label("Agent", exact=True).fill("")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("5 lookups match.")).to_be_visible()

    # Custom dates show their fields; a preset hides and clears them.
    period, since = page.get_by_label("Period"), page.get_by_label("From", exact=True)
    expect(since).to_be_hidden()
    period.select_option("custom")
    expect(since).to_be_visible()
    since.fill((timezone.localdate() - dt.timedelta(days=1)).isoformat())
    since.dispatch_event("change")
    expect(page).to_have_url(re.compile(r"period=custom&date_from="))
    period.select_option("30")
    expect(since).to_be_hidden()
    expect(page).to_have_url(re.compile(r"\?period=30&automatic=on$"))
    assert since.input_value() == ""

    # Read only for a lead: the Accounts and Sidebar tabs.
    page.goto(f"{live_server.url}{ACCOUNTS}")
    assert_accessible(page, "the Accounts tab as a lead")
    page.goto(f"{live_server.url}/settings/integrations/gokarla/sidebar/")
    expect(page.get_by_text("Open a test sidebar")).to_have_count(0)
    assert_accessible(page, "the Sidebar tab as a lead")


@pytest.mark.browser
def test_an_admin_tries_the_sidebar_from_the_sidebar_tab(page, live_server, alice, shop_account):
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/settings/integrations/gokarla/sidebar/")
    trial = page.get_by_role("region", name="Try the sidebar")
    trial.get_by_label("Customer e-mail (optional)").fill("jane@example.com")
    trial.get_by_role("button", name="Open a test sidebar").click()

    frame = page.frame_locator("iframe[title='GoKarla sidebar (test)']")
    recent = frame.get_by_role("region", name="Customer's recent orders")
    expect(recent.get_by_role("button", name=re.compile(r"\b1001\b"))).to_be_visible()
    frame.get_by_label("Order ID or reference number").fill("1001")
    frame.get_by_role("button", name="Get Order").click()
    order = frame.get_by_role("article", name="Order #1001")
    order.get_by_text("Reply to the customer").click()
    order.get_by_role("button", name="Insert into reply").click()
    box = page.get_by_label("The conversation's reply box")
    expect(box).to_have_value(re.compile(r"^Hello Jane Doe,"))
    expect(page.locator("#host-status")).to_have_text("The sidebar inserted a reply.")
    assert_accessible(page, "the Sidebar tab with a test sidebar")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "sidebar-tab.png", full_page=True)

    from karla_sidebar.models import LookupRecord

    asked = LookupRecord.objects.filter(automatic=False).get()
    assert (asked.actor_id, asked.conversation, asked.reference) == (
        "test:alice",
        "karla-test",
        "1001",
    )


@pytest.mark.browser
def test_a_keyboard_preview_of_the_reply_templates_keeps_the_focus(page, live_server, alice):
    """Preview swaps the templates' section: the focus goes to the template to fix, else back
    to Preview, never to the top of the page."""
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/settings/integrations/gokarla/sidebar/")
    page.get_by_label("Order shipped or delivered").fill("Hello {customer_nme}")
    page.get_by_role("button", name="Preview").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Unknown placeholder {customer_nme}")).to_be_visible()
    expect(page.get_by_label("Order shipped or delivered")).to_be_focused()

    page.keyboard.press("Control+A")
    page.keyboard.type("Hello {customer_name}")
    tab_until_focused(page, page.get_by_role("button", name="Preview"))
    page.keyboard.press("Enter")
    expect(page.locator(".reply-preview").first).to_contain_text("Hello Jane Doe")
    expect(page.get_by_role("button", name="Preview")).to_be_focused()

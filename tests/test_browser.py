"""Browser tests: what admins and agents see, in Debian's Chromium driven by Playwright.

One Chromium per module, a fresh context (and page) per test; third-party cookies blocked in
every page; nothing leaves the machine (see ``tests/browser.py``). Chromium is
``/usr/bin/chromium`` or ``$BROWSER_TESTS_CHROMIUM``; without it these tests are skipped,
unless ``REQUIRE_BROWSER_TESTS=1`` (CI), which makes each of them fail (a setup error).

The live server (pytest-django's ``live_server``) listens on 127.0.0.1 and is addressed both
as ``localhost`` (admin pages, the demo's host page) and as ``127.0.0.1`` (the sidebar), so
the sidebar's iframe is cross-site, as it is inside ArminCX.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest
from django.core.management import call_command

from karla_sidebar.armincx import launch_token_mint
from tests.browser import (
    CHROMIUM_ARGS,
    TIMEOUT_MS,
    ArminCXStandIn,
    ForeignRequests,
    block_third_party_cookies,
    browser_tests_required,
    chromium_or_unavailable,
    cookie_probe,
    tab_until_focused,
)

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - playwright is in requirements-dev.txt
    if browser_tests_required():
        raise
    pytest.skip("Playwright is not installed", allow_module_level=True)

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
ACCOUNTS = "/settings/integrations/gokarla/accounts/"
DEMO = "/demo/conversation/"
TRACKING_1001 = "00340434161094042557"
REFUSED = "This sidebar link has expired or is invalid. Reopen the conversation."
WEEKDAY_DATE = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2}"

expect.set_options(timeout=TIMEOUT_MS)


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module (skipped or failed when it is missing)."""
    executable = chromium_or_unavailable()
    # Playwright's sync API runs an event loop in this thread, and Django refuses ORM calls
    # from a thread with a running loop. The ORM is used synchronously here (fixtures, the
    # seed), as pytest-django's documentation recommends for Playwright.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS, timeout=30_000
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@contextlib.contextmanager
def _fresh_page(browser, locale: str):
    """A page in a fresh context: third-party cookies blocked, local requests only."""
    foreign = ForeignRequests()
    context = browser.new_context(
        viewport={"width": 1280, "height": 860}, locale=locale, timezone_id="Europe/Berlin"
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.route("**/*", foreign.guard)
    page = context.new_page()
    cookie_controls = block_third_party_cookies(page)
    yield page
    cookie_controls.detach()
    context.close()
    assert not foreign.urls, f"the pages tried to reach other hosts: {foreign.urls}"


@pytest.fixture
def page(browser):
    """A page in a fresh context (an English browser): see ``_fresh_page``."""
    with _fresh_page(browser, "en-GB") as page:
        yield page


@pytest.fixture
def german_page(browser):
    """A page in a fresh context of a German browser (Accept-Language de-DE)."""
    with _fresh_page(browser, "de-DE") as page:
        yield page


@dataclass(frozen=True)
class Origins:
    """The live server under its two names: ``host`` (localhost), ``sidebar`` (127.0.0.1)."""

    host: str
    sidebar: str


def _reachable(host: str, port: int) -> None:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as error:
        pytest.fail(f"The live server is not reachable as {host}:{port} ({error}).")


@pytest.fixture
def origins(live_server) -> Origins:
    """pytest-django binds its live server to ``localhost``, i.e. 127.0.0.1: check both."""
    port = live_server.thread.port
    for host in ("localhost", "127.0.0.1"):
        _reachable(host, port)
    return Origins(host=f"http://localhost:{port}", sidebar=f"http://127.0.0.1:{port}")


@pytest.fixture
def framed_by_host(origins, settings) -> Origins:
    """The sidebar may be framed by the host page's origin (the live server's port varies,
    so the demo's built-in http://localhost:8000 does not apply)."""
    settings.SIDEBAR_FRAME_ANCESTORS = [origins.host]
    return origins


@pytest.fixture(scope="module")
def armincx_server():
    server = ArminCXStandIn()
    yield server
    server.stop()


@pytest.fixture
def armincx(armincx_server, origins, settings) -> ArminCXStandIn:
    """An ArminCX-like host page on localhost (its own port), allowed to frame the sidebar."""
    settings.SIDEBAR_FRAME_ANCESTORS = [armincx_server.origin]
    return armincx_server


@pytest.fixture
def demo(framed_by_host, sandbox_settings, settings) -> Origins:
    """The demo workspace (DEBUG on, seeded against the sandbox)."""
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    return framed_by_host


# ---------------------------------------------------------------------------------------------
# Helpers


def definition(card, term: str):
    """The value (``<dd>``) shown next to a label (``<dt>``) in a card."""
    return card.locator(f"xpath=.//dt[normalize-space()='{term}']/following-sibling::dd[1]")


def log_in(page, live_server, username: str) -> None:
    """Log in through the form (the test users' password is ``pw-<username>``)."""
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"pw-{username}")
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def focus_is_inside(page, selector: str) -> bool:
    return page.evaluate(
        "selector => document.querySelector(selector).contains(document.activeElement)", selector
    )


# ---------------------------------------------------------------------------------------------
# The Accounts tab, keyboard only


@pytest.mark.browser
def test_admin_connects_an_account_with_the_keyboard_only(
    page, live_server, alice, sandbox_settings
):
    page.goto(f"{live_server.url}/login/")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type("pw-alice")
    page.keyboard.press("Enter")
    expect(page).not_to_have_url(re.compile(r"/login/"))

    page.goto(f"{live_server.url}{ACCOUNTS}")
    expect(page.get_by_role("heading", name="Accounts connected")).to_be_visible()
    accounts = page.get_by_role("region", name="Accounts connected")
    expect(accounts).to_contain_text("No GoKarla account is connected yet.")
    page.evaluate("window.karlaTestMarker = 'no reload'")

    add_account = page.get_by_role("link", name="+ Add account")
    tab_until_focused(page, add_account)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Add GoKarla account")
    expect(dialog).to_be_visible()
    expect(page.locator("dialog#dialog")).to_have_attribute("open", "")
    url = dialog.get_by_label("GoKarla URL")
    username = dialog.get_by_label("Username")
    token = dialog.get_by_label("API Token", exact=True)
    expect(url).to_be_focused()
    assert focus_is_inside(page, "dialog#dialog")

    # A wrong token: the dialog stays, explains next to the token field, keeps the rest.
    page.keyboard.type(sandbox_settings.url)
    page.keyboard.press("Tab")
    page.keyboard.type("demo-shop")
    page.keyboard.press("Tab")
    expect(token).to_be_focused()
    page.keyboard.type("wrong-token")
    page.keyboard.press("Enter")
    # (a filter's inner locator is relative to the outer one: hence page, not dialog)
    token_field = dialog.locator(".field").filter(has=page.get_by_label("API Token", exact=True))
    expect(token_field).to_contain_text("rejected the username or API token")
    expect(dialog).to_be_visible()
    expect(url).to_have_value(sandbox_settings.url)
    expect(username).to_have_value("demo-shop")
    # The refused token is back in its field (the browser kept it), selected: typing replaces it.
    expect(token).to_have_value("wrong-token")
    expect(token).to_have_attribute("aria-invalid", "true")
    expect(token).to_be_focused()  # the field to fix, ready for typing
    assert token.evaluate("t => t.selectionStart === 0 && t.selectionEnd === t.value.length")

    # The right token, Connect reached with Tab: the dialog closes, the list shows the account.
    page.keyboard.type("karla-demo-token")
    tab_until_focused(page, dialog.get_by_role("button", name="Connect"))
    page.keyboard.press("Enter")
    expect(page.locator("dialog#dialog")).to_be_hidden()
    row = accounts.get_by_role("row", name=re.compile("Demo Shop"))
    expect(row).to_be_visible()
    expect(accounts).to_contain_text("Connected Demo Shop")
    expect(row.get_by_role("rowheader")).to_be_focused()  # on what changed
    assert page.evaluate("window.karlaTestMarker") == "no reload"

    # Escape closes the dialog; focus goes back to the link that opened it.
    tab_until_focused(page, add_account, key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(url).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("dialog#dialog")).to_be_hidden()
    expect(add_account).to_be_focused()
    assert page.evaluate("window.karlaTestMarker") == "no reload"


# ---------------------------------------------------------------------------------------------
# The demo conversation: the sidebar in a cross-site iframe, third-party cookies blocked


@pytest.mark.browser
# The demo's sidebar secret is a documented fixed value ("demo-sidebar-secret", 19 bytes), so PyJWT
# warns that it is short when the demo page mints its launch token.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_demo_conversation_sidebar_with_third_party_cookies_blocked(page, demo):
    # Proof that third-party cookies are blocked, part 1 (the control): as a first party,
    # 127.0.0.1 keeps a SameSite=None; Secure cookie set through document.cookie.
    first_party = page.context.new_page()
    first_party.goto(f"{demo.sidebar}/login/")
    assert "karla_first_party" in cookie_probe(first_party, "karla_first_party")
    first_party.close()

    # The demo redirects to localhost and frames the sidebar from 127.0.0.1.
    page.goto(f"{demo.sidebar}{DEMO}")
    expect(page).to_have_url(f"{demo.host}{DEMO}")
    expect(page.get_by_role("heading", name="Where is my order?")).to_be_visible()
    iframe = page.locator("iframe[title='GoKarla sidebar']")
    expect(iframe).to_have_attribute("src", re.compile(rf"^{re.escape(demo.sidebar)}/sidebar/\?"))
    frame = page.frame_locator("iframe[title='GoKarla sidebar']")
    order_input = frame.get_by_label("Order ID or reference number")
    expect(order_input).to_be_visible()
    # The launch token has left the frame's address once the session started.
    sidebar_frame = iframe.element_handle().content_frame()
    assert sidebar_frame.evaluate("location.search") == ""

    # Part 2: inside the cross-site frame, the same kind of cookie is not kept, and the one
    # 127.0.0.1 holds as a first party is not visible: no third-party cookies here, neither
    # written nor read. The browser's cookie jar agrees.
    sidebar_document = iframe.element_handle().content_frame()
    seen_in_frame = cookie_probe(sidebar_document, "karla_third_party")
    assert not seen_in_frame & {"karla_third_party", "karla_first_party"}, seen_in_frame
    jar = {cookie["name"] for cookie in page.context.cookies(demo.sidebar)}
    assert "karla_first_party" in jar
    assert "karla_third_party" not in jar

    # The customer's recent orders load by themselves.
    recent = frame.get_by_role("region", name="Customer's recent orders")
    expect(recent).to_contain_text("jane@example.com")
    expect(recent.get_by_role("button", name=re.compile(r"\b1001\b"))).to_be_visible()
    expect(recent.get_by_role("button", name=re.compile(r"\b1005\b"))).to_be_visible()

    # Get Order 1001.
    account = frame.get_by_label("GoKarla account")  # two accounts: the default preselected
    expect(account.locator("option:checked")).to_have_text("Demo Shop")
    expect(account.locator("option", has_text="All accounts")).to_have_count(1)
    order_input.fill("1001")
    frame.get_by_role("button", name="Get Order").click()
    order = frame.get_by_role("article", name=re.compile(r"^Order #?1001$"))
    expect(order).to_be_visible()
    expect(order.locator("header .badge-order")).to_have_text("Order: Fulfilled")
    # The headline answers "where is my parcel?": the shipment's state, its ETA, its last event.
    headline = order.get_by_role("list", name="Shipments")
    expect(headline).to_contain_text("In transit · ETA")
    expect(headline).to_contain_text(" ago")
    items = order.locator("ul.items > li")
    expect(items.nth(1)).to_be_visible()  # at least two line items
    expect(definition(order, "Customer")).to_contain_text("Jane Doe")
    expect(definition(order, "Ship to")).to_contain_text("Berlin")
    expect(definition(order, "Payment")).to_contain_text("Paid")
    expect(definition(order, "Fulfillment")).to_contain_text("Fulfilled")
    tracking = order.get_by_role("button", name=re.compile(TRACKING_1001))
    expect(tracking).to_contain_text("DHL")
    expect(tracking.locator(".badge")).to_have_text("In transit")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "sidebar.png")
    iframe.screenshot(path=ARTIFACTS / "sidebar-frame.png")

    # Its tracking reference opens the shipment.
    tracking.click()
    shipment = frame.get_by_role("article", name=f"Shipment {TRACKING_1001}")
    expect(shipment).to_be_visible()
    expect(shipment.get_by_role("heading", name="DHL")).to_be_visible()
    expect(shipment.locator("header .badge")).to_have_text("In transit")
    expect(definition(shipment, "Tracking")).to_contain_text(TRACKING_1001)
    last_event = definition(shipment, "Last event").locator("time")
    expect(last_event).to_have_text(re.compile(rf"^{WEEKDAY_DATE}, \d\d:\d\d$"))
    expect(last_event).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    # GoKarla's own words for the ETA (German, as its event language says), shown as they are.
    expect(definition(shipment, "Estimated delivery")).to_have_text(
        re.compile(r"^\w+, \d{1,2}\. \w+, zwischen \d\d:\d\d und \d\d:\d\d Uhr$")
    )

    # An unknown order: guidance, and (two accounts) the offer to search all of them.
    order_input.fill("9999")
    frame.get_by_role("button", name="Get Order").click()
    problem = frame.locator("#result .error-card")
    expect(problem).to_contain_text("No order with that number")
    # Said in the one live region, which no longer holds the success before it.
    expect(frame.locator("#lookup-status")).to_have_text(re.compile("^No order with that number"))
    search_all = problem.get_by_role("button", name="Search all accounts")
    expect(search_all).to_be_visible()
    search_all.click()
    expect(problem).to_contain_text("in any connected GoKarla account")
    expect(problem.get_by_role("button", name="Search all accounts")).to_have_count(0)


# ---------------------------------------------------------------------------------------------
# A launch that is refused


def _expired_token(workspace) -> str:
    now = int(time.time())
    claims = {
        "iss": "armincx",
        "aud": "karla-sidebar",
        "workspace": workspace.slug,
        "sub": "a-1",
        "name": "Ada Agent",
        "iat": now - 900,
        "exp": now - 600,
        "jti": "expired-launch",
    }
    return jwt.encode(claims, workspace.sidebar_secret, algorithm="HS256")


LAUNCH_TOKENS = {
    "malformed": lambda workspace: "not-a-launch-token",
    "wrong secret": lambda workspace: launch_token_mint(
        workspace=workspace.slug,
        agent_id="a-1",
        agent_name="Ada Agent",
        secret="not-acme-secret-but-long-enough-for-hs256",
    ),
    "expired": _expired_token,
}


@pytest.mark.browser
@pytest.mark.parametrize("kind", [*LAUNCH_TOKENS, "replayed"])
def test_refused_launch_says_so_inside_the_frame(page, origins, armincx, workspace, kind):
    if kind == "replayed":
        token = launch_token_mint(workspace=workspace, agent_id="a-1", agent_name="Ada Agent")
    else:
        token = LAUNCH_TOKENS[kind](workspace)
    page.goto(armincx.conversation_url(f"{origins.sidebar}/sidebar/?token={token}"))
    frame = page.frame_locator("iframe[title='GoKarla sidebar']")
    if kind == "replayed":
        expect(frame.get_by_label("Order ID or reference number")).to_be_visible()
        page.reload()  # the same launch token a second time
    expect(frame.get_by_role("alert")).to_contain_text(REFUSED)
    expect(frame.get_by_label("Order ID or reference number")).to_have_count(0)


# ---------------------------------------------------------------------------------------------
# The lookup history, as a support lead


@pytest.mark.browser
def test_history_filters_follow_back_and_forward(page, live_server, leo, workspace):
    """Filtering swaps only the results and pushes the URL; Back and Forward then show the
    filters of that URL with its rows, so the next change keeps every filter it shows."""
    from karla_sidebar.models import LookupRecord

    for action, outcome, reference in [
        ("order", "found", "1001"),
        ("shipment", "found", "TRACK-1"),
        ("shipment", "not_found", "TRACK-404"),
        ("order", "timeout", "err-timeout"),
    ]:
        LookupRecord.objects.create(
            workspace=workspace, source="sidebar", actor_id="a-1", actor_name="Ada Agent",
            action=action, outcome=outcome, reference=reference, latency_ms=120,
        )  # fmt: skip
    log_in(page, live_server, "leo")
    history = f"{live_server.url}/settings/integrations/gokarla/history/"
    page.goto(history)
    page.evaluate("window.karlaTestMarker = 'no reload'")
    results = page.get_by_role("region", name="Lookups", exact=True)
    action = page.get_by_label("Action", exact=True)
    outcome = page.get_by_label("Outcome", exact=True)

    action.select_option("shipment")
    expect(page).to_have_url(re.compile(r"\?action=shipment$"))
    expect(results).to_contain_text("2 lookups match")
    outcome.select_option("unsuccessful")
    expect(page).to_have_url(re.compile(r"\?action=shipment&outcome=unsuccessful$"))
    expect(results).to_contain_text("1 lookup matches")
    assert page.evaluate("window.karlaTestMarker") == "no reload"  # swapped in, not reloaded

    page.go_back()
    expect(page).to_have_url(re.compile(r"\?action=shipment$"))
    expect(results).to_contain_text("2 lookups match")
    expect(action).to_have_value("shipment")
    expect(outcome).to_have_value("")

    page.go_forward()
    expect(results).to_contain_text("1 lookup matches")
    expect(action).to_have_value("shipment")
    expect(outcome).to_have_value("unsuccessful")

    page.go_back()
    expect(outcome).to_have_value("")
    page.get_by_label("Source", exact=True).select_option("sidebar")
    expect(page).to_have_url(re.compile(r"\?action=shipment&source=sidebar$"))
    expect(results).to_contain_text("2 lookups match")


@pytest.mark.browser
def test_account_pages_opened_on_their_own_post_as_plain_forms(
    page, live_server, alice, shop_account, outlet_account
):
    """The Remove or Update token page opened in a tab of its own (middle click): its form still
    works, as an ordinary post that comes back to the Accounts tab."""
    log_in(page, live_server, "alice")

    page.goto(f"{live_server.url}{ACCOUNTS}{outlet_account.pk}/remove/")
    page.get_by_role("button", name="Remove account").click()
    expect(page).to_have_url(f"{live_server.url}{ACCOUNTS}")
    accounts = page.get_by_role("region", name="Accounts connected")
    expect(accounts).to_contain_text(shop_account.label)
    expect(accounts).not_to_contain_text(outlet_account.label)

    page.goto(f"{live_server.url}{ACCOUNTS}add/")
    page.get_by_role("button", name="Connect").click()  # nothing filled in
    expect(page.locator("#id_url_error")).to_be_visible()  # the page again, with its errors
    expect(page).to_have_url(f"{live_server.url}{ACCOUNTS}add/")
    expect(page.get_by_label("GoKarla URL")).to_be_focused()  # the first field to fix


@pytest.mark.browser
def test_a_long_reference_wraps_inside_the_history_list(page, live_server, leo, workspace):
    """A 200-character reference without spaces (the most a lookup keeps) wraps inside its
    column: the History page never scrolls sideways."""
    from karla_sidebar.models import LookupRecord

    LookupRecord.objects.create(
        workspace=workspace, source="sidebar", actor_id="a-1", actor_name="Ada Agent",
        action="order", outcome="not_found", reference="B" * 200, latency_ms=120,
    )  # fmt: skip
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, "leo")
    page.goto(f"{live_server.url}/settings/integrations/gokarla/history/")
    expect(page.get_by_text("B" * 40, exact=False)).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, f"the page is {width} px wide in a 1280 px window"


# ---------------------------------------------------------------------------------------------
# Live cards


@pytest.mark.browser
def test_an_open_card_updates_itself_when_gokarla_reports_news(page, framed_by_host, settings):
    """GoKarla reports an event (here: the index learns it as from a webhook); the open card
    shows it within seconds, without a click, and says it was updated."""
    from sandbox.server import make_server
    from tests.test_live_cards import gokarla_reports

    sandbox = make_server(port=0).start()
    try:
        settings.SANDBOX_ENABLED, settings.SANDBOX_URL, settings.DEBUG = True, sandbox.url, True
        call_command("seed_demo", stdout=io.StringIO())
        page.goto(f"{framed_by_host.sidebar}{DEMO}")
        frame = page.frame_locator("iframe[title='GoKarla sidebar']")
        frame.get_by_label("Order ID or reference number").fill("1001")
        frame.get_by_role("button", name="Get Order").click()
        card = frame.get_by_role("article", name="Order #1001")
        expect(card.locator(".tracking-list .badge")).to_have_text("In transit")

        from accounts.models import GoKarlaAccount

        gokarla_reports(sandbox, GoKarlaAccount.objects.get(username="demo-shop"))
        expect(card.locator(".tracking-list .badge")).to_have_text(
            "Out for delivery", timeout=10_000
        )
        expect(card.locator(".live-updated")).to_contain_text("Updated: GoKarla reported news at")
        expect(frame.locator("#lookup-status")).to_contain_text("Updated from GoKarla.")
    finally:
        sandbox.stop()


# ---------------------------------------------------------------------------------------------
# The agent's sidebar in German, safe while loading, replies into the conversation (issue 17)


def _sidebar_frame(page, title: str):
    frame = page.frame_locator(f"iframe[title='{title}']")
    return frame, page.locator(f"iframe[title='{title}']").element_handle().content_frame()


def assert_accessible(target, state: str) -> None:
    """axe-core (bundled by axe-playwright-python) finds no violation in ``target`` (a Page or
    a Frame)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(target)
    assert results.violations_count == 0, f"{state}: {results.generate_report()}"


@pytest.mark.browser
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_the_1001_flow_in_german_ends_in_the_host_s_reply_box(german_page, demo):
    page = german_page
    page.goto(f"{demo.sidebar}{DEMO}?locale=de")
    expect(page).to_have_url(f"{demo.host}{DEMO}?locale=de")
    frame, document = _sidebar_frame(page, "GoKarla-Sidebar")
    expect(frame.locator("html")).to_have_attribute("lang", "de")
    expect(frame.get_by_role("heading", level=1, name="GoKarla")).to_be_visible()
    recent = frame.get_by_role("region", name="Letzte Bestellungen des Kunden")
    expect(recent.get_by_role("button", name=re.compile(r"\b1001\b"))).to_contain_text(
        re.compile(r"151,95\s€")
    )

    order_input = frame.get_by_label("Bestell-ID oder Referenznummer")
    order_input.fill("1001")
    frame.get_by_role("button", name="Bestellung abrufen").click()
    order = frame.get_by_role("article", name="Bestellung #1001")
    expect(order.locator("header .badge-order")).to_have_text("Bestellung: Versandt")
    headline = order.get_by_role("list", name="Sendungen")
    expect(headline).to_contain_text("Unterwegs · voraussichtlich")
    expect(headline).to_contain_text(re.compile(r"vor \d+ (Stunden|Stunde|Minuten)"))
    expect(definition(order, "Bestellt")).to_contain_text(re.compile(r"vor \d+ Tagen"))
    expect(definition(order, "Bestellt").locator("time")).to_have_text(
        re.compile(r"^(Mo|Di|Mi|Do|Fr|Sa|So)\., \d{1,2}\. \w+\.? \d{4}, \d\d:\d\d$")
    )
    expect(definition(order, "Zahlung")).to_have_text(re.compile(r"^151,95\s€ bezahlt am "))
    expect(frame.locator("#lookup-status")).to_have_text("Bestellung #1001: Versandt.")
    assert document.evaluate("document.documentElement.lang") == "de"

    # The reply: German, with the tracking link; edited, then inserted into the host's box.
    order.get_by_text("Antwort an den Kunden").click()
    reply = order.get_by_label("Antworttext (bearbeitbar)")
    expect(reply).to_have_value(re.compile(r"^Hallo Jane Doe,\n\nvielen Dank für Ihre Nachricht"))
    expect(reply).to_have_value(re.compile(r"Sendungsverfolgung: https://www\.dhl\.de/"))
    reply.fill(reply.input_value() + "\n\nPS: Ihr Paket ist fast da.")
    order.get_by_role("button", name="In Antwort einfügen").click()
    box = page.locator("#reply-box")
    expect(box).to_have_value(re.compile(r"^Hallo Jane Doe,.*PS: Ihr Paket ist fast da\.$", re.S))
    inserted = "In die Antwort der Konversation eingefügt."
    expect(frame.locator("#lookup-status")).to_have_text(inserted)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "sidebar-de.png")

    # The tracking row opens the shipment: focus on its heading, the inputs follow it.
    order.get_by_role("button", name=re.compile(TRACKING_1001)).click()
    shipment = frame.get_by_role("article", name=f"Sendung {TRACKING_1001}")
    expect(shipment.get_by_role("heading", name="DHL")).to_be_focused()
    expect(definition(shipment, "Letztes Ereignis")).to_contain_text(re.compile(r"vor \d+"))
    expect(frame.get_by_label("Sendungs-ID oder Sendungsnummer")).to_have_value(TRACKING_1001)
    expect(order_input).to_have_value("")
    assert_accessible(document, "the German shipment card")


@pytest.mark.browser
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_a_slow_lookup_dims_and_disables_the_card_before_it(page, demo, settings):
    settings.GOKARLA_DEADLINE_SECONDS = 3
    page.goto(f"{demo.sidebar}{DEMO}")
    frame, document = _sidebar_frame(page, "GoKarla sidebar")
    order_input = frame.get_by_label("Order ID or reference number")
    order_input.fill("1001")
    frame.get_by_role("button", name="Get Order").click()
    card = frame.locator("#result article")
    expect(card).to_have_count(1)

    order_input.fill("err-timeout")  # the sandbox answers after 30 s; the app gives up at 3
    frame.get_by_role("button", name="Get Order").click()
    result = frame.locator("#result")
    expect(result).to_have_attribute("aria-busy", "true")
    expect(result).to_have_class(re.compile(r"\bis-busy\b"))
    for control in ("button:has-text('Refresh')", "[data-insert-reply]", "[data-copy]", "textarea"):
        expect(card.locator(control).first).to_be_disabled()
    assert card.evaluate("article => article.inert")  # no click or focus reaches it
    assert float(result.evaluate("r => getComputedStyle(r).opacity")) < 0.6
    assert_accessible(document, "a lookup running over the previous card")

    error = result.locator(".error-card")
    expect(error).to_contain_text("GoKarla did not answer in time", timeout=15_000)
    expect(card).to_have_count(0)  # the old card and its actions are gone
    expect(result).to_have_attribute("aria-busy", "false")
    expect(frame.locator("#lookup-status")).to_have_text(
        re.compile("^GoKarla did not answer in time")
    )


@pytest.mark.browser
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_a_new_reference_during_a_slow_lookup_replaces_it(page, demo, settings):
    """The agent corrects the reference while GoKarla is slow: Enter asks the new question at
    once, and the old one's answer never shows under the new reference."""
    settings.GOKARLA_DEADLINE_SECONDS = 3
    page.goto(f"{demo.sidebar}{DEMO}")
    frame, _ = _sidebar_frame(page, "GoKarla sidebar")
    order_input = frame.get_by_label("Order ID or reference number")
    order_input.fill("err-timeout")  # the sandbox answers after 30 s; the app gives up at 3
    order_input.press("Enter")
    expect(frame.locator("#result")).to_have_attribute("aria-busy", "true")
    order_input.fill("1005")
    order_input.press("Enter")
    order = frame.get_by_role("article", name="Order #1005")
    expect(order).to_be_visible(timeout=2_500)
    _wait_for_history_row(reference="err-timeout")  # the first lookup gave up (its deadline)
    page.wait_for_timeout(300)  # time for its answer to arrive, were it still awaited
    expect(order).to_be_visible()
    expect(frame.locator("#result .error-card")).to_have_count(0)


@pytest.mark.browser
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_keyboard_only_lookup_preview_and_insert(page, demo):
    page.goto(f"{demo.sidebar}{DEMO}")
    frame, _ = _sidebar_frame(page, "GoKarla sidebar")
    order_input = frame.get_by_label("Order ID or reference number")
    expect(order_input).to_be_visible()
    page.evaluate("window.karlaTestMarker = 'no reload'")
    tab_until_focused(page, order_input)
    page.keyboard.type("1001")
    page.keyboard.press("Enter")
    order = frame.get_by_role("article", name="Order #1001")
    expect(order).to_be_visible()
    expect(order_input).to_be_focused()  # focus stays on the control that was used

    summary = order.locator("details[data-reply] > summary")
    tab_until_focused(page, summary, max_presses=40)
    page.keyboard.press("Enter")
    reply = order.get_by_label("Reply text (you can edit it)")
    page.keyboard.press("Tab")
    expect(reply).to_be_focused()
    expect(reply).to_have_value(re.compile(r"^Hello Jane Doe,"))
    page.keyboard.press("Control+End")
    page.keyboard.type("\nThanks for waiting.")
    tab_until_focused(page, order.get_by_role("button", name="Insert into reply"))
    page.keyboard.press("Enter")
    expect(page.locator("#reply-box")).to_have_value(
        re.compile(r"^Hello Jane Doe,.*Thanks for waiting\.$", re.S)
    )

    # Refresh by keyboard: the new card's heading takes the focus; Escape clears.
    tab_until_focused(page, order.get_by_role("button", name="Refresh"))
    page.keyboard.press("Enter")
    expect(frame.locator("#result [data-result-heading]")).to_be_focused()
    page.keyboard.press("Escape")
    expect(frame.locator("#result article")).to_have_count(0)
    expect(order_input).to_be_focused()
    expect(frame.locator("#lookup-status")).to_have_text("Result cleared.")
    assert page.evaluate("window.karlaTestMarker") == "no reload"


def _wait_for_history_row(*, reference: str, seconds: float = 10) -> None:
    """Until the app has recorded a lookup of ``reference`` (it records one when it is done)."""
    from karla_sidebar.models import LookupRecord

    deadline = time.monotonic() + seconds
    while not LookupRecord.objects.filter(reference=reference).exists():
        assert time.monotonic() < deadline, f"no history row for {reference!r}"
        time.sleep(0.05)


def _expire_the_next_lookup(page):
    """The sidebar's next lookup carries its session token as it would be after the idle
    lifetime (signed an hour ago), so no test waits that lifetime out; later requests go as
    they are."""
    from django.core import signing

    from karla_sidebar.sidebar_session import SIDEBAR_TOKEN_SALT

    class HourAgo(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - 3600)

    def expired(route, request):
        token = request.headers["x-karla-sidebar-token"]
        session = signing.loads(token, salt=SIDEBAR_TOKEN_SALT)
        old = HourAgo(salt=SIDEBAR_TOKEN_SALT).sign_object(session, compress=True)
        route.continue_(headers={**request.headers, "x-karla-sidebar-token": old})

    page.route(LOOKUPS, expired, times=1)


LOOKUPS = re.compile(r"/sidebar/(order|shipment)/$")


@pytest.mark.browser
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_an_expired_session_resumes_in_place_through_the_host(page, demo):
    page.goto(f"{demo.sidebar}{DEMO}")
    frame, _ = _sidebar_frame(page, "GoKarla sidebar")
    frame.get_by_label("Order ID or reference number").fill("1001")
    frame.get_by_role("button", name="Get Order").click()
    order = frame.get_by_role("article", name="Order #1001")
    expect(order).to_be_visible()
    shipment_input = frame.get_by_label("Shipment ID or tracking reference")
    shipment_input.fill("half-typed")
    page.evaluate("window.karlaTestMarker = 'no reload'")
    fetched = order.locator("footer time").text_content()

    _expire_the_next_lookup(page)
    order.get_by_role("button", name="Refresh").click()
    # The sidebar asked the host (karla:session-expired), the host answered with a fresh
    # launch token (karla:launch-token), and the Refresh went through: same page, same inputs.
    expect(page.locator("#host-status")).to_contain_text("fresh launch token")
    expect(frame.locator("#result article")).to_have_count(1)
    expect(frame.locator("#session-state")).to_be_hidden()
    expect(shipment_input).to_have_value("half-typed")
    expect(frame.get_by_label("Order ID or reference number")).to_have_value("1001")
    assert page.evaluate("window.karlaTestMarker") == "no reload"
    assert order.locator("footer time").text_content() >= fetched


@pytest.mark.browser
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_axe_finds_nothing_in_any_sidebar_state(page, demo, settings):
    """Every state of the sidebar, opened as a page of its own so that axe sees all of it."""
    from accounts.models import Workspace

    workspace = Workspace.objects.get(slug="demo")

    def open_sidebar(**claims):
        token = launch_token_mint(
            workspace=workspace, agent_id="a-1", agent_name="Ada Agent",
            customer_email="jane@example.com", tz="Europe/Berlin", **claims,
        )  # fmt: skip
        page.goto(f"{demo.sidebar}/sidebar/?token={token}")
        expect(page.get_by_role("region", name=re.compile("recent orders|Letzte Bestellungen")))
        expect(page.locator("#customer-orders .order-list")).to_be_visible()

    def look_up(label, button, reference):
        page.get_by_label(label).fill(reference)
        page.get_by_role("button", name=button, exact=True).click()

    open_sidebar()
    assert_accessible(page, "launched, with the customer's recent orders")
    look_up("Order ID or reference number", "Get Order", "1001")
    order = page.get_by_role("article", name="Order #1001")
    expect(order).to_be_visible()
    assert_accessible(page, "the order card")
    order.get_by_text("Reply to the customer").click()
    expect(order.get_by_label("Reply text (you can edit it)")).to_be_visible()
    assert_accessible(page, "the reply preview")
    order.get_by_role("button", name=re.compile(TRACKING_1001)).click()
    expect(page.get_by_role("article", name=f"Shipment {TRACKING_1001}")).to_be_visible()
    page.get_by_role("article").get_by_text(re.compile(r"^All events")).click()
    assert_accessible(page, "the shipment card with its events")
    look_up("Order ID or reference number", "Get Order", "1011")
    expect(page.get_by_role("article", name="Order #1011")).to_contain_text("DHL Packstation")
    assert_accessible(page, "a parcel waiting for pickup")
    look_up("Order ID or reference number", "Get Order", "9999")
    expect(page.locator("#result .error-card")).to_contain_text("Search all accounts")
    assert_accessible(page, "not found, with Search all accounts")
    look_up("Shipment ID or tracking reference", "Get Shipment", "2001")
    expect(page.locator("#result .error-card")).to_contain_text("Get the customer's orders")
    assert_accessible(page, "an unknown shipment")

    # The narrowest sidebar: tracking numbers stay on one line.
    page.set_viewport_size({"width": 320, "height": 800})
    look_up("Order ID or reference number", "Get Order", "1001")
    number = page.locator(".tracking-ref .num").first
    expect(number).to_have_text(TRACKING_1001)
    line = float(number.evaluate("n => parseFloat(getComputedStyle(n).lineHeight)"))
    assert number.bounding_box()["height"] < 1.5 * line, "the tracking number broke"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the sidebar is {width} px wide in a 320 px frame"
    assert_accessible(page, "at 320 px")
    page.set_viewport_size({"width": 380, "height": 800})

    settings.GOKARLA_DEADLINE_SECONDS = 3
    look_up("Order ID or reference number", "Get Order", "err-timeout")
    expect(page.locator("#result")).to_have_attribute("aria-busy", "true")
    assert_accessible(page, "loading over the previous card")
    expect(page.locator("#result .error-card")).to_contain_text("Try again", timeout=15_000)
    assert_accessible(page, "timed out, with Try again")

    _expire_the_next_lookup(page)  # no host to ask here: the sidebar says so
    look_up("Order ID or reference number", "Get Order", "1001")
    expect(page.locator("#session-state")).to_contain_text("expired")
    expect(page.locator("#lookup-status")).to_have_text(page.locator("#session-state").inner_text())
    assert_accessible(page, "session expired, no host")

    open_sidebar(locale="de")
    look_up("Bestell-ID oder Referenznummer", "Bestellung abrufen", "1001")
    expect(page.get_by_role("article", name="Bestellung #1001")).to_be_visible()
    assert_accessible(page, "the German order card")
    page.goto(f"{demo.sidebar}/sidebar/?token=expired")
    assert_accessible(page, "a refused launch")


@pytest.mark.browser
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_another_account_runs_the_shown_lookup_again(page, demo):
    page.goto(f"{demo.sidebar}{DEMO}")
    frame, _ = _sidebar_frame(page, "GoKarla sidebar")
    recent = frame.get_by_role("region", name="Customer's recent orders")
    # Two accounts: each recent order says which one it is in.
    expect(recent.get_by_role("button", name=re.compile(r"\b1001\b"))).to_contain_text("Demo Shop")
    recent.get_by_role("button", name=re.compile(r"\b1001\b")).click()
    expect(frame.get_by_role("article", name="Order #1001")).to_be_visible()
    # The row's order is in the input now, and another account asks for it there.
    expect(frame.get_by_label("Order ID or reference number")).to_have_value("1001")
    frame.get_by_label("GoKarla account").select_option(label="Demo Outlet")
    problem = frame.locator("#result .error-card")
    expect(problem).to_contain_text("No order with that number or reference in this GoKarla")
    frame.get_by_label("GoKarla account").select_option(label="All accounts")
    expect(frame.get_by_role("article", name="Order #1001")).to_be_visible()

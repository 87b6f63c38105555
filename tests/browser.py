"""Helpers for the browser tests (``tests/test_browser.py``): Playwright driving Debian's Chromium.

- Chromium: ``/usr/bin/chromium``, or the path in ``BROWSER_TESTS_CHROMIUM``. When it is
  missing the browser tests are skipped, unless ``REQUIRE_BROWSER_TESTS=1`` (CI), which makes
  them fail instead. ``playwright install`` is never used: nothing is downloaded.
- Nothing leaves the machine: the launch flags switch Chromium's own background traffic off,
  and every context aborts (and reports) requests to any host but the live server's.
- Third-party cookies are blocked in every page (``block_third_party_cookies``), and
  ``cookie_probe`` lets a test prove it inside a cross-site frame.
"""

from __future__ import annotations

import contextlib
import html
import os
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ENV = "BROWSER_TESTS_CHROMIUM"
REQUIRE_ENV = "REQUIRE_BROWSER_TESTS"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Auto-waiting assertions and actions give up after this long (milliseconds).
TIMEOUT_MS = 5_000

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})


def chromium_path() -> str:
    return os.environ.get(CHROMIUM_ENV, "").strip() or DEFAULT_CHROMIUM


def browser_tests_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def unavailable(reason: str):
    """Skip the browser test, or fail it when CI requires the browser tests."""
    if browser_tests_required():
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1: the browser tests are required)", pytrace=False)
    pytest.skip(f"{reason}; install it with `sudo apt-get install -y chromium`")


def chromium_or_unavailable() -> str:
    path = chromium_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        unavailable(f"Chromium not found at {path} (set {CHROMIUM_ENV} to use another binary)")
    return path


@dataclass
class ForeignRequests:
    """Requests a page tried to send anywhere but the local test servers (all aborted)."""

    urls: list[str] = field(default_factory=list)

    def guard(self, route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in {"http", "https", "ws", "wss"} and (
            urlsplit(url).hostname not in LOCAL_HOSTS
        ):
            self.urls.append(url)
            route.abort("blockedbyclient")
        else:
            route.continue_()


def block_third_party_cookies(page):
    """Switch Chromium's third-party cookie restriction on for ``page``, before it navigates.

    Returns the DevTools session that holds the setting (keep it for the page's lifetime).

    Playwright's contexts are off-the-record profiles, in which Chromium already blocks
    third-party cookies by default. We do not rely on that default: the DevTools protocol's
    ``Network.setCookieControls`` turns the restriction on explicitly. On Chromium 156 it
    blocks in a profile whose preferences allow third-party cookies, both ``Set-Cookie`` and
    ``document.cookie`` in an out-of-process cross-site frame, provided the session has
    ``Network.enable``d first. (The ``--test-third-party-cookie-phaseout`` switch no longer
    blocks anything there.) The method is experimental: should a later Chromium drop it, the
    off-the-record default remains, and the tests still prove the block with ``cookie_probe``.
    """
    from playwright.sync_api import Error

    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    with contextlib.suppress(Error):
        session.send(
            "Network.setCookieControls",
            {
                "enableThirdPartyCookieRestriction": True,
                "disableThirdPartyCookieMetadata": True,
                "disableThirdPartyCookieHeuristics": True,
            },
        )
    return session


# The probe cookie: one a cross-site frame could only keep if third-party cookies were
# allowed. SameSite=None, because Lax (the default) is never set from a cross-site frame
# anyway; Secure, which SameSite=None requires (Chromium accepts it from http://127.0.0.1 and
# http://localhost, which are secure contexts).
_SET_COOKIE_JS = """name => {
    document.cookie = name + "=1; SameSite=None; Secure; Path=/";
    return document.cookie;
}"""


def cookie_probe(target, name: str) -> set[str]:
    """Set cookie ``name`` through ``document.cookie`` in ``target`` (a Page or a Frame: not a
    Locator, whose ``evaluate`` passes the element first); return the names of the cookies
    that document can then read."""
    cookies = target.evaluate(_SET_COOKIE_JS, name)
    return {pair.split("=", 1)[0] for pair in cookies.split("; ") if pair}


def tab_until_focused(page, locator, *, max_presses: int = 25, key: str = "Tab") -> None:
    """Press Tab (or ``key``: Shift+Tab) until ``locator`` has the keyboard focus (as a
    keyboard user would)."""
    for _ in range(max_presses):
        page.keyboard.press(key)
        if locator.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{locator} not reached with {max_presses} presses of Tab")


class ArminCXStandIn:
    """A bare ArminCX-like host page on its own local port (``http://localhost:<port>``) that
    frames whatever URL it is given: a cross-site frame for the sidebar on 127.0.0.1.

    A real local server, not a page fulfilled by Playwright: Chromium's local network access
    checks block a page without a (local) server address from framing a loopback URL.
    """

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                query = parse_qs(urlsplit(self.path).query)
                src = query.get("sidebar", ["about:blank"])[0]
                body = (
                    "<!doctype html><html lang=en><title>Conversation · ArminCX</title>"
                    f'<iframe title="GoKarla sidebar" src="{html.escape(src)}"'
                    ' style="width: 380px; height: 640px; border: 0"></iframe>'
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def origin(self) -> str:
        return f"http://localhost:{self._server.server_address[1]}"

    def conversation_url(self, sidebar_src: str) -> str:
        return f"{self.origin}/conversation?{urlencode({'sidebar': sidebar_src})}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

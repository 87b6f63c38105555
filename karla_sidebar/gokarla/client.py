"""The outbound edge: every request Karla Sidebar makes to GoKarla goes through here.

One ``requests.Session`` per process and thread (so connections are reused), a deadline per
operation that covers retries and sleeps, bounded retries for idempotent GETs only, no
redirects, a size cap on bodies, and a translation of every failure into the error hierarchy
in ``errors.py``. Responses become typed records in ``parsing.py``; callers never see raw
JSON, an upstream body, socket text or the token.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import threading
import time
import unicodedata
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError

from .endpoints import Endpoint
from .errors import (
    AccessDenied,
    CredentialsRejected,
    GoKarlaError,
    InvalidInput,
    NotFound,
    NoTrackingYet,
    OrderNotFound,
    RateLimited,
    ShipmentNotFound,
    ShopNotFound,
    TimedOut,
    TokenRevoked,
    Unavailable,
    UnexpectedResponse,
)
from .parsing import parse_orders, parse_shipment, parse_shop
from .records import Order, Shipment, Shop

logger = logging.getLogger("karla_sidebar.gokarla")

VERSION = "0.1.0"  # keep in step with pyproject.toml
USER_AGENT = f"KarlaSidebar/{VERSION}"

# API paths, relative to the endpoint's API root.
SHOP_PATH = "shops/{slug}"
ORDERS_PATH = "shops/{slug}/orders"
# GoKarla's public API reference documents no shipment GET. The sandbox serves these two;
# if GoKarla's real paths differ, this is the one place to change them.
SHIPMENT_PATH = "shops/{slug}/shipments/{shipment_id}"
SHIPMENTS_PATH = "shops/{slug}/shipments"

ORDER_FILTERS = ("order_number", "order_name", "uuid", "external_id", "email_id")

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_REFERENCE_LENGTH = 200
RETRY_BACKOFF_SECONDS = (0.1, 0.3)  # one entry per retry: at most two retries
MAX_RETRY_AFTER_SECONDS = 5.0
RETRYABLE_STATUSES = {502, 503, 504}
POOL_SIZE = 10
_CHUNK_BYTES = 64 * 1024

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Ten or more ASCII digits: a shop system's order id (Shopify's are 13 digits), GoKarla's
# ``external_id``, more likely than an order number that long.
_EXTERNAL_ID = re.compile(r"[0-9]{10,}")

_local = threading.local()

_CREDENTIAL = re.compile(r"[!-~]{1,500}")  # printable ASCII, no spaces
CREDENTIAL_MESSAGE = (
    "GoKarla usernames and API tokens contain only letters, digits and punctuation, without "
    "spaces. Copy them again from GoKarla's portal."
)


def credential_is_valid(value: str) -> bool:
    return bool(_CREDENTIAL.fullmatch(value or ""))


def http_session() -> requests.Session:
    """This thread's session, created on first use (and again in a forked child process).

    It does not read the environment on every call (``trust_env``): ``_environment`` reads
    it once per GoKarla host instead.
    """
    session = getattr(_local, "session", None)
    if session is None or _local.pid != os.getpid():
        session = requests.Session()
        session.trust_env = False
        adapter = HTTPAdapter(max_retries=0, pool_connections=POOL_SIZE, pool_maxsize=POOL_SIZE)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})
        _local.session, _local.pid = session, os.getpid()
    return session


@functools.lru_cache(maxsize=256)  # keyed by admin-entered URLs: bounded
def _environment(api_root: str) -> dict[str, Any]:
    """What ``requests`` would take from the environment for this GoKarla host: the proxy
    (``HTTPS_PROXY``, ``NO_PROXY``, …) and the CA bundle (``REQUESTS_CA_BUNDLE`` or
    ``CURL_CA_BUNDLE``). Read once per host and process: ``requests`` reads it again on every
    call otherwise, which cost 0.3 ms of CPU per GoKarla call here."""
    verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return {"proxies": requests.utils.get_environ_proxies(api_root), "verify": verify}


class _Deadline:
    def __init__(self, seconds: float):
        self._expires = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._expires - time.monotonic()

    def allows(self, seconds: float) -> bool:
        return seconds < self.remaining()


class GoKarlaClient:
    """GoKarla's API for one connected account.

    Each public method is one operation with its own deadline (``deadline`` seconds, default
    ``GOKARLA_DEADLINE_SECONDS``), retries included.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        username: str,
        token: str,
        deadline: float | None = None,
        connect_timeout: float | None = None,
    ):
        if not (credential_is_valid(username) and credential_is_valid(token)):
            # HTTP Basic carries them as plain text: GoKarla's are printable ASCII.
            raise CredentialsRejected(CREDENTIAL_MESSAGE)
        self.endpoint = endpoint
        self.username = username
        self._token = token
        self.deadline = settings.GOKARLA_DEADLINE_SECONDS if deadline is None else deadline
        self.connect_timeout = (
            settings.GOKARLA_CONNECT_TIMEOUT_SECONDS if connect_timeout is None else connect_timeout
        )

    def __repr__(self) -> str:
        return f"GoKarlaClient(api_root={self.endpoint.api_root!r}, username={self.username!r})"

    # Reference: https://docs.gokarla.io/reference/get-shop
    def verify(self) -> Shop:
        """Check the credentials by fetching the shop; returns it (for its name)."""
        body = self._get(
            SHOP_PATH.format(slug=self._slug),
            {},
            _Deadline(self.deadline),
            not_found=ShopNotFound,
        )
        shop = parse_shop(body)
        return shop if shop.slug else Shop(slug=self.endpoint.shop_slug, name=shop.name)

    def orders_search(self, **filters: str) -> list[Order]:
        """Orders matching every filter (order_number, order_name, uuid, external_id,
        email_id); an empty list when none match."""
        unknown = set(filters) - set(ORDER_FILTERS)
        if unknown or not filters:
            raise TypeError(f"orders_search takes one or more of {', '.join(ORDER_FILTERS)}")
        params = {
            name: _clean_reference(value, empty=_EMPTY_ORDER) for name, value in filters.items()
        }
        return self._search_orders(params, _Deadline(self.deadline))

    def order_find(self, reference: str) -> list[Order]:
        """The order(s) a support agent means by ``reference``; raises OrderNotFound.

        The search fields follow the reference's shape, so a miss costs at most two calls:

        - a UUID searches ``uuid`` (lower-cased);
        - ``#1001`` searches ``order_name``;
        - an e-mail address searches ``email_id``;
        - ten or more digits only (a shop system's id, e.g. ``5712345601001``) search
          ``external_id``, then ``order_number``;
        - anything else (shorter digits-only numbers included) searches ``order_number``,
          then ``order_name``.
        """
        reference = _clean_reference(reference, empty=_EMPTY_ORDER)
        deadline = _Deadline(self.deadline)
        if _UUID.fullmatch(reference):
            fields = ("uuid",)
            reference = reference.lower()
        elif reference.startswith("#"):
            fields = ("order_name",)
        elif _EMAIL.fullmatch(reference):
            fields = ("email_id",)
        elif _EXTERNAL_ID.fullmatch(reference):
            fields = ("external_id", "order_number")
        else:
            fields = ("order_number", "order_name")
        for field in fields:
            orders = self._search_orders({field: reference}, deadline)
            if orders:
                return orders
        raise OrderNotFound(status_code=200)  # GoKarla answered: an empty list

    def shipment_get(self, reference: str) -> Shipment:
        """One shipment by its id (a UUID) or tracking number; raises ShipmentNotFound, or
        NoTrackingYet when the shipment exists but has no tracking number (a draft).

        A tracking number is searched without its inner whitespace: carriers print them in
        groups (``1Z999 AA1 0123456784``), and the spaces are not part of the number.
        """
        reference = _clean_reference(reference, empty=_EMPTY_SHIPMENT)
        deadline = _Deadline(self.deadline)
        if _UUID.fullmatch(reference):
            # Reference: https://docs.gokarla.io/reference/get-shipment (sandbox only)
            path = SHIPMENT_PATH.format(slug=self._slug, shipment_id=reference.lower())
            params = {}
        else:
            # Reference: https://docs.gokarla.io/reference/search-shipments (sandbox only)
            path = SHIPMENTS_PATH.format(slug=self._slug)
            params = {"tracking_number": "".join(reference.split())}
        shipment = parse_shipment(self._get(path, params, deadline, not_found=ShipmentNotFound))
        if not shipment.tracking_number:
            raise NoTrackingYet(status_code=200)
        return shipment

    # Reference: https://docs.gokarla.io/reference/search-orders
    def _search_orders(self, params: dict[str, str], deadline: _Deadline) -> list[Order]:
        path = ORDERS_PATH.format(slug=self._slug)
        return parse_orders(self._get(path, params, deadline, not_found=OrderNotFound))

    @property
    def _slug(self) -> str:
        return quote(self.endpoint.shop_slug, safe="")

    def _get(
        self,
        path: str,
        params: dict[str, str],
        deadline: _Deadline,
        *,
        not_found: type[NotFound],
    ) -> Any:
        """GET ``path`` and return its JSON, retrying only what is safe and worth retrying."""
        url = f"{self.endpoint.api_root}/{path}"
        backoffs = iter(RETRY_BACKOFF_SECONDS)
        while True:
            try:
                status, headers, body = self._attempt(url, params, deadline)
            except _ConnectionFailed:
                if _pause(next(backoffs, None), deadline):
                    continue
                raise Unavailable() from None
            if status == 429:
                retry_after = _retry_after(headers)
                honoured = retry_after is not None and retry_after <= MAX_RETRY_AFTER_SECONDS
                # Sleeping out Retry-After spends one of the retries.
                if honoured and next(backoffs, None) is not None and _pause(retry_after, deadline):
                    continue
                raise RateLimited(status_code=429, retry_after=retry_after)
            if status in RETRYABLE_STATUSES and _pause(next(backoffs, None), deadline):
                continue
            return _json_or_error(status, headers, body, not_found=not_found)

    def _attempt(self, url: str, params: dict[str, str], deadline: _Deadline):
        """One request: (status, headers, body). Transport failures become errors."""
        remaining = deadline.remaining()
        if remaining <= 0:
            raise TimedOut()
        started = time.monotonic()
        outcome = "failed"
        try:
            response = http_session().get(
                url,
                params=params,
                auth=(self.username, self._token),
                timeout=(min(self.connect_timeout, remaining), remaining),
                allow_redirects=False,
                stream=True,
                **_environment(self.endpoint.api_root),
            )
            outcome = str(response.status_code)
            with response:
                if 300 <= response.status_code < 400:
                    raise UnexpectedResponse(
                        "GoKarla answered with a redirect, which Karla Sidebar does not follow.",
                        status_code=response.status_code,
                    )
                body = _read_capped(response, deadline)
            return response.status_code, response.headers, body
        except requests.RequestException as exc:
            # Only the exception's class is kept: its text may hold socket details.
            if _is_timeout(exc):
                outcome = "timed out"
                raise TimedOut() from None
            outcome = f"failed ({type(exc).__name__})"
            if isinstance(exc, requests.ConnectionError):
                raise _ConnectionFailed() from None
            raise Unavailable() from None
        finally:
            # The path and the parameter names only: values may be customer e-mail addresses.
            logger.info(
                "GoKarla GET %s params=%s -> %s in %d ms",
                url.removeprefix(self.endpoint.url),
                ",".join(sorted(params)) or "-",
                outcome,
                (time.monotonic() - started) * 1000,
            )


class _ConnectionFailed(Exception):
    """No answer because the connection failed: safe to retry a GET."""


_EMPTY_ORDER = "Enter an order number, order name, e-mail address or order ID."
_EMPTY_SHIPMENT = "Enter a shipment ID or tracking number."


def _clean_reference(reference: Any, *, empty: str) -> str:
    if not isinstance(reference, str) or not reference.strip():
        raise InvalidInput(empty)
    reference = reference.strip()
    if len(reference) > MAX_REFERENCE_LENGTH:
        raise InvalidInput(
            f"That reference is too long: GoKarla references have at most "
            f"{MAX_REFERENCE_LENGTH} characters."
        )
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in reference):
        raise InvalidInput(
            "That reference contains control characters (such as a line break or a tab). "
            "Enter only the reference itself."
        )
    return reference


def _pause(delay: float | None, deadline: _Deadline) -> bool:
    """Sleep ``delay`` and say to retry, unless no retry is left or it would pass the deadline."""
    if delay is None or not deadline.allows(delay):
        return False
    time.sleep(delay)
    return True


def _retry_after(headers) -> float | None:
    raw = (headers.get("Retry-After") or "").strip()
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _read_capped(response: requests.Response, deadline: _Deadline) -> bytes:
    too_large = UnexpectedResponse(
        "GoKarla sent a response larger than Karla Sidebar accepts (2 MB).",
        status_code=response.status_code,
    )
    length = response.headers.get("Content-Length", "")
    if length.strip().isdigit() and int(length) > MAX_BODY_BYTES:
        raise too_large
    chunks, size = [], 0
    for chunk in response.iter_content(_CHUNK_BYTES):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large
        if deadline.remaining() <= 0:
            raise TimedOut(status_code=response.status_code)
        chunks.append(chunk)
    return b"".join(chunks)


def _is_timeout(exc: requests.RequestException) -> bool:
    # A read timeout while streaming the body surfaces as a ConnectionError wrapping urllib3's.
    return isinstance(exc, requests.Timeout) or any(
        isinstance(arg, ReadTimeoutError) for arg in exc.args
    )


_STATUS_ERRORS: dict[int, type[GoKarlaError]] = {
    400: CredentialsRejected,
    401: TokenRevoked,
    403: AccessDenied,
}


def _json_or_error(status: int, headers, body: bytes, *, not_found: type[NotFound]) -> Any:
    if 200 <= status < 300:
        return _json(headers, body, status)
    if status in _STATUS_ERRORS:
        raise _STATUS_ERRORS[status](status_code=status)
    if status == 404:
        shop_gone = _error_key(body) == "shop_not_found"
        raise (ShopNotFound if shop_gone else not_found)(status_code=status)
    if status == 422:
        raise InvalidInput(
            "GoKarla did not accept that reference. Check it and try again.", status_code=status
        )
    if status >= 500:
        raise Unavailable(status_code=status)
    raise UnexpectedResponse(status_code=status)


def _json(headers, body: bytes, status: int) -> Any:
    content_type = (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise UnexpectedResponse(
            "GoKarla answered with something other than JSON (perhaps a maintenance page).",
            status_code=status,
        )
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise UnexpectedResponse(
            "GoKarla sent a response that is not valid JSON.", status_code=status
        ) from None


def _error_key(body: bytes) -> str:
    """The ``key`` of a GoKarla error body (such as ``shop_not_found``), if it has one."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    key = data.get("key") if isinstance(data, dict) else None
    return key if isinstance(key, str) else ""

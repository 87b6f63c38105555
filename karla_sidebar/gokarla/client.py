"""The outbound edge: every request Karla Sidebar makes to GoKarla goes through here.

One ``requests.Session`` per process and thread (so connections are reused), a deadline per
operation that covers retries and sleeps, bounded retries for idempotent GETs only, no
redirects, a size cap on bodies, and a translation of every failure into the error hierarchy
in ``errors.py``. Responses become typed records in ``parsing.py``; callers never see raw
JSON, an upstream body, socket text or the token.
"""

from __future__ import annotations

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
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError, ReadTimeoutError

from .endpoints import Endpoint
from .errors import (
    AccessDenied,
    CredentialsRejected,
    GoKarlaError,
    InvalidInput,
    NotFound,
    NotGoKarlaAPI,
    OrderNotFound,
    RateLimited,
    ShopNotFound,
    TimedOut,
    TokenRevoked,
    Unavailable,
    UnexpectedResponse,
    WebhookNotFound,
)
from .parsing import parse_orders, parse_shop, parse_webhook, parse_webhooks
from .records import Order, Shop, Webhook

logger = logging.getLogger("karla_sidebar.gokarla")

VERSION = "0.1.0"  # keep in step with pyproject.toml
USER_AGENT = f"KarlaSidebar/{VERSION}"

# API paths, relative to the endpoint's API root: only operations GoKarla documents
# (gokarla-api.md). There is no shipment GET and no tracking-number filter.
SHOP_PATH = "shops/{slug}"
ORDERS_PATH = "shops/{slug}/orders"
WEBHOOKS_PATH = "shops/{slug}/webhooks"
WEBHOOK_PATH = "shops/{slug}/webhooks/{uuid}"
# What a webhook update may change (WebhookUpdateDTO); the secret is set only at creation.
WEBHOOK_UPDATE_FIELDS = ("url", "enabled_events", "description", "status")

# The documented order-search filters, and its paging.
ORDER_FILTERS = (
    "order_number",
    "order_name",
    "uuid",
    "external_id",
    "email_id",
    "zip_code",
    "order_placed_from",
    "order_placed_to",
    "shipment_updated_since",
)
MAX_PER_PAGE = 100
# Languages GoKarla localizes event strings in (``Accept-Language``).
LANGUAGES = frozenset({"en", "de", "it", "fr", "es", "nl", "dk"})

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_REFERENCE_LENGTH = 200
RETRY_BACKOFF_SECONDS = (0.1, 0.3)  # one entry per retry: at most two retries
MAX_RETRY_AFTER_SECONDS = 5.0
RETRYABLE_STATUSES = {502, 503, 504}
POOL_SIZE = 10
# A client's limits unless its caller passes its own (the app passes its settings,
# GOKARLA_DEADLINE_SECONDS and GOKARLA_CONNECT_TIMEOUT_SECONDS: ``accounts.connection``).
DEADLINE_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 3.05
_CHUNK_BYTES = 64 * 1024

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Ten or more ASCII digits: a shop system's order id (Shopify's are 13 digits), GoKarla's
# ``external_id``, more likely than an order number that long.
_EXTERNAL_ID = re.compile(r"[0-9]{10,}")

_local = threading.local()

_CREDENTIAL = re.compile(r"[!-~]{1,500}")  # printable ASCII, no spaces
CREDENTIAL_MESSAGE = gettext_lazy(
    "GoKarla usernames and API tokens contain only letters, digits and punctuation, without "
    "spaces. Copy them again from GoKarla's portal."
)


def credential_is_valid(value: str) -> bool:
    return bool(_CREDENTIAL.fullmatch(value or ""))


def http_session() -> requests.Session:
    """This thread's session, created on first use (and again in a forked child process).
    As ``requests`` does, it takes proxies (``HTTPS_PROXY``, ``NO_PROXY``, …) and the CA
    bundle (``REQUESTS_CA_BUNDLE``) from the environment on every call."""
    session = getattr(_local, "session", None)
    if session is None or _local.pid != os.getpid():
        session = requests.Session()
        adapter = HTTPAdapter(max_retries=0, pool_connections=POOL_SIZE, pool_maxsize=POOL_SIZE)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})
        _local.session, _local.pid = session, os.getpid()
    return session


class _Deadline:
    def __init__(self, seconds: float):
        self._expires = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._expires - time.monotonic()

    def allows(self, seconds: float) -> bool:
        return seconds < self.remaining()


class GoKarlaClient:
    """GoKarla's API for one connected account.

    Each public method is one operation with its own deadline (``deadline`` seconds), retries
    included; ``connect_timeout`` bounds each connection attempt.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        username: str,
        token: str,
        language: str = "",
        deadline: float = DEADLINE_SECONDS,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    ):
        if not (credential_is_valid(username) and credential_is_valid(token)):
            # HTTP Basic carries them as plain text: GoKarla's are printable ASCII.
            raise CredentialsRejected(CREDENTIAL_MESSAGE)
        self.endpoint = endpoint
        self.username = username
        self._token = token
        self.language = gokarla_language(language)
        # Event strings in the viewer's language; GoKarla's default (English) otherwise.
        self._headers = {"Accept-Language": self.language} if self.language else None
        self._origin = "/".join(endpoint.api_root.split("/", 3)[:3])
        self.calls = 0  # requests sent: a caller can tell "GoKarla answered" from "not asked"
        self.deadline = deadline
        self.connect_timeout = connect_timeout

    def __repr__(self) -> str:
        return f"GoKarlaClient(api_root={self.endpoint.api_root!r}, username={self.username!r})"

    # Reference: Get shop (GET /v1/shops/{slug})
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

    def orders_search(self, *, page: int = 1, per_page: int = 30, **filters: str) -> list[Order]:
        """One page of the orders matching every filter (any of ``ORDER_FILTERS``; the date
        filters take ISO 8601 text); an empty list when none match."""
        unknown = set(filters) - set(ORDER_FILTERS)
        if unknown or not filters:
            raise TypeError(f"orders_search takes one or more of {', '.join(ORDER_FILTERS)}")
        if not (page >= 1 and 1 <= per_page <= MAX_PER_PAGE):
            raise TypeError(f"page starts at 1; per_page is 1 to {MAX_PER_PAGE}")
        params = {
            name: _clean_reference(value, empty=_EMPTY_ORDER) for name, value in filters.items()
        }
        if page != 1:
            params["page"] = str(page)
        if per_page != 30:  # GoKarla's default
            params["per_page"] = str(per_page)
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

    # Reference: Search orders (GET /v1/shops/{slug}/orders)
    def _search_orders(self, params: dict[str, str], deadline: _Deadline) -> list[Order]:
        path = ORDERS_PATH.format(slug=self._slug)
        return parse_orders(self._get(path, params, deadline, not_found=OrderNotFound))

    # Reference: Create webhook (POST /v1/shops/{slug}/webhooks)
    def webhook_create(
        self,
        *,
        url: str,
        secret: str,
        enabled_events: tuple[str, ...] = (),
        description: str = "",
        status: str = "active",
    ) -> Webhook:
        """Register a webhook: GoKarla delivers the ``enabled_events`` (all when empty) to
        ``url``, signed with ``secret``. Raises AccessDenied when the key may not (a viewer)."""
        body = {
            "url": url,
            "enabled_events": list(enabled_events),
            "secret": secret,
            "description": description,
            "status": status,
        }
        path = WEBHOOKS_PATH.format(slug=self._slug)
        return parse_webhook(self._write("POST", path, body, not_found=ShopNotFound))

    # Reference: Search webhooks (GET /v1/shops/{slug}/webhooks)
    def webhooks_search(self, *, page: int = 1, per_page: int = 30) -> list[Webhook]:
        """One page of the shop's webhooks (GoKarla never shows their secrets again)."""
        if not (page >= 1 and 1 <= per_page <= MAX_PER_PAGE):
            raise TypeError(f"page starts at 1; per_page is 1 to {MAX_PER_PAGE}")
        params = {"page": str(page), "per_page": str(per_page)}
        path = WEBHOOKS_PATH.format(slug=self._slug)
        body = self._get(path, params, _Deadline(self.deadline), not_found=ShopNotFound)
        return parse_webhooks(body)

    # Reference: Update webhook (PATCH /v1/shops/{slug}/webhooks/{uuid})
    def webhook_update(self, webhook_uuid: str, **fields: Any) -> Webhook:
        """Change any of ``WEBHOOK_UPDATE_FIELDS``; raises WebhookNotFound when it is gone."""
        unknown = set(fields) - set(WEBHOOK_UPDATE_FIELDS)
        if unknown or not fields:
            names = ", ".join(WEBHOOK_UPDATE_FIELDS)
            raise TypeError(f"webhook_update takes one or more of {names}")
        if "enabled_events" in fields:
            fields["enabled_events"] = list(fields["enabled_events"])
        path = self._webhook_path(webhook_uuid)
        return parse_webhook(self._write("PATCH", path, fields, not_found=WebhookNotFound))

    # Reference: Delete webhook (DELETE /v1/shops/{slug}/webhooks/{uuid})
    def webhook_delete(self, webhook_uuid: str) -> None:
        """Delete the webhook; raises WebhookNotFound when GoKarla has no such webhook."""
        self._write("DELETE", self._webhook_path(webhook_uuid), None, not_found=WebhookNotFound)

    def _webhook_path(self, webhook_uuid: str) -> str:
        if not (isinstance(webhook_uuid, str) and _UUID.fullmatch(webhook_uuid)):
            raise WebhookNotFound()  # GoKarla's ids are UUIDs: nothing else can be one
        return WEBHOOK_PATH.format(slug=self._slug, uuid=webhook_uuid.lower())

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
                status, headers, body = self._attempt("GET", url, params, deadline)
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

    def _write(
        self, method: str, path: str, body: dict[str, Any] | None, *, not_found: type[NotFound]
    ) -> Any:
        """Send a write and return its JSON (None for an empty answer, such as a 204).

        A write is never repeated once it may have reached GoKarla: only a connection that
        could not be opened at all (nothing was sent) is tried once more."""
        url = f"{self.endpoint.api_root}/{path}"
        deadline = _Deadline(self.deadline)
        backoffs = iter(RETRY_BACKOFF_SECONDS[:1])
        while True:
            try:
                status, headers, raw = self._attempt(method, url, {}, deadline, json_body=body)
            except _ConnectionFailed as failure:
                if failure.before_sending and _pause(next(backoffs, None), deadline):
                    continue
                raise Unavailable() from None
            if status == 429:
                raise RateLimited(status_code=429, retry_after=_retry_after(headers))
            if 200 <= status < 300 and not raw.strip():
                return None
            return _json_or_error(
                status, headers, raw, not_found=not_found, invalid=_WEBHOOK_REFUSED
            )

    def _attempt(
        self,
        method: str,
        url: str,
        params: dict[str, str],
        deadline: _Deadline,
        *,
        json_body: dict[str, Any] | None = None,
    ):
        """One request: (status, headers, body). Transport failures become errors."""
        remaining = deadline.remaining()
        if remaining <= 0:
            raise TimedOut()
        self.calls += 1
        started = time.monotonic()
        outcome = "failed"
        try:
            response = http_session().request(
                method,
                url,
                params=params,
                json=json_body,
                headers=self._headers,
                auth=(self.username, self._token),
                timeout=(min(self.connect_timeout, remaining), remaining),
                allow_redirects=False,
                stream=True,
            )
            outcome = str(response.status_code)
            with response:
                if 300 <= response.status_code < 400:
                    raise UnexpectedResponse(
                        gettext_lazy(
                            "GoKarla answered with a redirect, which Karla Sidebar does not follow."
                        ),
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
                raise _ConnectionFailed(before_sending=_not_connected(exc)) from None
            raise Unavailable() from None
        finally:
            # The method, path and parameter names only: values may be customer e-mail
            # addresses, and a write's body may hold a webhook secret.
            logger.info(
                "GoKarla %s %s params=%s -> %s in %d ms",
                method,
                url.removeprefix(self._origin),
                ",".join(sorted(params)) or "-",
                outcome,
                (time.monotonic() - started) * 1000,
            )


class _ConnectionFailed(Exception):
    """No answer because the connection failed: safe to retry a GET, and a write when the
    connection could not even be opened (``before_sending``)."""

    def __init__(self, *, before_sending: bool = False):
        super().__init__()
        self.before_sending = before_sending


def _not_connected(exc: requests.ConnectionError) -> bool:
    """Whether the connection failed before anything was sent (refused, no route, no name)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


_EMPTY_ORDER = gettext_lazy("Enter an order number, order name, e-mail address or order ID.")


def _clean_reference(reference: Any, *, empty: str) -> str:
    if not isinstance(reference, str) or not reference.strip():
        raise InvalidInput(empty)
    reference = reference.strip()
    if len(reference) > MAX_REFERENCE_LENGTH:
        raise InvalidInput(
            format_lazy(
                gettext_lazy(
                    "That reference is too long: GoKarla references have at most {limit} "
                    "characters."
                ),
                limit=MAX_REFERENCE_LENGTH,
            )
        )
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in reference):
        raise InvalidInput(
            gettext_lazy(
                "That reference contains control characters (such as a line break or a tab). "
                "Enter only the reference itself."
            )
        )
    return reference


def gokarla_language(tag: str) -> str:
    """The GoKarla language for a viewer's language tag (``de-DE`` → ``de``), or "" when
    GoKarla has none for it (its default, English, then applies)."""
    primary = (tag or "").split("-", 1)[0].split("_", 1)[0].strip().lower()
    return primary if primary in LANGUAGES else ""


def first_answering(
    endpoints: tuple[Endpoint, ...],
    *,
    username: str,
    token: str,
    language: str = "",
    deadline: float = DEADLINE_SECONDS,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
) -> tuple[Endpoint, Shop]:
    """Verify the credentials at each endpoint in turn; the first that answers as GoKarla wins.

    An address that is not GoKarla's API (no such route, a web page, a redirect, no
    connection) moves on to the next. Any answer of GoKarla's own, a refusal included, ends the
    search: the credentials, not the address, are then what the admin must fix. When none
    answers, the error names every address tried.
    """
    failures: list[GoKarlaError] = []
    for endpoint in endpoints:
        client = GoKarlaClient(
            endpoint,
            username=username,
            token=token,
            language=language,
            deadline=deadline,
            connect_timeout=connect_timeout,
        )
        try:
            return endpoint, client.verify()
        except (Unavailable, UnexpectedResponse) as error:
            failures.append(error)
    tried = " and ".join(endpoint.api_root for endpoint in endpoints)
    if all(isinstance(error, NotGoKarlaAPI | UnexpectedResponse) for error in failures):
        raise NotGoKarlaAPI(
            format_lazy(
                gettext_lazy(
                    "No GoKarla API answered at {tried}. Check the GoKarla URL: it is the address "
                    "from GoKarla's portal or documentation, such as https://your-shop.gokarla.io "
                    "or https://api.gokarla.io/v1."
                ),
                tried=tried,
            )
        )
    if len(failures) == 1:
        raise failures[0]
    raise Unavailable(
        format_lazy(
            gettext_lazy(
                "GoKarla could not be reached at {tried}. Check the GoKarla URL, or try again in "
                "a moment."
            ),
            tried=tried,
        )
    )


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
        gettext_lazy("GoKarla sent a response larger than Karla Sidebar accepts (2 MB)."),
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
_NO_ROUTE = NotGoKarlaAPI()
_INVALID_REFERENCE = gettext_lazy("GoKarla did not accept that reference. Check it and try again.")
_WEB_PAGE = gettext_lazy(
    "This address answered with a web page, not GoKarla's API (perhaps maintenance, a proxy or "
    "the wrong address). If it keeps happening, check the account's GoKarla URL."
)


def _json_or_error(
    status: int,
    headers,
    body: bytes,
    *,
    not_found: type[NotFound],
    invalid: str = _INVALID_REFERENCE,
) -> Any:
    """The JSON of a 2xx answer, or the error this answer means.

    GoKarla's own refusals carry its error body (``{"errors", "key", "message", "type"}``) or
    FastAPI's ``{"detail": …}``; an answer without JSON is not from GoKarla's API. A 404 is
    "not found" only with GoKarla's body: FastAPI's ``{"detail": "Not Found"}`` means the
    route does not exist (a wrong address), never that the record does not.
    """
    if status >= 500:
        raise Unavailable(status_code=status)
    data = _json(headers, body, status)
    if 200 <= status < 300:
        return data
    if data is _NOT_JSON or status == 405:
        raise NotGoKarlaAPI(_WEB_PAGE if data is _NOT_JSON else None, status_code=status)
    if status in _STATUS_ERRORS:
        raise _STATUS_ERRORS[status](status_code=status)
    if status == 404:
        key = _error_key(data)
        if not key:
            raise NotGoKarlaAPI(status_code=status)
        raise (ShopNotFound if key == "shop_not_found" else not_found)(status_code=status)
    if status == 422:
        raise InvalidInput(invalid, status_code=status)
    raise UnexpectedResponse(status_code=status)


_NOT_JSON = object()
_WEBHOOK_REFUSED = gettext_lazy(
    "GoKarla did not accept the webhook's settings. Check PUBLIC_BASE_URL: GoKarla must accept "
    "it as an address to deliver to."
)


def _json(headers, body: bytes, status: int) -> Any:
    """The body's JSON; ``_NOT_JSON`` when it is not JSON at all (a web page); broken JSON
    declared as JSON is GoKarla's API misbehaving: UnexpectedResponse."""
    content_type = (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        if 200 <= status < 300:
            raise NotGoKarlaAPI(_WEB_PAGE, status_code=status)
        return _NOT_JSON
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise UnexpectedResponse(
            gettext_lazy("GoKarla sent a response that is not valid JSON."), status_code=status
        ) from None


def _error_key(data: Any) -> str:
    """The ``key`` of GoKarla's error body (such as ``shop_not_found``), "" for anything else
    (FastAPI's ``{"detail": …}`` included)."""
    key = data.get("key") if isinstance(data, dict) else None
    return key if isinstance(key, str) and key else ""

"""Routing, credential checks and lookups: a request target and its Authorization in, a
``Response`` out. No sockets here, and no JSON encoding: answers are pre-built bytes.

Routes, each under ``/api/v1`` and ``/v1``:

- ``GET /shops/{slug}``: the shop (the client's credential check);
- ``GET /shops/{slug}/orders``: search by ``order_number``, ``order_name``, ``uuid``,
  ``external_id``, ``email_id`` or ``zip_code`` (several filters: all must match), paged by
  ``page`` (>= 1, default 1) and ``per_page`` (1..100, default 30); a bare JSON list, in order
  number order, empty when nothing matches;
- ``GET /shops/{slug}/shipments/{shipment_id}`` and
  ``GET /shops/{slug}/shipments?tracking_number=...``: one tracking object, or 404
  ``shipment_not_found``. The id of a draft shipment of that shop (for example order 1002's,
  ``5c76cf4e-f62f-47c2-bcd4-722953d5582a``) answers 200 with a tracking object whose
  ``carrier.tracking_number`` is null, ``state: "pending"``, pre-transit events only: "no
  tracking data yet" (see ``sandbox.data``).

An unknown route answers 404 before any credential check (as a router does); a known route
checks, in this order: missing or malformed Basic auth → 400; token ``karla-revoked-token`` →
401; username ``no-api-access`` → 403; an unknown username/token pair → 400; an unknown shop →
404 ``shop_not_found``; a key of another shop → 403. Then paging (422), then fault triggers
(see ``sandbox.faults``), then the lookup.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, unquote

from sandbox.catalog import ORDER_FILTERS, Catalog, ShopData
from sandbox.faults import Faults, Resource, huge_list, trigger_in
from sandbox.responses import (
    NOT_FOUND,
    SHIPMENT_NOT_FOUND,
    SHOP_NOT_FOUND,
    FieldError,
    Response,
    api_error,
    ok,
    validation_error,
)

PREFIXES = ("/api/v1/", "/v1/")
REVOKED_TOKEN = "karla-revoked-token"  # noqa: S105 - a documented demo value, not a secret
NO_ACCESS_USERNAME = "no-api-access"
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30

_AUTH_LOC = ("header", "Authorization")
_MISSING_AUTH = api_error(
    400,
    "invalid_credentials",
    "Missing or malformed credentials: use HTTP Basic auth with username and API key.",
    loc=_AUTH_LOC,
    field="Authorization",
)
_BAD_PAIR = api_error(
    400,
    "invalid_credentials",
    "Invalid credentials: unknown username or API key.",
    loc=_AUTH_LOC,
    field="Authorization",
)
_REVOKED = api_error(
    401, "api_key_revoked", "This API key has been revoked or has expired.", loc=_AUTH_LOC
)
_NO_ACCESS = api_error(
    403,
    "api_access_denied",
    "API access is not enabled for this key or plan.",
    loc=_AUTH_LOC,
)
_OTHER_SHOP = api_error(
    403,
    "shop_access_denied",
    "This API key does not belong to this shop.",
    loc=("path", "shop_slug"),
    field="shop_slug",
)


def parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    """``(username, token)`` from a Basic Authorization header, or None if absent or malformed."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, token = decoded.partition(":")
    return (username, token) if colon and username else None


def _parse_int(
    params: dict[str, str], name: str, default: int, maximum: int | None
) -> int | FieldError:
    """A paging parameter, or the ``FieldError`` FastAPI would report for it."""
    raw = params.get(name)
    if raw is None:
        return default
    text = raw.strip()
    digits = text[1:] if text.startswith(("+", "-")) else text
    if not (digits.isascii() and digits.isdecimal()):
        return FieldError(
            ("query", name),
            "Input should be a valid integer, unable to parse string as an integer",
            "int_parsing",
            raw,
        )
    value = int(text)
    if value < 1:
        return FieldError(
            ("query", name), "Input should be greater than or equal to 1", "greater_than_equal", raw
        )
    if maximum is not None and value > maximum:
        return FieldError(
            ("query", name),
            f"Input should be less than or equal to {maximum}",
            "less_than_equal",
            raw,
        )
    return value


class SandboxApi:
    """Answers GET requests from a built catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        first_order = next(iter(catalog.shops.values())).orders[0]
        self.faults = Faults(huge_list(first_order))

    def get(self, target: str, authorization: str | None) -> Response:
        path, _, query = target.partition("?")
        route = _split_route(path)
        if route is None:
            return NOT_FOUND
        slug, tail = route
        shop_or_error = self._authorize(slug, authorization)
        if isinstance(shop_or_error, Response):
            return shop_or_error
        shop = shop_or_error
        if not tail:
            return ok(shop.shop_body)
        params = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
        if tail == ["orders"]:
            return self._orders(shop, params)
        if tail == ["shipments"]:
            return self._shipment_by_tracking_number(shop, params)
        return self._shipment_by_id(shop, tail[1])

    def _authorize(self, slug: str, authorization: str | None) -> ShopData | Response:
        credentials = parse_basic_auth(authorization)
        if credentials is None:
            return _MISSING_AUTH
        username, token = credentials
        if token == REVOKED_TOKEN:
            return _REVOKED
        if username == NO_ACCESS_USERNAME:
            return _NO_ACCESS
        owner = self.catalog.credentials.get(credentials)
        if owner is None:
            return _BAD_PAIR
        shop = self.catalog.shops.get(slug)
        if shop is None:
            return SHOP_NOT_FOUND
        if owner != slug:
            return _OTHER_SHOP
        return shop

    def _orders(self, shop: ShopData, params: dict[str, str]) -> Response:
        page = _parse_int(params, "page", 1, None)
        per_page = _parse_int(params, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
        errors = [value for value in (page, per_page) if isinstance(value, FieldError)]
        if errors:
            return validation_error(errors)
        assert isinstance(page, int) and isinstance(per_page, int)
        filters = [(name, params[name]) for name in ORDER_FILTERS if name in params]
        trigger = trigger_in(value for _, value in filters)
        if trigger:
            return self.faults.answer(shop.spec.slug, trigger, Resource.ORDERS)
        positions = shop.search(filters)
        start = (page - 1) * per_page
        selected = positions[start : start + per_page]
        return ok(b"[" + b",".join(shop.orders[p] for p in selected) + b"]")

    def _shipment_by_tracking_number(self, shop: ShopData, params: dict[str, str]) -> Response:
        tracking_number = params.get("tracking_number")
        if tracking_number is None:
            missing = FieldError(("query", "tracking_number"), "Field required", "missing")
            return validation_error([missing])
        return self._shipment(
            shop, tracking_number, tracking_number, shop.shipments_by_tracking_number
        )

    def _shipment_by_id(self, shop: ShopData, shipment_id: str) -> Response:
        # Ids are UUIDs, whose case carries no meaning; tracking numbers match exactly.
        return self._shipment(shop, shipment_id, shipment_id.lower(), shop.shipments_by_id)

    def _shipment(
        self, shop: ShopData, reference: str, key: str, index: dict[str, bytes]
    ) -> Response:
        trigger = trigger_in((reference,))
        if trigger:
            return self.faults.answer(shop.spec.slug, trigger, Resource.SHIPMENTS)
        body = index.get(key)
        return ok(body) if body is not None else SHIPMENT_NOT_FOUND


def _split_route(path: str) -> tuple[str, list[str]] | None:
    """``(slug, rest)`` for a known route, or None. ``rest`` is [], [orders], [shipments] or
    [shipments, id]; a trailing slash is tolerated."""
    for prefix in PREFIXES:
        if path.startswith(prefix):
            parts = [unquote(part) for part in path[len(prefix) :].rstrip("/").split("/")]
            break
    else:
        return None
    if len(parts) < 2 or parts[0] != "shops" or not parts[1]:
        return None
    slug, tail = parts[1], parts[2:]
    known = (
        not tail
        or tail in (["orders"], ["shipments"])
        or (len(tail) == 2 and tail[0] == "shipments" and tail[1])
    )
    return (slug, tail) if known else None

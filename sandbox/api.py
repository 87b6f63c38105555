"""The sandbox's API: a ``Request`` in, a ``Response`` out; no sockets here.

A stand-in for the documented GoKarla API (gokarla-api.md) and nothing more. Routes are in
``sandbox.routes``; every one answers under ``/v1/`` and ``/api/v1/``:

- ``GET /shops/{slug}``: the shop;
- ``GET /shops/{slug}/orders``: filters ``order_number``, ``order_name``, ``uuid``,
  ``external_id``, ``email_id`` (case-insensitive), ``zip_code``, ``order_placed_from``,
  ``order_placed_to`` and ``shipment_updated_since`` (ISO 8601; the latter: orders with a
  tracking whose ``updated_at`` is at or after it), all of which must match; paged by ``page``
  (>= 1) and ``per_page`` (1..100, default 30); a JSON list in order number order, ``[]`` when
  nothing matches. Event strings follow ``Accept-Language`` (``de``, else English);
- webhooks: ``POST`` / ``GET /shops/{slug}/webhooks``, ``PATCH`` / ``DELETE
  /shops/{slug}/webhooks/{uuid}`` (``sandbox.webhooks``);
- ``POST /shops/{slug}/shipments/{shipment_id}/events`` ``{event_name, event_time?,
  external_id?}``: adds the event (``sandbox.shipments``; a draft's first carrier event makes
  it a tracking), answers 201 with the tracking and delivers the shop's webhooks
  (``sandbox.deliveries``). The auto-advance (``advance_one``) takes the same path.

There is no shipment GET of any kind. Order of checks: an unknown route answers 404
``{"detail": "Not Found"}`` and a known one with another method 405 (with ``Allow``), both
before any credential check (as a router does). Then credentials: missing or malformed Basic
auth → 400; token ``karla-revoked-token`` → 401; username ``no-api-access`` → 403; an unknown
username/token pair → 400; an unknown shop → 404 ``shop_not_found``; a key of another shop →
403 ``shop_access_denied``; a viewer key (``demo-shop-viewer`` / ``karla-viewer-token``) on a
write → 403 ``insufficient_permissions``. Then validation (422, FastAPI's shape), then fault
triggers (``sandbox.faults``), then the work. With ``envelope=True`` every 2xx JSON body is
wrapped as ``{"data": …, "metadata": {…}}`` (lists: ``page``, ``per_page``, ``count``: the
number of items in ``data``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from sandbox.catalog import EXACT_FILTERS, Catalog, Query, ShopData, localized_tracking
from sandbox.data import ApiKey
from sandbox.deliveries import Deliverer, payload
from sandbox.events import EVENT_KEYS, webhook_event_ref
from sandbox.faults import Faults, huge_list, trigger_in
from sandbox.responses import (
    INSUFFICIENT_PERMISSIONS,
    NO_CONTENT,
    NOT_FOUND,
    SHIPMENT_NOT_FOUND,
    SHOP_NOT_FOUND,
    WEBHOOK_NOT_FOUND,
    Response,
    api_error,
    method_not_allowed,
    ok,
    validation_error,
)
from sandbox.routes import Request, Route, basic_credentials, language, match, slash_redirect
from sandbox.shapes import to_json
from sandbox.shipments import Change
from sandbox.validation import (
    FieldError,
    datetime_value,
    enum_value,
    int_param,
    json_body,
    missing,
    string_field,
    uuid_value,
)
from sandbox.webhooks import STATUSES, WebhookRegistry, creation_fields, update_fields

REVOKED_TOKEN = "karla-revoked-token"  # noqa: S105 - a documented demo value, not a secret
NO_ACCESS_USERNAME = "no-api-access"
WRITE_ROLES = frozenset({"admin", "editor"})
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30
DATE_FILTERS = ("order_placed_from", "order_placed_to", "shipment_updated_since")

_AUTH = ("header", "Authorization")
_MISSING_AUTH = api_error(
    400,
    "invalid_credentials",
    "Missing or malformed credentials: use HTTP Basic auth with username and API key.",
    loc=_AUTH,
    field="Authorization",
)
_BAD_PAIR = api_error(
    400,
    "invalid_credentials",
    "Invalid credentials: unknown username or API key.",
    loc=_AUTH,
    field="Authorization",
)
_REVOKED = api_error(
    401, "api_key_revoked", "This API key has been revoked or has expired.", loc=_AUTH
)
_NO_ACCESS = api_error(
    403, "api_access_denied", "API access is not enabled for this key or plan.", loc=_AUTH
)
_OTHER_SHOP = api_error(
    403,
    "shop_access_denied",
    "This API key does not belong to this shop.",
    loc=("path", "slug"),
    field="slug",
)


class SandboxApi:
    """Answers requests from a catalog; holds the webhooks, their deliveries, the faults."""

    def __init__(self, catalog: Catalog, *, envelope: bool = False) -> None:
        self.catalog = catalog
        self.envelope = envelope
        self.webhooks = WebhookRegistry()
        self.deliverer = Deliverer()
        self.faults = Faults(huge_list(next(iter(catalog.shops.values())).orders[0]))
        self._advances = 0
        self._advance_lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        path, _, query = request.target.partition("?")
        route = match(path)
        if route is None:
            return self._redirect(request, path, query)
        if request.method not in route.methods:
            return method_not_allowed(route.methods)
        access = self._authorize(route.slug, request.authorization)
        if isinstance(access, Response):
            return access
        shop, key = access
        if request.method != "GET" and key.role not in WRITE_ROLES:
            return INSUFFICIENT_PERMISSIONS
        params = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
        if route.name == "shop":
            return self._object(shop.shop_body)
        if route.name == "orders":
            return self._orders(shop, params, request)
        if route.name == "events":
            return self._post_event(shop, route, request)
        return self._webhooks(shop, route, params, request)

    # --- shipments ------------------------------------------------------------------------

    def add_shipment_event(
        self, slug: str, shipment_id: str, key: str, when: datetime | None = None
    ) -> Change | None:
        """Add an event to a shipment and deliver the shop's matching webhooks; None when
        the shop has no such shipment."""
        now = datetime.now(UTC)
        change = self.catalog.add_event(slug, shipment_id, key, when or now, now)
        if change is not None:
            ref = webhook_event_ref(key)
            for hook in self.webhooks.targets(slug, ref):
                self.deliverer.send(hook, payload(slug, key, change.order, change.shipment))
        return change

    def advance_one(self, slug: str = "demo-shop") -> Change | None:
        """Move one unfinished shipment of the shop one plausible step along (round robin)."""
        with self._advance_lock:
            steps = self.catalog.next_steps(slug)
            if not steps:
                return None
            shipment_id, key = steps[self._advances % len(steps)]
            self._advances += 1
        return self.add_shipment_event(slug, shipment_id, key)

    # --- answers --------------------------------------------------------------------------

    def _authorize(
        self, slug: str, authorization: str | None
    ) -> tuple[ShopData, ApiKey] | Response:
        credentials = basic_credentials(authorization)
        if credentials is None:
            return _MISSING_AUTH
        username, token = credentials
        if token == REVOKED_TOKEN:
            return _REVOKED
        if username == NO_ACCESS_USERNAME:
            return _NO_ACCESS
        key = self.catalog.credentials.get(credentials)
        if key is None:
            return _BAD_PAIR
        shop = self.catalog.shops.get(slug)
        if shop is None:
            return SHOP_NOT_FOUND
        if key.shop != slug:
            return _OTHER_SHOP
        return shop, key

    def _orders(self, shop: ShopData, params: dict[str, str], request: Request) -> Response:
        paging = _paging(params)
        exact = [(name, params[name]) for name in EXACT_FILTERS if name in params]
        errors = [value for value in paging if isinstance(value, FieldError)]
        if "uuid" in params:
            checked = uuid_value(params["uuid"], ("query", "uuid"))
            errors += [checked] if isinstance(checked, FieldError) else []
        dates = {
            name: datetime_value(params[name], ("query", name))
            for name in DATE_FILTERS
            if name in params
        }
        errors += [value for value in dates.values() if isinstance(value, FieldError)]
        if errors:
            return validation_error(errors)
        page, per_page = paging
        trigger = trigger_in(value for _, value in exact)
        if trigger:
            return self.faults.answer(shop.spec.slug, trigger, self._list([], page, per_page))
        query = Query(
            exact,
            dates.get("order_placed_from"),
            dates.get("order_placed_to"),
            dates.get("shipment_updated_since"),
        )
        positions = shop.search(query)[(page - 1) * per_page : page * per_page]
        bodies = shop.encoded[language(request.accept_language)]
        return self._list([bodies[p] for p in positions], page, per_page)

    def _post_event(self, shop: ShopData, route: Route, request: Request) -> Response:
        data = json_body(request.body)
        if isinstance(data, FieldError):
            return validation_error([data])
        name = data.get("event_name")
        checks = [
            missing(("body", "event_name"), data)
            if name is None
            else enum_value(name, EVENT_KEYS, ("body", "event_name")),
            _event_time(data),
            string_field(data, "external_id"),
        ]
        errors = [check for check in checks if isinstance(check, FieldError)]
        if errors:
            return validation_error(errors)
        shipment_id = route.ident or ""
        trigger = trigger_in((shipment_id,))
        if trigger:
            return self.faults.answer(shop.spec.slug, trigger, SHIPMENT_NOT_FOUND)
        when = checks[1] if isinstance(checks[1], datetime) else None
        change = self.add_shipment_event(shop.spec.slug, shipment_id, name, when)
        if change is None:
            return SHIPMENT_NOT_FOUND
        tracking = localized_tracking(change.shipment, language(request.accept_language))
        return self._object(to_json(tracking), 201)

    def _webhooks(
        self, shop: ShopData, route: Route, params: dict[str, str], request: Request
    ) -> Response:
        slug = shop.spec.slug
        if request.method == "GET":
            return self._search_webhooks(slug, params)
        if request.method == "DELETE":
            deleted = self.webhooks.delete(slug, route.ident or "")
            return NO_CONTENT if deleted else WEBHOOK_NOT_FOUND
        data = json_body(request.body)
        if isinstance(data, FieldError):
            return validation_error([data])
        fields = creation_fields(data) if request.method == "POST" else update_fields(data)
        if isinstance(fields, list):
            return validation_error(fields)
        if request.method == "POST":
            hook, created = self.webhooks.create(slug, fields)
            return self._object(to_json(hook.dto(with_secret=True)), 201 if created else 200)
        updated = self.webhooks.update(slug, route.ident or "", fields)
        return self._object(to_json(updated.dto())) if updated else WEBHOOK_NOT_FOUND

    def _search_webhooks(self, slug: str, params: dict[str, str]) -> Response:
        paging = _paging(params)
        errors = [value for value in paging if isinstance(value, FieldError)]
        status = params.get("status")
        if status is not None:
            checked = enum_value(status, STATUSES, ("query", "status"))
            errors += [checked] if isinstance(checked, FieldError) else []
        if errors:
            return validation_error(errors)
        page, per_page = paging
        hooks = self.webhooks.search(
            slug, hook_uuid=params.get("uuid"), status=status, url=params.get("url")
        )
        selected = hooks[(page - 1) * per_page : page * per_page]
        return self._list([to_json(hook.dto()) for hook in selected], page, per_page)

    def _redirect(self, request: Request, path: str, query: str) -> Response:
        target = slash_redirect(path)
        if target is None:
            return NOT_FOUND
        location = f"http://{request.host}{target}" if request.host else target
        location += f"?{query}" if query else ""
        return Response(307, b"", content_type=None, headers=(("Location", location),))

    def _list(self, items: Sequence[bytes], page: int, per_page: int) -> Response:
        body = b"[" + b",".join(items) + b"]"
        if self.envelope:
            metadata = to_json({"page": page, "per_page": per_page, "count": len(items)})
            body = b'{"data":' + body + b',"metadata":' + metadata + b"}"
        return ok(body)

    def _object(self, body: bytes, status: int = 200) -> Response:
        if self.envelope:
            body = b'{"data":' + body + b',"metadata":{}}'
        return ok(body, status)


def _paging(params: dict[str, str]) -> tuple[int | FieldError, int | FieldError]:
    return (
        int_param(params, "page", 1),
        int_param(params, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE),
    )


def _event_time(data: dict) -> datetime | FieldError | None:
    value = data.get("event_time")
    if value is None:
        return None
    if not isinstance(value, str):
        return FieldError(
            ("body", "event_time"), "Input should be a valid datetime", "datetime_type", value
        )
    return datetime_value(value, ("body", "event_time"))

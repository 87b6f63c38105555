"""The sandbox's routes, exactly gokarla-api.md's operation table, each under ``/v1/`` and
``/api/v1/``, and how a request's path, credentials and language are read.

=========================================================  ====================
``/shops/{slug}``                                          GET
``/shops/{slug}/orders``                                   GET
``/shops/{slug}/webhooks``                                 GET, POST
``/shops/{slug}/webhooks/{uuid}``                          PATCH, DELETE
``/shops/{slug}/shipments/{shipment_id}/events``           POST
=========================================================  ====================

Paths are matched after percent-decoding, as Starlette does; a known path with a trailing
slash is redirected (307) to the path without it, as FastAPI does.
"""

from __future__ import annotations

import base64
import binascii
import functools
from dataclasses import dataclass
from urllib.parse import unquote

from sandbox.events import DEFAULT_LANGUAGE, LANGUAGES

PREFIXES = ("/api/v1/", "/v1/")


@dataclass(frozen=True, slots=True)
class Request:
    """What the API needs of an HTTP request."""

    method: str
    target: str  # path and query, as on the request line
    authorization: str | None = None
    accept_language: str | None = None
    body: bytes | None = None
    host: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    name: str  # shop, orders, webhooks, webhook or events
    slug: str
    ident: str | None  # the webhook uuid or the shipment id
    methods: tuple[str, ...]


def match(path: str) -> Route | None:
    """The route ``path`` names, or None (404 ``{"detail": "Not Found"}``)."""
    decoded = unquote(path)
    prefix = next((prefix for prefix in PREFIXES if decoded.startswith(prefix)), None)
    if prefix is None:
        return None
    parts = decoded[len(prefix) :].split("/")
    if len(parts) < 2 or parts[0] != "shops" or not all(parts):
        return None
    slug, rest = parts[1], parts[2:]
    if not rest:
        return Route("shop", slug, None, ("GET",))
    if rest == ["orders"]:
        return Route("orders", slug, None, ("GET",))
    if rest == ["webhooks"]:
        return Route("webhooks", slug, None, ("GET", "POST"))
    if len(rest) == 2 and rest[0] == "webhooks":
        return Route("webhook", slug, rest[1], ("PATCH", "DELETE"))
    if len(rest) == 3 and rest[0] == "shipments" and rest[2] == "events":
        return Route("events", slug, rest[1], ("POST",))
    return None


def slash_redirect(path: str) -> str | None:
    """The path without its trailing slash when that is a route (FastAPI redirects)."""
    if len(path) > 1 and path.endswith("/") and match(path.rstrip("/")) is not None:
        return path.rstrip("/")
    return None


@functools.lru_cache(maxsize=128)
def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``(username, token)`` from a Basic Authorization header, or None if absent or
    malformed."""
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


@functools.lru_cache(maxsize=128)
def language(header: str | None) -> str:
    """The best of the sandbox's languages (``en``, ``de``) by ``Accept-Language``, else
    English."""
    best, best_weight = DEFAULT_LANGUAGE, 0.0
    for part in (header or "").split(","):
        tag, _, parameters = part.partition(";")
        primary = tag.strip().lower().partition("-")[0]
        weight = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip() == "q":
            try:
                weight = float(value)
            except ValueError:
                weight = 0.0
        if primary in LANGUAGES and weight > best_weight:
            best, best_weight = primary, weight
    return best

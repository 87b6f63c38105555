"""Fault triggers: references that make the sandbox misbehave the way real servers do.

A trigger answers the fault instead of a lookup, in every shop, once the credential, shop and
validation checks have passed. It is reached as the value of an order search's string
filter (``order_number``, ``order_name``, ``external_id``, ``email_id``, ``zip_code``; a
``uuid`` filter must be a valid UUID, so it never carries one) or as the shipment id of a
shipment-events POST (with a valid body):

===============  ==================================================================
``err-500``      500 with a GoKarla error body (``internal_server_error``)
``err-503``      503 with a GoKarla error body (``service_unavailable``), always
``err-flaky``    alternates, per server and per (shop, trigger): the 1st, 3rd, 5th...
                 call answers 503, the 2nd, 4th... answers normally. "Normally" means
                 what a miss answers: ``[]`` for an order search, 404
                 ``shipment_not_found`` for an event. ``SandboxServer.reset_faults()``
                 starts the alternation over.
``err-timeout``  holds the answer for 30 s (a client should give up first), then the
                 miss answer
``err-429``      429 with ``Retry-After: 2``, always
``err-malformed`` 200 ``application/json`` whose body is truncated JSON
``err-html``     200 ``text/html``: a maintenance page, as a misconfigured proxy serves
``err-redirect`` 302 to ``http://169.254.169.254/`` (the cloud metadata address: a client
                 that follows redirects would leak its credentials there)
``err-huge``     200 ``application/json``: a valid JSON list of order copies, a little
                 over 5 MiB, built once
===============  ==================================================================

Triggers compare case-insensitively, ignoring surrounding spaces, like an agent types them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace

from sandbox.responses import Response, api_error, ok

TIMEOUT_SECONDS = 30.0
HUGE_BODY_BYTES = 5 * 1024 * 1024
METADATA_URL = "http://169.254.169.254/"


TRIGGERS = frozenset(
    {
        "err-500",
        "err-503",
        "err-flaky",
        "err-timeout",
        "err-429",
        "err-malformed",
        "err-html",
        "err-redirect",
        "err-huge",
    }
)

_SERVER_ERROR = api_error(
    500, "internal_server_error", "Internal server error. The incident has been logged."
)
_UNAVAILABLE = api_error(
    503, "service_unavailable", "The service is temporarily unavailable. Please retry."
)
_RATE_LIMITED = api_error(
    429,
    "rate_limit_exceeded",
    "Too many requests. Retry after 2 seconds.",
    headers=(("Retry-After", "2"),),
)
_MALFORMED = ok(b'[{"uuid": "6c3e1a52-0b7e-4c1d-9a57-2f4b8e0d9c13", "order_number": "10')
_HTML = Response(
    200,
    b'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
    b"<title>Scheduled maintenance</title></head>\n<body><h1>We'll be back soon</h1>"
    b"<p>GoKarla is undergoing scheduled maintenance.</p></body></html>\n",
    content_type="text/html; charset=utf-8",
)
_REDIRECT = Response(
    302,
    b"Redirecting to " + METADATA_URL.encode(),
    content_type="text/plain; charset=utf-8",
    headers=(("Location", METADATA_URL),),
)

# The triggers whose answer never varies.
_FIXED: dict[str, Response] = {
    "err-500": _SERVER_ERROR,
    "err-503": _UNAVAILABLE,
    "err-429": _RATE_LIMITED,
    "err-malformed": _MALFORMED,
    "err-html": _HTML,
    "err-redirect": _REDIRECT,
}


def trigger_in(values: Iterable[str]) -> str | None:
    """The first trigger among ``values``, normalized, or None (the common, cheap case)."""
    for value in values:
        # Cheap pre-check: almost every lookup is not a trigger.
        if "err-" in value.lower():
            candidate = value.strip().lower()
            if candidate in TRIGGERS:
                return candidate
    return None


def huge_list(element: bytes, size: int = HUGE_BODY_BYTES) -> bytes:
    """A valid JSON list of ``element`` repeated until the body is just over ``size`` bytes."""
    copies = size // (len(element) + 1) + 1
    return b"[" + b",".join([element] * copies) + b"]"


class Faults:
    """The fault answers of one server; holds the err-flaky counters."""

    def __init__(self, huge_body: bytes) -> None:
        self._huge = ok(huge_body)
        self._flaky_calls: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def answer(self, shop: str, trigger: str, miss: Response) -> Response:
        """The fault of ``trigger``; ``miss`` is what the request answers when nothing
        matches (the "normal" answer of err-flaky and err-timeout)."""
        fixed = _FIXED.get(trigger)
        if fixed is not None:
            return fixed
        if trigger == "err-huge":
            return self._huge
        if trigger == "err-timeout":
            return replace(miss, delay=TIMEOUT_SECONDS)
        return _UNAVAILABLE if self._flaky_call_is_odd(shop, trigger) else miss

    def reset(self) -> None:
        with self._lock:
            self._flaky_calls.clear()

    def _flaky_call_is_odd(self, shop: str, trigger: str) -> bool:
        with self._lock:
            calls = self._flaky_calls.get((shop, trigger), 0) + 1
            self._flaky_calls[(shop, trigger)] = calls
        return calls % 2 == 1

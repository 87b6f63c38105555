"""What the sandbox answers, as plain values: status, body bytes, headers.

The HTTP layer (``sandbox.server``) only writes these out, so the routing and the fault
triggers can be read (and tested) without sockets. Error bodies copy GoKarla's shape:
``{"errors": [{loc, msg, field, type}], "key", "message", "type"}``; paging and missing query
parameters answer FastAPI's ``{"detail": [{loc, msg, type, input}]}`` with 422, as GoKarla does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sandbox.catalog import to_json

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()
    # Seconds to hold the answer back (the err-timeout trigger); ended early by shutdown.
    delay: float = 0.0


def ok(body: bytes) -> Response:
    return Response(200, body)


def api_error(
    status: int,
    key: str,
    message: str,
    *,
    loc: Sequence[str | int] = (),
    field: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Response:
    """A GoKarla error: ``invalid_request_error`` for the caller's mistakes, else ``api_error``."""
    body = {
        "errors": [{"loc": list(loc), "msg": message, "field": field, "type": key}],
        "key": key,
        "message": message,
        "type": "invalid_request_error" if status < 500 else "api_error",
    }
    return Response(status, to_json(body), headers=headers)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One entry of a 422 ``detail`` list."""

    loc: tuple[str, str]
    msg: str
    type: str
    input: Any = None


def validation_error(errors: Sequence[FieldError]) -> Response:
    detail = [
        {"loc": list(error.loc), "msg": error.msg, "type": error.type, "input": error.input}
        for error in errors
    ]
    return Response(422, to_json({"detail": detail}))


EMPTY_LIST = ok(b"[]")
NOT_FOUND = api_error(404, "not_found", "Not found: no such API route.", loc=("path",))
METHOD_NOT_ALLOWED = api_error(
    405,
    "method_not_allowed",
    "Method not allowed: the GoKarla API serves GET on these routes.",
    headers=(("Allow", "GET"),),
)
SHOP_NOT_FOUND = api_error(
    404, "shop_not_found", "Shop not found.", loc=("path", "shop_slug"), field="shop_slug"
)
SHIPMENT_NOT_FOUND = api_error(
    404, "shipment_not_found", "Shipment not found.", loc=("path", "shipment_id")
)

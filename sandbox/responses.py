"""What the sandbox answers, as plain values: status, body bytes, headers.

The HTTP layer (``sandbox.server``) only writes these out, so routing, validation and the
fault triggers can be read (and tested) without sockets. Two error shapes, as GoKarla has:

- GoKarla's own (ErrorDTO), for "no such object", credentials, permissions and faults:
  ``{"errors": [{loc, msg, field, type}], "key", "message", "type"}``, ``type`` being
  ``invalid_request_error`` for the caller's mistakes and ``api_error`` for the server's;
- FastAPI's, from the framework underneath: ``{"detail": "Not Found"}`` (404, no such route),
  ``{"detail": "Method Not Allowed"}`` (405, with ``Allow``) and ``{"detail": [{loc, msg,
  type, input}]}`` (422, invalid query or body).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sandbox.shapes import to_json
from sandbox.validation import FieldError

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    content_type: str | None = JSON  # None: no Content-Type (a 204)
    headers: tuple[tuple[str, str], ...] = ()
    # Seconds to hold the answer back (the err-timeout trigger); ended early by shutdown.
    delay: float = 0.0


def ok(body: bytes, status: int = 200) -> Response:
    return Response(status, body)


NO_CONTENT = Response(204, b"", content_type=None)


def api_error(
    status: int,
    key: str,
    message: str,
    *,
    loc: Sequence[str | int] = (),
    field: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Response:
    """A GoKarla error (ErrorDTO)."""
    body = {
        "errors": [{"loc": list(loc), "msg": message, "field": field, "type": key}],
        "key": key,
        "message": message,
        "type": "invalid_request_error" if status < 500 else "api_error",
    }
    return Response(status, to_json(body), headers=headers)


def validation_error(errors: Sequence[FieldError]) -> Response:
    detail = [
        {"loc": list(error.loc), "msg": error.msg, "type": error.type, "input": error.input}
        for error in errors
    ]
    return Response(422, to_json({"detail": detail}))


def method_not_allowed(methods: Sequence[str]) -> Response:
    return Response(
        405, b'{"detail":"Method Not Allowed"}', headers=(("Allow", ", ".join(methods)),)
    )


NOT_FOUND = Response(404, b'{"detail":"Not Found"}')
SHOP_NOT_FOUND = api_error(
    404, "shop_not_found", "Shop not found.", loc=("path", "slug"), field="slug"
)
SHIPMENT_NOT_FOUND = api_error(
    404,
    "shipment_not_found",
    "Shipment not found.",
    loc=("path", "shipment_id"),
    field="shipment_id",
)
WEBHOOK_NOT_FOUND = api_error(
    404, "webhook_not_found", "Webhook not found.", loc=("path", "uuid"), field="uuid"
)
INSUFFICIENT_PERMISSIONS = api_error(
    403,
    "insufficient_permissions",
    "This API key's role may not do this: it needs the admin or editor role.",
    loc=("header", "Authorization"),
)

"""Request validation as GoKarla's FastAPI does it: each function returns the parsed value or
the ``FieldError`` pydantic would report (``{loc, msg, type, input}``), so a handler can
collect every error of a request into one 422 answer.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class FieldError:
    """One entry of a 422 ``detail`` list."""

    loc: tuple[str | int, ...]
    msg: str
    type: str
    input: Any = None


def missing(loc: tuple[str | int, ...], given: Any = None) -> FieldError:
    return FieldError(loc, "Field required", "missing", given)


def int_param(
    params: dict[str, str], name: str, default: int, maximum: int | None = None
) -> int | FieldError:
    """A paging parameter: an integer >= 1 (and <= ``maximum``)."""
    raw = params.get(name)
    if raw is None:
        return default
    text = raw.strip()
    digits = text[1:] if text.startswith(("+", "-")) else text
    loc = ("query", name)
    if not (digits.isascii() and digits.isdecimal()):
        message = "Input should be a valid integer, unable to parse string as an integer"
        return FieldError(loc, message, "int_parsing", raw)
    value = int(text)
    if value < 1:
        return FieldError(
            loc, "Input should be greater than or equal to 1", "greater_than_equal", raw
        )
    if maximum is not None and value > maximum:
        message = f"Input should be less than or equal to {maximum}"
        return FieldError(loc, message, "less_than_equal", raw)
    return value


_UUID_CHARS = re.compile(r"[^0-9a-fA-F-]")
_GROUPS = (8, 4, 4, 4, 12)


def _uuid_problem(text: str) -> str | None:
    """What pydantic (the ``uuid`` crate) says is wrong with ``text``, or None."""
    bad = _UUID_CHARS.search(text)
    if bad:
        return (
            "invalid character: expected an optional prefix of `urn:uuid:` followed by "
            f"[0-9a-fA-F-], found `{bad.group()}` at {bad.start() + 1}"
        )
    if "-" not in text:
        if len(text) != 32:
            return f"invalid length: expected length 32 for simple format, found {len(text)}"
        return None
    groups = text.split("-")
    if len(groups) != len(_GROUPS):
        return f"invalid group count: expected 5, found {len(groups)}"
    for number, (group, size) in enumerate(zip(groups, _GROUPS, strict=True), 1):
        if len(group) != size:
            return f"invalid group length in group {number}: expected {size}, found {len(group)}"
    return None


def uuid_value(raw: str, loc: tuple[str | int, ...]) -> str | FieldError:
    """A UUID in its canonical lower-case form, or pydantic's ``uuid_parsing`` error."""
    text = raw.removeprefix("urn:uuid:")
    problem = _uuid_problem(text)
    if problem:
        return FieldError(loc, f"Input should be a valid UUID, {problem}", "uuid_parsing", raw)
    return str(uuid.UUID(hex=text.replace("-", "")))


def datetime_value(raw: str, loc: tuple[str | int, ...]) -> datetime | FieldError:
    """An ISO 8601 date-time or date (UTC when it names no offset), or pydantic's error."""
    text = raw.strip()
    if text[-1:] in ("z", "Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text) if len(text) >= 10 else None
    except ValueError:
        moment = None
    if moment is None:
        reason = "input is too short" if len(text) < 10 else "invalid datetime or date format"
        message = f"Input should be a valid datetime or date, {reason}"
        return FieldError(loc, message, "datetime_from_date_parsing", raw)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def enum_value(raw: Any, choices: tuple[str, ...], loc: tuple[str | int, ...]) -> str | FieldError:
    if isinstance(raw, str) and raw in choices:
        return raw
    quoted = [f"'{choice}'" for choice in choices]
    expected = ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else quoted[0]
    return FieldError(loc, f"Input should be {expected}", "enum", raw)


def json_body(body: bytes | None) -> dict[str, Any] | FieldError:
    """The request body as a JSON object, or the error FastAPI answers for it."""
    if not body:
        return missing(("body",))
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        position = error.pos if isinstance(error, json.JSONDecodeError) else 0
        return FieldError(("body", position), "JSON decode error", "json_invalid", {})
    if not isinstance(data, dict):
        message = "Input should be a valid dictionary or object to extract fields from"
        return FieldError(("body",), message, "model_attributes_type", data)
    return data


def string_field(data: dict[str, Any], name: str) -> str | FieldError | None:
    """An optional string field (absent or null: None)."""
    value = data.get(name)
    if value is None or isinstance(value, str):
        return value
    return FieldError(("body", name), "Input should be a valid string", "string_type", value)


def string_list_field(data: dict[str, Any], name: str) -> list[str] | FieldError | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, list):
        return FieldError(("body", name), "Input should be a valid list", "list_type", value)
    for index, item in enumerate(value):
        if not isinstance(item, str):
            return FieldError(
                ("body", name, index), "Input should be a valid string", "string_type", item
            )
    return value


def url_field(data: dict[str, Any], name: str) -> str | FieldError:
    """A required http(s) URL, as pydantic's ``HttpUrl`` checks it."""
    value = data.get(name)
    loc = ("body", name)
    if value is None:
        return missing(loc, data)
    if not isinstance(value, str):
        return FieldError(loc, "URL input should be a string or URL", "url_type", value)
    if not value:
        return FieldError(loc, "Input should be a valid URL, input is empty", "url_parsing", value)
    parts = urlsplit(value)
    if not parts.scheme:
        message = "Input should be a valid URL, relative URL without a base"
        return FieldError(loc, message, "url_parsing", value)
    if parts.scheme.lower() not in ("http", "https"):
        return FieldError(loc, "URL scheme should be 'http' or 'https'", "url_scheme", value)
    if not parts.hostname:
        return FieldError(loc, "Input should be a valid URL, empty host", "url_parsing", value)
    return value

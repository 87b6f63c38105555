"""The webhooks shops register (``/shops/{slug}/webhooks``), kept in memory per server.

A webhook (WebhookDTO) is ``{uuid, enabled_events, secret, description, status, url,
created_at, updated_at, merchant_slug}``; ``secret`` is shown only in the answer to its
creation. Creating one with the URL of an existing webhook of the shop updates that one
(enabled events, description, status, and the secret when the request names one) and answers
200 instead of 201. ``enabled_events`` ``[]`` or ``["*"]`` means every event; otherwise an
entry matches an event ref (``shipments/{phase}/{EVENT_NAME}``) equal to it or starting with
it followed by ``/`` (``shipments``, ``shipments/in_delivery``).
"""

from __future__ import annotations

import secrets
import threading
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sandbox.shapes import JsonDict, iso
from sandbox.validation import (
    FieldError,
    enum_value,
    string_field,
    string_list_field,
    url_field,
)

STATUSES = ("active", "inactive")


@dataclass(frozen=True, slots=True)
class Webhook:
    uuid: str
    merchant_slug: str
    url: str
    enabled_events: tuple[str, ...]
    secret: str
    description: str | None
    status: str
    created_at: datetime
    updated_at: datetime

    def dto(self, *, with_secret: bool = False) -> JsonDict:
        body: JsonDict = {
            "uuid": self.uuid,
            "enabled_events": list(self.enabled_events),
            "description": self.description,
            "status": self.status,
            "url": self.url,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "merchant_slug": self.merchant_slug,
        }
        if with_secret:
            body["secret"] = self.secret
        return body

    def wants(self, ref: str) -> bool:
        """Whether an event with this ref is delivered to this webhook."""
        if self.status != "active":
            return False
        if not self.enabled_events or "*" in self.enabled_events:
            return True
        return any(ref == entry or ref.startswith(entry + "/") for entry in self.enabled_events)


def _fields(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any] | list[FieldError]:
    """The valid values of ``names`` present in ``data``, or every error among them."""
    checks = {
        "url": lambda: url_field(data, "url"),
        "enabled_events": lambda: string_list_field(data, "enabled_events"),
        "secret": lambda: string_field(data, "secret"),
        "description": lambda: string_field(data, "description"),
        "status": lambda: enum_value(data["status"], STATUSES, ("body", "status")),
    }
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name in names:
        if name not in data and name != "url":
            continue
        value = checks[name]()
        if isinstance(value, FieldError):
            errors.append(value)
        elif value is not None or name == "description":  # a null description clears it
            values[name] = value
    return errors or values


def creation_fields(data: dict[str, Any]) -> dict[str, Any] | list[FieldError]:
    """A WebhookCreationDTO: ``url`` required, the rest optional."""
    return _fields(data, ("url", "enabled_events", "secret", "description", "status"))


def update_fields(data: dict[str, Any]) -> dict[str, Any] | list[FieldError]:
    """A WebhookUpdateDTO: any of ``enabled_events``, ``description``, ``status``, ``url``."""
    names = tuple(
        name for name in ("url", "enabled_events", "description", "status") if name in data
    )
    return _fields(data, names)


class WebhookRegistry:
    """Every shop's webhooks, in creation order; thread-safe."""

    def __init__(self) -> None:
        self._hooks: dict[str, dict[str, Webhook]] = {}
        self._lock = threading.Lock()

    def create(self, slug: str, fields: dict[str, Any]) -> tuple[Webhook, bool]:
        """The created webhook and True, or the updated one with the same URL and False."""
        now = datetime.now(UTC)
        with self._lock:
            hooks = self._hooks.setdefault(slug, {})
            existing = next((hook for hook in hooks.values() if hook.url == fields["url"]), None)
            if existing is not None:
                changes = {name: fields[name] for name in fields if name != "url"}
                updated = _changed(existing, changes, now)
                hooks[existing.uuid] = updated
                return updated, False
            hook = Webhook(
                uuid=str(uuid.uuid4()),
                merchant_slug=slug,
                url=fields["url"],
                enabled_events=tuple(fields.get("enabled_events", ())),
                secret=fields.get("secret") or "whsec_" + secrets.token_urlsafe(24),
                description=fields.get("description"),
                status=fields.get("status", "active"),
                created_at=now,
                updated_at=now,
            )
            hooks[hook.uuid] = hook
            return hook, True

    def update(self, slug: str, hook_uuid: str, fields: dict[str, Any]) -> Webhook | None:
        with self._lock:
            hooks = self._hooks.get(slug, {})
            existing = hooks.get(hook_uuid.lower())
            if existing is None:
                return None
            hooks[existing.uuid] = _changed(existing, fields, datetime.now(UTC))
            return hooks[existing.uuid]

    def delete(self, slug: str, hook_uuid: str) -> bool:
        with self._lock:
            return self._hooks.get(slug, {}).pop(hook_uuid.lower(), None) is not None

    def search(
        self, slug: str, *, hook_uuid: str | None, status: str | None, url: str | None
    ) -> list[Webhook]:
        with self._lock:
            hooks = list(self._hooks.get(slug, {}).values())
        return [
            hook
            for hook in hooks
            if (hook_uuid is None or hook.uuid == hook_uuid.lower())
            and (status is None or hook.status == status)
            and (url is None or hook.url == url)
        ]

    def targets(self, slug: str, ref: str) -> list[Webhook]:
        """The shop's webhooks an event with ``ref`` goes to."""
        with self._lock:
            hooks = list(self._hooks.get(slug, {}).values())
        return [hook for hook in hooks if hook.wants(ref)]


def _changed(hook: Webhook, fields: dict[str, Any], now: datetime) -> Webhook:
    if "enabled_events" in fields:
        fields = {**fields, "enabled_events": tuple(fields["enabled_events"])}
    return replace(hook, **fields, updated_at=now)

"""Workflow API keys: create (shown once), authenticate, revoke."""

import hashlib
import secrets
from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from accounts import selectors
from accounts.errors import ApiKeyNotFound
from accounts.models import ApiKey, Workspace

KEY_PREFIX = "karla_"
PREFIX_LENGTH = 12
# last_used_at is written at most this often per key, so busy automations don't write per call.
LAST_USED_RESOLUTION_SECONDS = 60


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_create(
    *,
    workspace: Workspace,
    name: str,
    actor=None,
    key: str = "",
    requires_customer_email: bool = False,
) -> tuple[ApiKey, str]:
    """A new key for the workspace. Returns the row and the key, which is never shown again."""
    key = key or KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey.objects.create(
        workspace=workspace,
        name=name.strip()[:100],
        prefix=key[:PREFIX_LENGTH],
        key_hash=_hash(key),
        created_by=actor if actor and actor.is_authenticated else None,
        requires_customer_email=requires_customer_email,
    )
    return row, key


def api_key_require_customer(*, api_key: ApiKey, required: bool) -> None:
    """Whether calls with this key must name the customer (and are answered only for them)."""
    api_key.requires_customer_email = required
    api_key.save(update_fields=["requires_customer_email"])


def api_key_authenticate(*, key: str) -> ApiKey | None:
    """The active key with that value, or None. Updates last used (coarsely)."""
    if not key or len(key) > 200:
        return None
    row = selectors.api_key_active(key_hash=_hash(key))
    if row is None:
        return None
    now = timezone.now()
    if (
        row.last_used_at is None
        or (now - row.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
    ):
        ApiKey.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row


def api_key_list(*, workspace: Workspace) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(workspace=workspace)


# A revoked key stays in the list this long (someone may ask why a workflow stopped), then
# moves to a folded list of its own.
REVOKED_LISTED_DAYS = 30


def api_key_lists(*, workspace: Workspace) -> tuple[list[ApiKey], list[ApiKey]]:
    """The keys the API keys tab lists (active ones, then those revoked in the last
    REVOKED_LISTED_DAYS days) and, apart, those revoked before."""
    since = timezone.now() - timedelta(days=REVOKED_LISTED_DAYS)
    listed, earlier = [], []
    for key in api_key_list(workspace=workspace):
        (earlier if key.revoked_at and key.revoked_at < since else listed).append(key)
    return listed, earlier


def api_key_get(*, workspace: Workspace, key_id) -> ApiKey:
    try:
        return api_key_list(workspace=workspace).get(pk=int(key_id))
    except (ApiKey.DoesNotExist, TypeError, ValueError):
        raise ApiKeyNotFound() from None


def api_key_revoke(*, api_key: ApiKey) -> None:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])

"""An account's webhook at GoKarla: registered so that GoKarla pushes shipment events to
``{PUBLIC_BASE_URL}/webhooks/gokarla/<account.webhook_id>/``, signed with a secret made here.

``webhook_ensure`` is idempotent: it looks at the shop's webhooks first, keeps ours when it
is as it should be, corrects its address or status when ``PUBLIC_BASE_URL`` changed, and
otherwise creates one with a fresh secret (GoKarla shows a secret only when it is created, so
a webhook whose secret we no longer hold is replaced). Webhooks of the shop with our address
that are not ours (left behind by an earlier attempt) are deleted: their deliveries could not
be verified. ``webhook_delete`` removes ours. Neither raises: the outcome says what happened,
and the account's ``webhook_status`` and ``webhook_note`` say it to admins.

``accounts.services`` wraps both for Connect, Remove and ``manage.py gokarla_webhooks``.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_noop

from accounts.models import AccountActivity, GoKarlaAccount
from karla_sidebar.gokarla import (
    AccessDenied,
    GoKarlaClient,
    GoKarlaError,
    Webhook,
    WebhookNotFound,
)

logger = logging.getLogger("accounts.webhooks")

ENABLED_EVENTS = ("shipments",)
DESCRIPTION = "Karla Sidebar"
SEARCH_PER_PAGE = 100
SEARCH_PAGES = 10  # a shop with more than 1 000 webhooks is not one we can tidy up after

Status = GoKarlaAccount.WebhookStatus

# Stored in English (the account's webhook note) and translated where an admin reads it.
NOT_ALLOWED_NOTE = gettext_noop(
    "This API key may not create webhooks (viewer role): shipments are found through lookups "
    "and the sync instead. Use an editor or admin key to get live updates."
)
OFF_NOTE = gettext_noop("PUBLIC_BASE_URL is not set, so no webhook is registered.")
LEFT_BEHIND_NOTE = gettext_noop(
    "Its webhook could not be deleted at GoKarla: delete the “Karla Sidebar” webhook in "
    "GoKarla's portal."
)


@dataclass(frozen=True, slots=True)
class WebhookOutcome:
    """What ``webhook_ensure`` or ``webhook_delete`` did. ``action``: the activity to record
    for admins ("" when nothing changed); ``message``: one line for the command's report."""

    status: str
    message: str
    action: str = ""
    ok: bool = True


def webhook_url(*, account: GoKarlaAccount) -> str:
    """Where GoKarla delivers this account's events; "" while ``PUBLIC_BASE_URL`` is unset."""
    if not settings.PUBLIC_BASE_URL:
        return ""
    path = reverse("gokarla-webhook", kwargs={"webhook_id": account.webhook_id})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def webhook_ensure(*, account: GoKarlaAccount, client: GoKarlaClient) -> WebhookOutcome:
    """Make sure GoKarla delivers this account's shipment events to us."""
    url = webhook_url(account=account)
    if not url:
        return WebhookOutcome(account.webhook_status, OFF_NOTE, ok=False)
    try:
        hooks = _webhooks(client)
        ours = next((hook for hook in hooks if hook.uuid == account.webhook_uuid), None)
        if ours is not None and account.webhook_secret:
            outcome = _keep(account, client, ours, url)
        else:
            outcome = _create(account, client, url)
        _delete_strays(client, hooks, url, keep=account.webhook_uuid)
    except AccessDenied:
        return _refused(account, Status.NOT_ALLOWED, NOT_ALLOWED_NOTE)
    except GoKarlaError as error:
        return _refused(account, Status.FAILED, error.message)
    return outcome


def webhook_delete(*, account: GoKarlaAccount, client: GoKarlaClient) -> WebhookOutcome:
    """Delete this account's webhook at GoKarla and forget it here."""
    if not account.webhook_uuid:
        _save(account, status=Status.NOT_REGISTERED, note="", uuid="", secret="")
        return WebhookOutcome(Status.NOT_REGISTERED, "No webhook registered: nothing to delete.")
    try:
        client.webhook_delete(account.webhook_uuid)
    except WebhookNotFound:
        pass  # deleted already (in GoKarla's portal, or by an earlier attempt)
    except GoKarlaError as error:
        logger.warning(
            "Could not delete the webhook of account %s at GoKarla: %s", account.pk, error.message
        )
        return WebhookOutcome(account.webhook_status, error.message, ok=False)
    _save(account, status=Status.NOT_REGISTERED, note="", uuid="", secret="")
    return WebhookOutcome(
        Status.NOT_REGISTERED,
        "Deleted the webhook at GoKarla.",
        action=AccountActivity.Action.WEBHOOK_REMOVED,
    )


def _webhooks(client: GoKarlaClient) -> list[Webhook]:
    hooks: list[Webhook] = []
    for page in range(1, SEARCH_PAGES + 1):
        found = client.webhooks_search(page=page, per_page=SEARCH_PER_PAGE)
        hooks += found
        if len(found) < SEARCH_PER_PAGE:
            break
    return hooks


def _keep(
    account: GoKarlaAccount, client: GoKarlaClient, hook: Webhook, url: str
) -> WebhookOutcome:
    """Our webhook exists and we hold its secret: correct what differs, keep the secret."""
    changes = {}
    if hook.url != url:
        changes["url"] = url
    if hook.status != "active":
        changes["status"] = "active"
    if tuple(hook.enabled_events) != ENABLED_EVENTS:
        changes["enabled_events"] = ENABLED_EVENTS
    if changes:
        client.webhook_update(hook.uuid, **changes)
    was = account.webhook_status
    _save(account, status=Status.ACTIVE, note="")
    if changes:
        return WebhookOutcome(
            Status.ACTIVE,
            "Updated the webhook at GoKarla.",
            action=AccountActivity.Action.WEBHOOK_REGISTERED,
        )
    action = AccountActivity.Action.WEBHOOK_REGISTERED if was != Status.ACTIVE else ""
    return WebhookOutcome(Status.ACTIVE, "The webhook is registered at GoKarla.", action=action)


def _create(account: GoKarlaAccount, client: GoKarlaClient, url: str) -> WebhookOutcome:
    secret = secrets.token_urlsafe(32)
    hook = client.webhook_create(
        url=url, secret=secret, enabled_events=ENABLED_EVENTS, description=DESCRIPTION
    )
    previous = account.webhook_uuid
    _save(account, status=Status.ACTIVE, note="", uuid=hook.uuid, secret=secret)
    if previous and previous != hook.uuid:
        # Ours, but we no longer hold its secret (or GoKarla lost it): the new one replaces it.
        _delete_quietly(client, previous)
    return WebhookOutcome(
        Status.ACTIVE,
        "Registered the webhook at GoKarla.",
        action=AccountActivity.Action.WEBHOOK_REGISTERED,
    )


def _delete_strays(client: GoKarlaClient, hooks: list[Webhook], url: str, *, keep: str) -> None:
    for hook in hooks:
        if hook.url == url and hook.uuid != keep:
            _delete_quietly(client, hook.uuid)


def _delete_quietly(client: GoKarlaClient, hook_uuid: str) -> None:
    try:
        client.webhook_delete(hook_uuid)
    except GoKarlaError as error:
        logger.warning("Could not delete a stale webhook at GoKarla: %s", error.message)


def _refused(account: GoKarlaAccount, status: str, note: str) -> WebhookOutcome:
    changed = (account.webhook_status, account.webhook_note) != (status, note[:500])
    # The webhook we registered before (if any) stays as it is: GoKarla may still deliver.
    _save(account, status=status, note=note)
    action = AccountActivity.Action.WEBHOOK_FAILED if changed else ""
    return WebhookOutcome(status, note, action=action, ok=False)


def _save(account: GoKarlaAccount, *, status: str, note: str, **hook: str) -> None:
    """Store the webhook's state (and its ``uuid`` and ``secret`` when given): an UPDATE of
    these columns only (an admin may change the account meanwhile, or remove it: then there
    is nothing to update)."""
    fields = {"webhook_status": status, "webhook_note": note[:500]}
    fields.update({f"webhook_{name}": value for name, value in hook.items()})
    for name, value in fields.items():
        setattr(account, name, value)
    GoKarlaAccount.objects.filter(pk=account.pk).update(**fields)

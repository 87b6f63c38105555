"""Use cases for connected GoKarla accounts: connect, test, update the token, make default, remove.

Every change is verified against GoKarla first where it involves credentials, and leaves an
``AccountActivity`` row. Callers pass objects they already fetched through the scoping
selectors, so nothing here can reach another workspace's rows.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import webhooks
from accounts.connection import (
    endpoint_candidates,
    endpoint_for_account,
    first_answering,
    gokarla_client,
)
from accounts.errors import DuplicateAccount
from accounts.models import AccountActivity, GoKarlaAccount, Workspace, new_sidebar_secret
from accounts.signals import account_verified
from karla_sidebar.gokarla import (
    Candidates,
    Endpoint,
    GoKarlaClient,
    GoKarlaError,
    Shop,
    ShopNotFound,
    SlugSource,
    TokenUnreadable,
)

logger = logging.getLogger("accounts.services")


def account_endpoint(*, account: GoKarlaAccount) -> Endpoint:
    """Where the account's requests go: the API root that answered at Connect, re-checked
    against today's allowed addresses."""
    return endpoint_for_account(
        url=account.url,
        username=account.username,
        api_root=account.api_root,
        shop_slug=account.shop_slug,
    )


def account_client(
    *, account: GoKarlaAccount, token: str | None = None, language: str = ""
) -> GoKarlaClient:
    """The client for a stored account (with ``token`` instead of the stored one, to verify a
    new token); a token no key can decrypt is never sent. ``language``: the viewer's, for
    GoKarla's event texts."""
    if token is None:
        if not account.token_is_readable:
            raise TokenUnreadable()
        token = account.api_token
    return gokarla_client(
        account_endpoint(account=account),
        username=account.username,
        token=token,
        language=language,
    )


def _no_such_shop(candidates: Candidates, error: ShopNotFound) -> ShopNotFound:
    """GoKarla's "no such shop", saying where the slug came from and so what to fix."""
    slug = candidates.shop_slug
    advice = {
        SlugSource.FIELD: gettext("Check the shop slug under More options."),
        SlugSource.HOST: gettext(
            "The slug was taken from the GoKarla URL: check the URL, or enter your shop's slug "
            "under More options."
        ),
        SlugSource.USERNAME: gettext(
            "The slug was taken from the username (GoKarla's default). If your API key's "
            "username is not your shop's slug, enter the slug under More options."
        ),
    }[candidates.slug_source]
    message = gettext("GoKarla has no shop “%(slug)s”.") % {"slug": slug}
    return ShopNotFound(f"{message} {advice}", status_code=error.status_code)


def _record(account: GoKarlaAccount, action: str, actor=None, detail: str = "") -> None:
    AccountActivity.objects.create(
        workspace_id=account.workspace_id,
        account=account if action != AccountActivity.Action.REMOVED else None,
        account_label=account.label,
        action=action,
        actor=actor if actor and actor.is_authenticated else None,
        actor_name=actor.get_username() if actor and actor.is_authenticated else "",
        detail=detail[:500],
    )


def account_connect(
    *,
    workspace: Workspace,
    url: str,
    username: str,
    token: str,
    shop_slug: str = "",
    label: str = "",
    actor=None,
) -> GoKarlaAccount:
    """Verify the credentials against GoKarla, then save the account. Raises GoKarlaError, or
    DuplicateAccount.

    The URL may lead to more than one API root (``endpoint_candidates``); they are tried in
    order and the first that answers as GoKarla is stored: later calls go only there.
    ``shop_slug`` overrides the slug the URL or username gives.
    """
    candidates = endpoint_candidates(url, username=username, shop_slug=shop_slug)
    if GoKarlaAccount.objects.filter(
        workspace=workspace,
        api_root__in=candidates.api_roots,
        shop_slug=candidates.shop_slug,
        username=username,
    ).exists():
        raise DuplicateAccount()
    try:
        endpoint, shop = first_answering(candidates.endpoints, username=username, token=token)
    except ShopNotFound as error:
        raise _no_such_shop(candidates, error) from None
    try:
        with transaction.atomic():
            account = GoKarlaAccount.objects.create(
                workspace=workspace,
                label=label.strip() or shop.name or endpoint.shop_slug,
                url=candidates.url,
                api_root=endpoint.api_root,
                username=username,
                api_token=token,
                shop_name=shop.name,
                shop_slug=endpoint.shop_slug,
                is_default=not GoKarlaAccount.objects.filter(workspace=workspace).exists(),
                status=GoKarlaAccount.Status.CONNECTED,
                last_verified_at=timezone.now(),
                created_by=actor if actor and actor.is_authenticated else None,
            )
            _record(
                account,
                AccountActivity.Action.CONNECTED,
                actor,
                f"{shop.name} ({endpoint.shop_slug}) · {endpoint.api_root}",  # no language
            )
    except IntegrityError:
        raise DuplicateAccount() from None
    if settings.PUBLIC_BASE_URL:
        _webhook_quietly(account_webhook_ensure, account, actor)
    return account


def _mark_verified(account: GoKarlaAccount, shop: Shop) -> None:
    account.shop_name = shop.name or account.shop_name
    account.status = GoKarlaAccount.Status.CONNECTED
    account.last_verified_at = timezone.now()
    account.last_error = ""


def account_mark_failing(*, account: GoKarlaAccount, error: GoKarlaError) -> None:
    _mark(account, GoKarlaAccount.Status.FAILING, error.message[:500])


def account_mark_connected(*, account: GoKarlaAccount) -> None:
    _mark(account, GoKarlaAccount.Status.CONNECTED, "")


def _mark(account: GoKarlaAccount, status: str, last_error: str) -> None:
    """Set the status a lookup observed. An UPDATE of these columns only: the account may
    have been removed (or changed by an admin) while GoKarla answered, and nothing else of
    it is overwritten or recreated."""
    account.status, account.last_error = status, last_error
    GoKarlaAccount.objects.filter(pk=account.pk).update(
        status=status, last_error=last_error, updated_at=timezone.now()
    )


def account_test(*, account: GoKarlaAccount, actor=None) -> GoKarlaAccount:
    """Re-verify the stored credentials and record the outcome. Raises GoKarlaError on failure."""
    try:
        shop = account_client(account=account).verify()
    except GoKarlaError as error:
        account_mark_failing(account=account, error=error)
        _record(account, AccountActivity.Action.TEST_FAILED, actor, error.message)
        raise
    _mark_verified(account, shop)
    account.save()
    account_verified.send(sender=GoKarlaAccount, account=account)  # lookups stop pausing
    _record(account, AccountActivity.Action.TESTED, actor)
    return account


def account_update_token(*, account: GoKarlaAccount, token: str, actor=None) -> GoKarlaAccount:
    """Verify a new token before it replaces the stored one; the old one stays on failure."""
    shop = account_client(account=account, token=token).verify()
    account.api_token = token
    _mark_verified(account, shop)
    account.save()
    _record(account, AccountActivity.Action.TOKEN_UPDATED, actor)
    if settings.PUBLIC_BASE_URL and account.webhook_status != GoKarlaAccount.WebhookStatus.ACTIVE:
        # A key that may create webhooks (an editor's, after a viewer's) gets one now.
        _webhook_quietly(account_webhook_ensure, account, actor)
    return account


@transaction.atomic
def account_make_default(*, account: GoKarlaAccount, actor=None) -> GoKarlaAccount:
    GoKarlaAccount.objects.filter(workspace_id=account.workspace_id, is_default=True).exclude(
        pk=account.pk
    ).update(is_default=False)
    if not account.is_default:
        account.is_default = True
        account.save(update_fields=["is_default", "updated_at"])
        _record(account, AccountActivity.Action.MADE_DEFAULT, actor)
    return account


def account_remove(*, account: GoKarlaAccount, actor=None) -> None:
    """Remove the account; history keeps its label. Another account becomes the default.

    Its webhook is deleted at GoKarla first, outside the transaction (a GoKarla call may take
    seconds); when that fails the account is removed all the same, and the activity entry
    tells admins to delete the webhook in GoKarla's portal."""
    detail = ""
    if account.webhook_uuid:
        outcome = _webhook_quietly(account_webhook_remove, account, actor, record=False)
        detail = "" if outcome and outcome.ok else webhooks.LEFT_BEHIND_NOTE
    with transaction.atomic():
        was_default = account.is_default
        workspace_id = account.workspace_id
        _record(account, AccountActivity.Action.REMOVED, actor, detail)
        account.delete()
        if was_default:
            successor = (
                GoKarlaAccount.objects.filter(workspace_id=workspace_id).order_by("id").first()
            )
            if successor:
                successor.is_default = True
                successor.save(update_fields=["is_default", "updated_at"])


def account_webhook_ensure(
    *, account: GoKarlaAccount, actor=None, record: bool = True
) -> webhooks.WebhookOutcome:
    """Register the account's webhook at GoKarla, or check and correct it (idempotent); the
    account's ``webhook_status`` and ``webhook_note`` say how it went. Never raises for
    GoKarla's answers."""
    return _webhook_change(webhooks.webhook_ensure, account, actor, record)


def account_webhook_remove(
    *, account: GoKarlaAccount, actor=None, record: bool = True
) -> webhooks.WebhookOutcome:
    """Delete the account's webhook at GoKarla (GoKarla no longer having it counts as done)."""
    return _webhook_change(webhooks.webhook_delete, account, actor, record)


def _webhook_change(change, account: GoKarlaAccount, actor, record: bool):
    try:
        client = account_client(account=account)
    except GoKarlaError as error:  # a token no key can decrypt, an address no longer allowed
        return webhooks.WebhookOutcome(account.webhook_status, error.message, ok=False)
    outcome = change(account=account, client=client)
    if record and outcome.action:
        note = "" if outcome.ok else outcome.message
        _record(account, outcome.action, actor, note)
    return outcome


def _webhook_quietly(use_case, account: GoKarlaAccount, actor, **options):
    """Run a webhook use case where it must not stop the admin's action (Connect, Remove): a
    failure is logged and the action goes on. Returns the outcome, None after a failure."""
    try:
        return use_case(account=account, actor=actor, **options)
    except Exception:
        logger.exception("The webhook of account %s could not be changed", account.pk)
        return None


def workspace_rotate_sidebar_secret(*, workspace: Workspace) -> Workspace:
    """New secret for new launches; the old one keeps working for the grace period."""
    workspace.previous_sidebar_secret = workspace.sidebar_secret
    workspace.previous_secret_expires_at = timezone.now() + timedelta(
        hours=settings.SIDEBAR_SECRET_GRACE_HOURS
    )
    workspace.sidebar_secret = new_sidebar_secret()
    workspace.sidebar_secret_generation += 1  # sessions of two rotations ago end now
    workspace.save(
        update_fields=[
            "sidebar_secret",
            "previous_sidebar_secret",
            "previous_secret_expires_at",
            "sidebar_secret_generation",
        ]
    )
    return workspace

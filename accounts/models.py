"""Workspaces (the tenant boundary), their members, and their connected GoKarla accounts."""

import secrets
from urllib.parse import quote

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy

from accounts.fields import UNDECRYPTABLE, EncryptedSecretField


def new_sidebar_secret() -> str:
    return secrets.token_urlsafe(32)


def new_webhook_id() -> str:
    """The account's part of its webhook address: unguessable, so that only GoKarla (told it
    at registration) knows where to deliver; deliveries are also signed."""
    return secrets.token_urlsafe(24)


class Workspace(models.Model):
    """One ArminCX workspace. Every row, cache key and query is scoped to one of these."""

    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=100)
    # Signs the ArminCX launch tokens. The previous secret stays valid until it expires,
    # so rotating does not break sidebars that ArminCX is opening at that moment.
    sidebar_secret = EncryptedSecretField(max_length=200, default=new_sidebar_secret)
    previous_sidebar_secret = EncryptedSecretField(max_length=200, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # Counts rotations: a sidebar session remembers the generation that let it in, and ends
    # when its secret is no longer accepted.
    sidebar_secret_generation = models.PositiveIntegerField(default=1)
    # The sidebar's language when ArminCX's launch names none ("" → the agent's browser's).
    sidebar_language = models.CharField(max_length=10, blank=True, default="")
    # Parts of an order or shipment card agents do not see (``SIDEBAR_SECTIONS``' keys, comma
    # separated): "" shows them all, and a section added later shows until an admin hides it.
    # Defaults in the database too, for servers on the previous release during a deploy.
    sidebar_hidden_sections = models.CharField(
        max_length=200, blank=True, default="", db_default=""
    )
    # Where a conversation opens in ArminCX, "{conversation}" standing for its id: the
    # history links each lookup's conversation there ("" → no link).
    conversation_url_pattern = models.CharField(
        max_length=300, blank=True, default="", db_default=""
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def sidebar_sections(self) -> dict[str, bool]:
        """Whether agents see each section of the cards: ``{"customer": True, …}``."""
        hidden = set(self.sidebar_hidden_sections.split(","))
        return {section: section not in hidden for section in SIDEBAR_SECTIONS}

    def conversation_url(self, conversation: str) -> str:
        """The conversation's address in ArminCX, or "" without a pattern (or an id)."""
        if not (self.conversation_url_pattern and conversation):
            return ""
        return self.conversation_url_pattern.replace(
            CONVERSATION_PLACEHOLDER, quote(conversation, safe="")
        )


# The sections of the sidebar's cards an admin may hide from agents (Sidebar tab).
SIDEBAR_SECTIONS = {
    "customer": gettext_lazy("Customer (name and e-mail)"),
    "address": gettext_lazy("Shipping address"),
    "line_items": gettext_lazy("Line items"),
    "events": gettext_lazy("All tracking events (the last event always shows)"),
}
CONVERSATION_PLACEHOLDER = "{conversation}"


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", gettext_lazy("Workspace admin")
        LEAD = "lead", gettext_lazy("Support lead")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) in {self.workspace}"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class GoKarlaAccount(models.Model):
    class Status(models.TextChoices):
        CONNECTED = "connected", gettext_lazy("Connected")
        FAILING = "failing", gettext_lazy("Needs attention")

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="gokarla_accounts"
    )
    label = models.CharField(max_length=100)
    # The address the admin entered (its origin); every request goes to ``api_root``, the API
    # root that answered as GoKarla at Connect, for the shop ``shop_slug``.
    url = models.CharField("GoKarla URL", max_length=255)
    api_root = models.CharField("GoKarla API address", max_length=300)
    username = models.CharField(max_length=150)
    api_token = EncryptedSecretField("API token", max_length=500)
    shop_name = models.CharField(max_length=200, blank=True)
    shop_slug = models.CharField(max_length=150)
    is_default = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONNECTED)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class WebhookStatus(models.TextChoices):
        NOT_REGISTERED = "", gettext_lazy("Not registered")
        ACTIVE = "active", gettext_lazy("Active")
        NOT_ALLOWED = "not_allowed", gettext_lazy("Not allowed for this key")
        FAILED = "failed", gettext_lazy("Registration failed")

    # GoKarla's webhook for this account: it delivers shipment events to
    # /webhooks/gokarla/<webhook_id>/, signed with webhook_secret (generated here, stored
    # encrypted); webhook_uuid is GoKarla's id of it, to remove it again.
    webhook_id = models.CharField(max_length=64, unique=True, default=new_webhook_id)
    webhook_uuid = models.CharField(max_length=100, blank=True)
    webhook_secret = EncryptedSecretField(max_length=200, blank=True, default="")
    webhook_status = models.CharField(
        max_length=20, choices=WebhookStatus.choices, blank=True, default=""
    )
    webhook_note = models.CharField(max_length=500, blank=True)
    webhook_last_delivery_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-is_default", "label", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace"], condition=Q(is_default=True), name="one_default_account"
            ),
            models.UniqueConstraint(
                fields=["workspace", "api_root", "shop_slug", "username"],
                name="unique_account_per_workspace",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return (
            f"<GoKarlaAccount {self.pk} {self.label!r} {self.api_root} shop={self.shop_slug!r} "
            f"user={self.username!r}>"
        )

    @property
    def token_is_readable(self) -> bool:
        return self.api_token is not UNDECRYPTABLE


class AccountActivity(models.Model):
    """An admin's change to a GoKarla account, shown to admins as "Activity"."""

    class Action(models.TextChoices):
        CONNECTED = "connected", gettext_lazy("Connected")
        TOKEN_UPDATED = "token_updated", gettext_lazy("Updated the API token")
        TESTED = "tested", gettext_lazy("Tested the connection")
        TEST_FAILED = "test_failed", gettext_lazy("Connection test failed")
        MADE_DEFAULT = "made_default", gettext_lazy("Made default")
        REMOVED = "removed", gettext_lazy("Removed")
        WEBHOOK_REGISTERED = "webhook_registered", gettext_lazy("Registered the webhook")
        WEBHOOK_FAILED = "webhook_failed", gettext_lazy("Could not register the webhook")
        WEBHOOK_REMOVED = "webhook_removed", gettext_lazy("Deleted the webhook")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(
        GoKarlaAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    account_label = models.CharField(max_length=100)
    action = models.CharField(max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "-created_at"], name="activity_by_workspace")]

    def __str__(self) -> str:
        return f"{self.actor_name or 'system'} {self.get_action_display()} {self.account_label}"


class ApiKey(models.Model):
    """A workflow API key. Only its SHA-256 is stored; the key is shown once, at creation."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Calls must name the customer (customer_email): only that customer's orders are answered.
    requires_customer_email = models.BooleanField(default=False)

    class Meta:
        ordering = ["revoked_at", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ReplyTemplate(models.Model):
    """A workspace's own wording of one kind of reply in one language. Without one, agents get
    the sidebar's built-in default, which can then improve with releases."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="reply_templates"
    )
    language = models.CharField(max_length=10)
    kind = models.CharField(max_length=20)
    text = models.TextField(max_length=4000)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "language", "kind"], name="one_reply_template_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.language}) of {self.workspace}"

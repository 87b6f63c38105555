"""The lookup history: one row per lookup, from the sidebar and the workflow API alike."""

import re

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.backends.ddl_references import Statement
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy

from accounts.models import GoKarlaAccount, Workspace

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str, limit: int) -> str:
    """Text as received, made safe to store: at most ``limit`` characters, and NUL (which
    PostgreSQL refuses in text) and lone surrogates (JSON's ``\\ud800``, which no database
    can encode) shown as U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text[:limit])


# True of every lookup (the column is NOT NULL), yet SQLite takes it at its word: the
# partial index ``lookup_by_latency`` (SQLite only) is on this condition, so only the queries
# that state it, the unfiltered history summary, may use it.
EVERY_ROW = models.Q(latency_ms__isnull=False)


class _OnOneVendor:
    """An index that exists on one database vendor only: on the others, migrations (and
    SQLite's table rebuilds) create and drop nothing for it, with an empty statement."""

    def __init__(self, *expressions, vendor: str, **kwargs):
        self.vendor = vendor
        super().__init__(*expressions, **kwargs)

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        return path, args, {**kwargs, "vendor": self.vendor}

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != self.vendor:
            return Statement("")
        return super().create_sql(model, schema_editor, using=using, **kwargs)

    def remove_sql(self, model, schema_editor, **kwargs):
        if schema_editor.connection.vendor != self.vendor:
            return Statement("")
        return super().remove_sql(model, schema_editor, **kwargs)


class VendorIndex(_OnOneVendor, models.Index):
    pass


class VendorGinIndex(_OnOneVendor, GinIndex):
    pass


def _trigram(field: str, name: str) -> VendorGinIndex:
    """A trigram index for ``<field>__icontains``, PostgreSQL's ``UPPER(…) LIKE UPPER('%…%')``
    (which no B-tree serves). Needs the ``pg_trgm`` extension (migration 0004 creates it)."""
    return VendorGinIndex(
        OpClass(Upper(field), name="gin_trgm_ops"), name=name, vendor="postgresql"
    )


class LookupRecord(models.Model):
    class Source(models.TextChoices):
        SIDEBAR = "sidebar", gettext_lazy("Sidebar")
        WORKFLOW = "workflow", gettext_lazy("Workflow API")

    class Action(models.TextChoices):
        ORDER = "order", gettext_lazy("Get Order")
        SHIPMENT = "shipment", gettext_lazy("Get Shipment")
        CUSTOMER_ORDERS = "customer_orders", gettext_lazy("Customer orders")

    class Outcome(models.TextChoices):
        FOUND = "found", gettext_lazy("Found")
        NOT_FOUND = "not_found", gettext_lazy("Not found")
        NO_TRACKING_YET = "no_tracking_yet", gettext_lazy("No tracking yet")
        CREDENTIALS_REJECTED = "credentials_rejected", gettext_lazy("Credentials rejected")
        ACCESS_DENIED = "access_denied", gettext_lazy("Access denied")
        RATE_LIMITED = "rate_limited", gettext_lazy("Rate limited")
        UNAVAILABLE = "unavailable", gettext_lazy("GoKarla unavailable")
        TIMEOUT = "timeout", gettext_lazy("Timed out")
        UNEXPECTED_RESPONSE = "unexpected_response", gettext_lazy("Unexpected response")
        NOT_GOKARLA_API = "not_gokarla_api", gettext_lazy("Not GoKarla's API")
        INVALID_INPUT = "invalid_input", gettext_lazy("Invalid input")
        NO_ACCOUNT = "no_account", gettext_lazy("No account connected")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices)
    actor_id = models.CharField(max_length=200, blank=True)
    actor_name = models.CharField(max_length=200, blank=True)
    conversation = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    reference = models.CharField(max_length=200, blank=True)
    account = models.ForeignKey(
        GoKarlaAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    account_label = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=24, choices=Outcome.choices)
    # A short description of the result (e.g. the order's status); never addresses,
    # line items or e-mail addresses.
    summary = models.CharField(max_length=200, blank=True)
    upstream_status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    cached = models.BooleanField(default=False)
    # Answered with an older result (cached is set too) because GoKarla failed or timed out.
    # Columns added after the first release have a default in the database too: app servers
    # still on the previous release write rows without them while a new one rolls out.
    stale = models.BooleanField(default=False, db_default=False)
    # How a Get Shipment found its order (GoKarla cannot look up shipments itself).
    resolved_by = models.CharField(max_length=10, blank=True, default="", db_default="")
    # Made by the sidebar on its own, not asked for by the agent: the customer's recent orders
    # when a conversation opens, a live card's refresh. The history shows these apart and
    # leaves them out of its totals unless asked.
    automatic = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The history page filters by workspace and time first. The time index also carries
        # every column the page filters or counts by but the free-text ones, so the summary
        # and the chart of any mix of date, outcome, action, source, account and "automatic"
        # read the index, not the table; on PostgreSQL it includes the agent and the account
        # label too, for the tables by agent and by account (SQLite has no INCLUDE: there
        # they read the table). The account index serves the labels of removed accounts;
        # conversation and agent have their own. On SQLite, a partial latency index serves
        # the unfiltered summary (``lookup_summary`` says why; PostgreSQL groups with a hash
        # instead); on PostgreSQL, trigram indexes serve the "contains" filters.
        indexes = [
            models.Index(
                fields=[
                    "workspace",
                    "-created_at",
                    "outcome",
                    "latency_ms",
                    "action",
                    "source",
                    "account",
                    "automatic",
                ],
                include=["actor_id", "actor_name", "account_label"],
                name="lookup_by_time",
            ),
            models.Index(
                fields=["workspace", "conversation", "-created_at"], name="lookup_by_conv"
            ),
            models.Index(fields=["workspace", "actor_id", "-created_at"], name="lookup_by_actor"),
            models.Index(
                fields=["workspace", "account", "account_label"], name="lookup_by_account"
            ),
            VendorIndex(
                fields=["workspace", "latency_ms", "outcome", "automatic"],
                condition=EVERY_ROW,
                name="lookup_by_latency",
                vendor="sqlite",
            ),
            _trigram("reference", "lookup_reference_trgm"),
            _trigram("actor_name", "lookup_actor_name_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.reference} → {self.outcome}"

    @property
    def found(self) -> bool:
        return self.outcome == self.Outcome.FOUND

    RESOLUTIONS = {
        "index": gettext_lazy("found through the shipment index"),
        "customer": gettext_lazy("found in the customer's orders"),
    }

    @property
    def resolved_by_label(self) -> str:
        return str(self.RESOLUTIONS.get(self.resolved_by, ""))

    @property
    def upstream_status_shown(self) -> int | None:
        """GoKarla's status where it says something: not for an answer (found, not found,
        no tracking yet: GoKarla answered 200), yes for a refusal or an odd answer."""
        answered = {self.Outcome.FOUND, self.Outcome.NOT_FOUND, self.Outcome.NO_TRACKING_YET}
        return None if self.outcome in answered else self.upstream_status


class ShipmentIndexEntry(models.Model):
    """Where a shipment is: GoKarla has no shipment lookup, so the app remembers, per account,
    which order each tracking number and shipment id belongs to (and the tracking's last state,
    for the Accounts tab and sync). Keys are ``tracking_key``s: no spaces or dashes, upper case.
    A draft shipment (no tracking number yet) is kept by its id only."""

    class Source(models.TextChoices):
        LOOKUP = "lookup", gettext_lazy("Lookup")
        WEBHOOK = "webhook", gettext_lazy("Webhook")
        SYNC = "sync", gettext_lazy("Sync")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(GoKarlaAccount, on_delete=models.CASCADE, related_name="+")
    shipment_id = models.CharField(max_length=100)
    shipment_key = models.CharField(max_length=100)
    tracking_number = models.CharField(max_length=100, blank=True)
    tracking_key = models.CharField(max_length=100, blank=True)
    order_uuid = models.CharField(max_length=100)
    order_number = models.CharField(max_length=100, blank=True)
    carrier_reference = models.CharField(max_length=50, blank=True)
    phase = models.CharField(max_length=40, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)  # GoKarla's, of the tracking
    source = models.CharField(max_length=10, choices=Source.choices)
    indexed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "shipment_id"], name="one_index_entry_per_shipment"
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "tracking_key"], name="shipment_by_tracking"),
            models.Index(fields=["workspace", "shipment_key"], name="shipment_by_id"),
            models.Index(fields=["account", "-indexed_at"], name="shipment_by_account"),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_number or self.shipment_id} → order {self.order_number}"


class ShipmentSync(models.Model):
    """Where ``sync_gokarla`` stands for one account: what it has synced up to, the page a run
    in progress has reached (so an interrupted run resumes there), and a lease that lets one
    runner at a time work on the account, across servers."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    account = models.OneToOneField(
        GoKarlaAccount, on_delete=models.CASCADE, related_name="shipment_sync"
    )
    # The next run asks GoKarla for orders whose shipments changed since this moment.
    synced_until = models.DateTimeField(null=True, blank=True)
    # A run in progress: what it asked for (the order-search filter, ``order_placed_from`` for
    # a backfill or ``shipment_updated_since``, and its moment), from when, and the next page.
    run_filter = models.CharField(max_length=30, blank=True)
    run_since = models.DateTimeField(null=True, blank=True)
    run_started_at = models.DateTimeField(null=True, blank=True)
    next_page = models.PositiveIntegerField(default=1)
    # The lease: held by ``locked_by`` until ``locked_until`` (renewed while it works).
    locked_by = models.CharField(max_length=100, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_orders = models.PositiveIntegerField(default=0)
    last_shipments = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"sync of account {self.account_id} until {self.synced_until}"


class WebhookDelivery(models.Model):
    """A GoKarla webhook delivery already taken in: a repeated one is refused (replay)."""

    account = models.ForeignKey(GoKarlaAccount, on_delete=models.CASCADE, related_name="+")
    # SHA-256 of the delivery's signature header (its time and HMAC): unique per delivery.
    key = models.CharField(max_length=64)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="one_delivery_once")]
        indexes = [models.Index(fields=["received_at"], name="delivery_by_time")]

    def __str__(self) -> str:
        return f"delivery {self.key[:12]} for account {self.account_id}"


class UsedLaunchToken(models.Model):
    """A launch token's ``jti`` that has been used: a launch token opens one sidebar, once.
    Kept in the database, where no cache eviction can forget it, until the token expires."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=64)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "jti"], name="launch_token_used_once")
        ]
        indexes = [models.Index(fields=["expires_at"], name="used_launch_by_expiry")]

    def __str__(self) -> str:
        return f"launch token {self.jti[:8]}… of workspace {self.workspace_id}"

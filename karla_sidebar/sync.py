"""The sync: GoKarla's orders whose shipments changed, pulled into the shipment index.

GoKarla pushes shipment events by webhook, but a webhook can be missed (the app was down, the
key may not create webhooks, the account was connected before). ``sync_gokarla`` runs this
from cron on every server: per account it pages GoKarla's order search and indexes every
shipment it sees.

- **What it asks for.** The first run (no watermark yet) backfills the orders placed in the
  last ``backfill_days`` (``order_placed_from``); every later run asks for the orders whose
  shipments changed since the watermark (``shipment_updated_since``), minus ``OVERLAP`` for
  clocks and GoKarla's indexing lag. ``since`` overrides both. A completed run moves the
  watermark to the moment it started, so what changes while it runs is asked for again.
- **One runner per account, across servers.** A lease on the account's ``ShipmentSync`` row,
  taken with one conditional UPDATE and renewed after each page; a runner that finds it held
  skips the account. A runner that dies keeps it until it expires (``LEASE``).
- **Resumable.** The run's filter, moment and next page are stored after each page: a run
  that failed or was interrupted continues at that page next time. Index writes are upserts,
  so a page seen twice costs nothing but time.
- **Bounded memory.** One page of orders in memory at a time.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.db.models import F, Q
from django.utils import timezone

from accounts.models import GoKarlaAccount, Workspace
from accounts.selectors import account_list
from accounts.services import account_client, account_mark_failing
from karla_sidebar.gokarla import AccessDenied, CredentialsRejected, GoKarlaError
from karla_sidebar.models import ShipmentIndexEntry, ShipmentSync
from karla_sidebar.shipment_index import shipment_index_update

LEASE = timedelta(minutes=2)
OVERLAP = timedelta(minutes=2)
PER_PAGE = 100  # GoKarla's largest page
DEFAULT_BACKFILL_DAYS = 30
PLACED_FROM = "order_placed_from"
UPDATED_SINCE = "shipment_updated_since"


class SyncOutcome(StrEnum):
    SYNCED = "synced"
    SKIPPED = "skipped"  # another runner holds the account's lease
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PageSynced:
    """One page done: what a progress line says."""

    account: GoKarlaAccount
    page: int
    orders: int
    shipments: int


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one run did for one account. ``orders``/``shipments``: the whole run's, pages
    of an earlier interrupted attempt included; ``pages``: this attempt's."""

    account: GoKarlaAccount
    outcome: SyncOutcome
    message: str = ""
    filter: str = ""
    since: datetime | None = None
    first_page: int = 1
    pages: int = 0
    orders: int = 0
    shipments: int = 0


@dataclass(slots=True)
class _Run:
    """A run under way: what it asks GoKarla for, the page it is at, what it has indexed."""

    filter: str
    since: datetime
    page: int = 1
    orders: int = 0
    shipments: int = 0
    pages: int = 0  # done by this attempt
    first_page: int = 0

    def __post_init__(self) -> None:
        self.first_page = self.page

    def done(self, orders: int, shipments: int) -> None:
        self.orders, self.shipments = self.orders + orders, self.shipments + shipments
        self.pages += 1

    def report(self, account: GoKarlaAccount, outcome: SyncOutcome, message="") -> SyncReport:
        return SyncReport(
            account=account,
            outcome=outcome,
            message=message,
            filter=self.filter,
            since=self.since,
            first_page=self.first_page,
            pages=self.pages,
            orders=self.orders,
            shipments=self.shipments,
        )


class _LeaseLost(Exception):
    """The lease expired and another runner took the account over (or it was removed)."""


def sync_accounts(*, account_id: int | None = None) -> list[GoKarlaAccount]:
    """Every workspace's accounts (or only the one with ``account_id``; none when there is no
    such account), in a stable order."""
    accounts = []
    for workspace in Workspace.objects.order_by("slug"):
        found = account_list(workspace=workspace).select_related("workspace")
        if account_id is not None:
            found = found.filter(pk=account_id)
        accounts.extend(found.order_by("pk"))
    return accounts


def sync_runner_name() -> str:
    """Who holds a lease, as an operator reads it: the host, the process and a random tag
    (two runs in one process are two runners)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def shipment_sync_run(
    *,
    account: GoKarlaAccount,
    runner: str,
    since: datetime | None = None,
    backfill_days: int = DEFAULT_BACKFILL_DAYS,
    on_page: Callable[[PageSynced], object] | None = None,
) -> SyncReport:
    """Sync one account's shipments into its index (see the module docstring)."""
    sync = _sync_row(account)
    if not _lease_take(sync, runner):
        return _held_elsewhere(account, sync)
    try:
        return _run(account, sync, runner, since, backfill_days, on_page)
    finally:
        _lease_release(sync, runner)


def _sync_row(account: GoKarlaAccount) -> ShipmentSync:
    sync, _ = ShipmentSync.objects.get_or_create(
        account_id=account.pk, workspace_id=account.workspace_id
    )
    return sync


def _mine(sync: ShipmentSync, runner: str):
    return ShipmentSync.objects.filter(
        pk=sync.pk, workspace_id=sync.workspace_id, account_id=sync.account_id, locked_by=runner
    )


def _lease_take(sync: ShipmentSync, runner: str) -> bool:
    """One conditional UPDATE: the lease is ours if nobody holds it or it has expired."""
    now = timezone.now()
    free = Q(locked_until__isnull=True) | Q(locked_until__lte=now) | Q(locked_by=runner)
    taken = ShipmentSync.objects.filter(
        free, pk=sync.pk, workspace_id=sync.workspace_id, account_id=sync.account_id
    ).update(locked_by=runner, locked_until=now + LEASE)
    return taken == 1


def _lease_release(sync: ShipmentSync, runner: str) -> None:
    _mine(sync, runner).update(locked_by="", locked_until=None)


def _held_elsewhere(account: GoKarlaAccount, sync: ShipmentSync) -> SyncReport:
    holder = (
        ShipmentSync.objects.filter(pk=sync.pk, account_id=account.pk)
        .values("locked_by", "locked_until")
        .first()
    ) or {"locked_by": "", "locked_until": None}
    until = holder["locked_until"]
    message = f"another runner ({holder['locked_by'] or 'unknown'}) is syncing this account"
    if until:
        message += f"; its lease runs until {until:%Y-%m-%d %H:%M:%S} UTC"
    return SyncReport(account=account, outcome=SyncOutcome.SKIPPED, message=message)


def _plan(sync: ShipmentSync, runner: str, since: datetime | None, backfill_days: int) -> _Run:
    """Resume the interrupted run, or start a new one (stored before its first page)."""
    sync.refresh_from_db()
    if since is None and sync.run_filter and sync.run_since:
        return _Run(
            sync.run_filter, sync.run_since, sync.next_page, sync.last_orders, sync.last_shipments
        )
    now = timezone.now()
    if since is not None:
        search = UPDATED_SINCE
    elif sync.synced_until is not None:
        search, since = UPDATED_SINCE, sync.synced_until - OVERLAP
    else:
        search, since = PLACED_FROM, now - timedelta(days=backfill_days)
    since = since.replace(microsecond=0)  # rounded down: asks for a little more, never less
    _mine(sync, runner).update(
        run_filter=search,
        run_since=since,
        run_started_at=now,
        next_page=1,
        last_orders=0,
        last_shipments=0,
    )
    return _Run(search, since)


def _run(account, sync, runner, since, backfill_days, on_page) -> SyncReport:
    run = _plan(sync, runner, since, backfill_days)
    try:
        client = account_client(account=account)
        while True:
            found = client.orders_search(
                page=run.page, per_page=PER_PAGE, **{run.filter: run.since.isoformat()}
            )
            written = shipment_index_update(
                account=account, orders=found, source=ShipmentIndexEntry.Source.SYNC
            )
            _progress(sync, runner, run.page, len(found), written)
            run.done(len(found), written)
            if on_page is not None:
                on_page(PageSynced(account, run.page, len(found), written))
            if len(found) < PER_PAGE:
                break
            run.page += 1
    except GoKarlaError as error:
        _mine(sync, runner).update(last_error=error.message[:500])
        if isinstance(error, CredentialsRejected | AccessDenied):
            account_mark_failing(account=account, error=error)
        return run.report(account, SyncOutcome.FAILED, error.message)
    except _LeaseLost:
        message = (
            "this run's lease expired and another runner took the account over (or the "
            "account was removed)"
        )
        return run.report(account, SyncOutcome.SKIPPED, message)
    _mine(sync, runner).update(
        synced_until=F("run_started_at"),
        run_filter="",
        run_since=None,
        run_started_at=None,
        next_page=1,
        last_finished_at=timezone.now(),
        last_error="",
    )
    return run.report(account, SyncOutcome.SYNCED)


def _progress(sync: ShipmentSync, runner: str, page: int, orders: int, shipments: int) -> None:
    """Store the page reached and renew the lease, in one statement; only while it is ours."""
    renewed = _mine(sync, runner).update(
        next_page=page + 1,
        last_orders=F("last_orders") + orders,
        last_shipments=F("last_shipments") + shipments,
        locked_until=timezone.now() + LEASE,
    )
    if renewed != 1:
        raise _LeaseLost

"""The two actions agents and automations run: ``order_lookup`` and ``shipment_lookup``.

One path for every lookup, from the sidebar and the workflow API alike: choose the account
(or try all), use the cache, call the GoKarla client, write exactly one ``LookupRecord``,
and return a ``LookupResult`` or raise one of ``LOOKUP_ERRORS`` (GoKarla's error, or the
app's own refusal) whose message the caller shows, or ``NotInWorkspace`` for an account id
that is not the workspace's.
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts import selectors
from accounts.errors import NotInWorkspace
from accounts.models import GoKarlaAccount, Workspace
from accounts.services import account_client, account_mark_connected, account_mark_failing
from core.ratelimit import rate_limit_hit
from karla_sidebar.breaker import (
    CircuitOpen,
    breaker_check,
    breaker_failure,
    breaker_release,
    breaker_state_key,
    breaker_success,
)
from karla_sidebar.errors import LOOKUP_ERRORS, LookupRefused, NoAccountConnected, TooManyRequests
from karla_sidebar.gokarla import (
    AccessDenied,
    CredentialsRejected,
    GoKarlaError,
    NotFound,
    Order,
    OrderNotFound,
    RateLimited,
    Shipment,
    ShipmentNotFound,
    Unavailable,
    UnexpectedResponse,
    tracking_key,
)
from karla_sidebar.lookup_records import record_new, record_save, record_summary
from karla_sidebar.models import LookupRecord, ShipmentIndexEntry
from karla_sidebar.shipment_index import (
    news_key,
    shipment_index_digest,
    shipment_index_entries,
    shipment_index_forget,
    shipment_index_update,
)
from karla_sidebar.shipment_lookup import Answer, find_shipment, shipment_not_found

ALL_ACCOUNTS = "all"
# Failures of GoKarla itself, and the sidebar's GoKarla budget spent: an older result beats
# an error card.
STALE_OK = (Unavailable, RateLimited, UnexpectedResponse, TooManyRequests)
CUSTOMER_ORDERS_LIMIT = 10

# Lookups across several accounts run side by side; the threads (and so their HTTP
# sessions and kept-alive connections) live as long as the process.
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="gokarla")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asked: an agent in the sidebar or a workflow API key."""

    source: str
    actor_id: str
    actor_name: str
    conversation: str = ""
    # The conversation's customer (the launch's ``customer_email``): where Get Shipment looks
    # when the shipment index does not know a tracking number.
    customer_email: str = ""
    # The viewer's language: GoKarla's event texts come in it (and are cached apart).
    language: str = ""
    # Answer only with the orders (and shipments) of ``customer_email``; anything else reads
    # as not found. For automations that reply to customers directly.
    only_customer: bool = False
    # The sidebar asked on its own (a conversation's opening, a live card), not the agent.
    automatic: bool = False


@dataclass(frozen=True, slots=True)
class Hit:
    """One record found in one account."""

    account_id: int
    account_label: str
    shop_name: str
    record: Order | Shipment
    fetched_at: datetime
    cached: bool = False
    # Served from an older result because GoKarla failed or was too slow.
    stale: bool = False
    resolved_by: str = ""
    # The e-mail of the order's (or the shipment's order's) customer.
    customer_email: str = ""


@dataclass(frozen=True, slots=True)
class LookupResult:
    action: str
    reference: str
    hits: tuple[Hit, ...]
    searched_all: bool = False
    accounts_searched: tuple[str, ...] = field(default=())

    @property
    def first(self) -> Hit:
        return self.hits[0]


def _accounts_for(workspace: Workspace, account: str | int | None) -> list[GoKarlaAccount]:
    """The account(s) to ask: one by id (404 if not this workspace's), all, or the default."""
    if account in (None, ""):
        chosen = selectors.account_for_lookup(workspace=workspace)
        accounts = [chosen] if chosen else []
    elif account == ALL_ACCOUNTS:
        accounts = list(selectors.account_list(workspace=workspace))
    else:
        accounts = [selectors.account_get(workspace=workspace, account_id=account)]
    if not accounts:
        raise NoAccountConnected()
    return accounts


def _cache_key(
    workspace: Workspace, account: GoKarlaAccount, action: str, reference: str, language: str
) -> str:
    if action == LookupRecord.Action.SHIPMENT:
        # "1Z999 AA1 0123456784", "1z999aa10123456784": the same question.
        reference = tracking_key(reference)
    digest = hashlib.sha256(reference.strip().lower().encode()).hexdigest()[:32]
    return f"lookup:v3:{workspace.pk}:{account.pk}:{action}:{language or '-'}:{digest}"


@dataclass(frozen=True, slots=True)
class _IndexChange:
    """What an answer teaches the shipment index; written by the asking thread after the
    fan-out (pool threads do not write to the database)."""

    account: GoKarlaAccount
    orders: list[Order]
    forget: ShipmentIndexEntry | None = None


@dataclass(frozen=True, slots=True)
class _Asked:
    """One account's part of a lookup: its hits, or its error; ``missed`` when GoKarla
    answered a Get Shipment without the shipment (the caller words the not-found)."""

    hits: list
    error: GoKarlaError | LookupRefused | None = None
    index: _IndexChange | None = None
    missed: bool = False
    asked_gokarla: bool = False  # for a miss: whether GoKarla was asked at all


def _fetch(account, action, reference, breaker: dict, actor: Actor, entry) -> Answer:
    """The account's answer, through its circuit breaker, whose state before the call
    (``breaker``) the caller has read. Only a request GoKarla answered moves the breaker."""
    # An unreadable token fails before the breaker.
    client = account_client(account=account, language=actor.language)
    probing = breaker_check(account_id=account.pk, state=breaker)
    try:
        if action == LookupRecord.Action.SHIPMENT:
            answer = find_shipment(client, reference, entry, actor)
        else:
            orders = client.order_find(reference)
            answer = Answer(
                records=orders, orders=orders, owners=tuple(order.email for order in orders)
            )
    except Unavailable:  # timeouts, connection errors, 5xx, not GoKarla's API
        if breaker_failure(account_id=account.pk):
            account_mark_failing(account=account, error=CircuitOpen())
        raise
    except GoKarlaError:
        if client.calls:  # any answer of GoKarla's means it is up
            breaker_success(account_id=account.pk)
        raise
    else:
        if client.calls and breaker_success(account_id=account.pk):
            account_mark_connected(account=account)
        return answer
    finally:
        if probing and not client.calls:
            breaker_release(account_id=account.pk)


def _ask(workspace, account, action, reference, use_cache, actor: Actor, entry) -> _Asked:
    """Ask one account; a failure comes back as a value so other accounts still answer.

    Results are kept for LOOKUP_STALE_SECONDS but reused only while younger than
    LOOKUP_CACHE_SECONDS; when GoKarla fails or is slow, an older result is shown (stale)
    rather than only an error. Every order GoKarla returns feeds the shipment index, written
    only when it differs from what this question found last time. ``entry``: the shipment
    index's entry for a Get Shipment (read before the fan-out).
    """
    key = _cache_key(workspace, account, action, reference, actor.language)
    # The cached result, the breaker's state and GoKarla's latest news (a webhook) for the
    # account, in one round trip to the cache.
    state = cache.get_many([key, breaker_state_key(account.pk), news_key(account.pk)])
    cached = state.get(key)
    age = (timezone.now() - cached.fetched_at).total_seconds() if cached else None
    reuse = settings.LOOKUP_CACHE_SECONDS if use_cache else _refresh_reuse_seconds(actor)
    news = state.get(news_key(account.pk))
    if cached and age < reuse and not (news and news > cached.fetched_at):
        return _Asked(_hits(account, cached, cached=True))
    try:
        over_budget = _gokarla_budget_spent(workspace, actor)
        if over_budget is not None:
            raise over_budget
        answer = _fetch(account, action, reference, state, actor, entry)
    except LOOKUP_ERRORS as error:
        if cached and isinstance(error, STALE_OK) and age < settings.LOOKUP_STALE_SECONDS:
            return _Asked(_hits(account, cached, cached=True, stale=True))
        return _Asked([], error)
    digest = shipment_index_digest(answer.orders)
    learnt = answer.orders if cached is None or cached.index_digest != digest else []
    index = None
    if learnt or answer.contradicted:
        index = _IndexChange(account, learnt, answer.contradicted)
    if not answer.records:
        asked = entry is not None or bool(actor.customer_email)
        return _Asked([], index=index, missed=True, asked_gokarla=asked)
    fresh = _Cached(answer.records, timezone.now(), digest, answer.resolved_by, answer.owners)
    cache.set(key, fresh, settings.LOOKUP_STALE_SECONDS)
    return _Asked(_hits(account, fresh), index=index)


def _refresh_reuse_seconds(actor: Actor) -> float:
    """An agent's Refresh right after an answer reuses it (a double click, an impatient
    agent); an automation asks afresh."""
    return (
        settings.LOOKUP_REFRESH_REUSE_SECONDS if actor.source == LookupRecord.Source.SIDEBAR else 0
    )


def _gokarla_budget_spent(workspace, actor: Actor) -> TooManyRequests | None:
    """The sidebar's GoKarla calls are counted per agent and per workspace; over either
    budget, the lookup is refused (the workflow API has its own per-key limit)."""
    if actor.source != LookupRecord.Source.SIDEBAR:
        return None
    budgets = (
        (
            f"sidebar-agent:{workspace.pk}:{actor.actor_id}",
            settings.SIDEBAR_GOKARLA_CALLS_PER_AGENT,
        ),
        (f"sidebar-workspace:{workspace.pk}", settings.SIDEBAR_GOKARLA_CALLS_PER_WORKSPACE),
    )
    for key, limit in budgets:
        wait = rate_limit_hit(key=key, limit=limit)
        if wait is not None:
            return TooManyRequests(
                gettext_lazy(
                    "Too many lookups from the sidebar in the last minute. Wait a moment, then "
                    "try again (answers already shown stay available)."
                ),
                retry_after=wait,
            )
    return None


def _in_pool(task):
    """``task`` as a pool thread runs it: with the database connections Django's request
    cycle would give it (a connection broken by a database failover is not kept)."""

    def run(*args):
        close_old_connections()
        try:
            return task(*args)
        finally:
            close_old_connections()

    return run


def _index_learn(change: _IndexChange) -> None:
    if change.forget is not None:
        shipment_index_forget(entry=change.forget)
    if change.orders:
        shipment_index_update(
            account=change.account, orders=change.orders, source=ShipmentIndexEntry.Source.LOOKUP
        )


@dataclass(frozen=True, slots=True)
class _Cached:
    records: list
    fetched_at: datetime
    index_digest: str
    resolved_by: str
    owners: tuple[str, ...]


def _hits(account: GoKarlaAccount, entry: _Cached, *, cached=False, stale=False) -> list[Hit]:
    return [
        Hit(
            account_id=account.pk,
            account_label=account.label,
            shop_name=account.shop_name,
            record=record,
            fetched_at=entry.fetched_at,
            cached=cached,
            stale=stale,
            resolved_by=entry.resolved_by,
            customer_email=owner,
        )
        for record, owner in zip(entry.records, entry.owners, strict=True)
    ]


def _not_found(action: str, account: GoKarlaAccount, actor: Actor) -> NotFound:
    """The not-found GoKarla's own empty answer gives, word for word."""
    if action == LookupRecord.Action.SHIPMENT:
        return shipment_not_found(account, actor, True)
    return OrderNotFound(status_code=200)


def _same_customer(email: str, actor: Actor) -> bool:
    wanted = actor.customer_email.strip().casefold()
    return bool(wanted) and email.strip().casefold() == wanted


def _worst(errors: list, action: str, several: bool) -> GoKarlaError | LookupRefused:
    """The error to show when no account found anything: a real failure beats not-found."""
    failures = [error for error in errors if not isinstance(error, NotFound)]
    if failures:
        return failures[0]
    if not several:
        return errors[0]
    if action == LookupRecord.Action.SHIPMENT:
        return ShipmentNotFound(
            gettext_lazy(
                "No shipment with that ID or tracking number in any connected GoKarla account."
            )
        )
    return OrderNotFound(
        gettext_lazy("No order with that number or reference in any connected GoKarla account.")
    )


def _lookup(*, workspace, action, reference, account, actor: Actor, use_cache=True):
    """Every lookup's one path: ask the chosen accounts, learn from their answers, keep the
    hits the caller may see, and record one history row whatever happens."""
    started = time.perf_counter()
    reference = (reference or "").strip()
    record = record_new(workspace=workspace, action=action, reference=reference, actor=actor)
    try:
        accounts = _accounts_for(workspace, account)
        if len(accounts) == 1:
            record.account, record.account_label = accounts[0], accounts[0].label
        answers = _ask_all(workspace, accounts, action, reference, use_cache, actor)
        _learn(answers, accounts)
        hits = _ranked_hits(answers, accounts, action, actor)
    except LOOKUP_ERRORS as error:
        record.outcome = error.code
        record.upstream_status = error.status_code
        raise
    except NotInWorkspace:
        record.outcome = LookupRecord.Outcome.INVALID_INPUT
        raise
    else:
        _record_found(record, hits)
        return LookupResult(
            action=action,
            reference=reference,
            hits=tuple(hits),
            searched_all=account == ALL_ACCOUNTS,
            accounts_searched=tuple(a.label for a in accounts),
        )
    finally:
        record.latency_ms = round((time.perf_counter() - started) * 1000)
        record_save(record)


def _ask_all(workspace, accounts, action, reference, use_cache, actor: Actor) -> list[_Asked]:
    """The fan-out: each account's answer, in the order of ``accounts``; several accounts are
    asked side by side in the pool. Get Shipment reads the shipment index first, once."""
    entries = (
        shipment_index_entries(accounts=accounts, reference=reference)
        if action == LookupRecord.Action.SHIPMENT
        else {}
    )

    def ask(account):
        return _ask(
            workspace, account, action, reference, use_cache, actor, entries.get(account.pk)
        )

    if len(accounts) == 1:
        return [ask(accounts[0])]
    return list(_executor.map(_in_pool(ask), accounts))


def _learn(answers: list[_Asked], accounts: list[GoKarlaAccount]) -> None:
    """What the answers teach, written by the asking thread: the shipment index, and which
    accounts GoKarla refused for their credentials (the Accounts tab shows them failing)."""
    for asked, account in zip(answers, accounts, strict=True):
        if asked.index is not None:
            _index_learn(asked.index)
        if isinstance(asked.error, CredentialsRejected | AccessDenied):
            account_mark_failing(account=account, error=asked.error)


def _ranked_hits(answers: list[_Asked], accounts: list[GoKarlaAccount], action, actor: Actor):
    """The hits the caller may see, in the accounts' order; none raises the error that
    explains best why (a real failure before a not-found)."""
    hits: list[Hit] = []
    errors = []
    for asked, account in zip(answers, accounts, strict=True):
        hits.extend(asked.hits)
        if asked.missed:
            errors.append(shipment_not_found(account, actor, asked.asked_gokarla))
        if asked.error is not None:
            errors.append(asked.error)
    if actor.only_customer:
        # Another customer's order reads exactly like one that does not exist.
        by_id = {account.pk: account for account in accounts}
        for hit in hits:
            if not _same_customer(hit.customer_email, actor):
                errors.append(_not_found(action, by_id[hit.account_id], actor))
        hits = [hit for hit in hits if _same_customer(hit.customer_email, actor)]
    if not hits:
        raise _worst(errors, action, len(accounts) > 1)
    return hits


def _record_found(record: LookupRecord, hits: list[Hit]) -> None:
    """The history row of a lookup that found something."""
    record.outcome = LookupRecord.Outcome.FOUND
    record.cached = all(hit.cached for hit in hits)
    record.stale = any(hit.stale for hit in hits)
    record.upstream_status = None if record.cached else 200
    record.summary = record_summary([hit.record for hit in hits])
    record.resolved_by = hits[0].resolved_by
    if len({hit.account_id for hit in hits}) == 1 and not record.account_id:
        record.account_id, record.account_label = hits[0].account_id, hits[0].account_label


def order_lookup(*, workspace, reference, account=None, actor: Actor, use_cache=True):
    """Find orders by number, name, uuid or customer e-mail. Raises one of LOOKUP_ERRORS."""
    return _lookup(
        workspace=workspace,
        action=LookupRecord.Action.ORDER,
        reference=reference,
        account=account,
        actor=actor,
        use_cache=use_cache,
    )


def shipment_lookup(*, workspace, reference, account=None, actor: Actor, use_cache=True):
    """Find one shipment by shipment id or tracking number (through the shipment index, then
    the conversation customer's orders). Raises one of LOOKUP_ERRORS."""
    return _lookup(
        workspace=workspace,
        action=LookupRecord.Action.SHIPMENT,
        reference=reference,
        account=account,
        actor=actor,
        use_cache=use_cache,
    )


def customer_orders_lookup(*, workspace, email, actor: Actor, use_cache=True):
    """The customer's recent orders across every account, newest first."""
    result = _lookup(
        workspace=workspace,
        action=LookupRecord.Action.CUSTOMER_ORDERS,
        reference=email,
        account=ALL_ACCOUNTS,
        actor=actor,
        use_cache=use_cache,
    )
    return LookupResult(
        action=result.action,
        reference=result.reference,
        hits=_each_order_once(newest_first(result.hits))[:CUSTOMER_ORDERS_LIMIT],
        searched_all=True,
        accounts_searched=result.accounts_searched,
    )


def _each_order_once(hits: tuple[Hit, ...]) -> tuple[Hit, ...]:
    """Two accounts of one shop (two API keys) find the same orders: list each once."""
    seen: set[str] = set()
    kept = []
    for hit in hits:
        if hit.record.uuid and hit.record.uuid in seen:
            continue
        seen.add(hit.record.uuid)
        kept.append(hit)
    return tuple(kept)


def newest_first(hits: tuple[Hit, ...]) -> tuple[Hit, ...]:
    """Order hits, newest placed first (undated last; equals keep their order)."""
    return tuple(sorted(hits, key=lambda hit: hit.record.placed_at or _UNDATED, reverse=True))


_UNDATED = datetime(1970, 1, 1, tzinfo=UTC)


def lookup_refused(*, workspace, action, reference, actor: Actor, error: LookupRefused) -> None:
    """Record a lookup refused before it reached GoKarla (bad input, our own rate limit)."""
    record = record_new(workspace=workspace, action=action, reference=reference, actor=actor)
    record.outcome = error.code
    record_save(record)

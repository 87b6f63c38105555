"""Reads of the lookup history, each taking the workspace so every query is scoped here.

A day is cut at midnight in the current time zone (the viewer's, else ``TIME_ZONE``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Workspace
from karla_sidebar.models import EVERY_ROW, LookupRecord

# A removed account is gone from the workspace; its label stays on its history rows.
REMOVED_PREFIX = "removed:"
# "Not found or failed": every outcome but found, for reviewing what went wrong.
UNSUCCESSFUL = "unsuccessful"


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the current time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def lookup_record_list(
    *, workspace: Workspace, filters: Mapping[str, Any] | None = None
) -> QuerySet[LookupRecord]:
    """The workspace's lookups matching validated ``HistoryFilterForm`` data, newest first.
    Automatic lookups (``LookupRecord.automatic``) only when ``filters["automatic"]``."""
    filters = filters or {}
    records = _matching(workspace, filters)
    if not filters.get("automatic"):
        records = records.filter(automatic=False)
    return records.order_by("-created_at", "-id")


def _matching(workspace: Workspace, filters: Mapping[str, Any]) -> QuerySet[LookupRecord]:
    """The lookups matching every filter but "include automatic lookups", unordered."""
    records = LookupRecord.objects.filter(workspace=workspace)
    if filters.get("date_from"):
        records = records.filter(created_at__gte=_day_start(filters["date_from"]))
    if filters.get("date_to"):
        next_day = filters["date_to"] + dt.timedelta(days=1)
        records = records.filter(created_at__lt=_day_start(next_day))
    for name in ("action", "source", "conversation"):
        if filters.get(name):
            records = records.filter(**{name: filters[name]})
    outcome = filters.get("outcome")
    if outcome == UNSUCCESSFUL:
        records = records.exclude(outcome=LookupRecord.Outcome.FOUND)
    elif outcome:
        records = records.filter(outcome=outcome)
    account = filters.get("account")
    if account and account.startswith(REMOVED_PREFIX):
        label = account.removeprefix(REMOVED_PREFIX)
        records = records.filter(account__isnull=True, account_label=label)
    elif account:
        records = records.filter(account_id=int(account))
    if filters.get("agent"):
        agent = filters["agent"]
        records = records.filter(Q(actor_id=agent) | Q(actor_name__icontains=agent))
    if filters.get("reference"):
        records = records.filter(reference__icontains=filters["reference"])
    return records.order_by()


def removed_account_labels(*, workspace: Workspace) -> QuerySet:
    """The labels of removed accounts still on the workspace's history rows, A to Z."""
    return (
        LookupRecord.objects.filter(workspace=workspace, account__isnull=True)
        .exclude(account_label="")
        .order_by("account_label")
        .values_list("account_label", flat=True)
        .distinct()
    )


@dataclass(frozen=True, slots=True)
class OutcomeCount:
    outcome: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class LookupSummary:
    lookups: int
    found: int
    not_found_or_failed: tuple[OutcomeCount, ...]
    median_ms: int | None
    p95_ms: int | None
    # The automatic lookups of the same filters, shown apart (when left out of the totals)
    automatic_lookups: int = 0
    automatic_found: int = 0

    @property
    def found_percent(self) -> float | None:
        return 100 * self.found / self.lookups if self.lookups else None

    @property
    def automatic_found_percent(self) -> float | None:
        if not self.automatic_lookups:
            return None
        return 100 * self.automatic_found / self.automatic_lookups


def _percentiles(
    histogram: Mapping[int, int], total: int, fractions: Sequence[float]
) -> list[int | None]:
    """Nearest-rank percentiles from a histogram ``{latency: how many}``."""
    ranks = [max(math.ceil(fraction * total), 1) for fraction in fractions]
    values: list[int | None] = [None] * len(ranks)
    seen = 0
    for latency in sorted(histogram):
        seen += histogram[latency]
        for index, rank in enumerate(ranks):
            if values[index] is None and seen >= rank:
                values[index] = latency
    return values


def lookup_summary(
    *, workspace: Workspace, filters: Mapping[str, Any] | None = None
) -> LookupSummary:
    """Counts per outcome and exact latency percentiles of the lookups ``lookup_record_list``
    lists, and apart from them (unless included) the automatic ones: one grouped query.

    Grouping by (latency, outcome) needs one pass for both. PostgreSQL groups with a hash.
    SQLite groups by sorting, which at 100 000 rows is most of the page's time; unfiltered,
    the rows can come already in that order from its ``lookup_by_latency`` index instead.
    That index is partial, on a condition that holds for every row (``EVERY_ROW``), and only
    this query states it: were the index open to every query, SQLite would also walk it for
    filtered ones to spare a sort, reading the whole table in latency order, several times
    slower than a plain scan. (``tests/test_history.py`` checks both plans; the figures are in
    docs/performance.md, "History page queries".)
    """
    filters = filters or {}
    records = _matching(workspace, filters)
    if not any(value for name, value in filters.items() if name not in _NOT_NARROWING):
        records = records.filter(EVERY_ROW)
    rows = (
        records.values_list("latency_ms", "outcome", "automatic")
        .annotate(count=Count("*"))
        .order_by()
    )
    include_automatic = bool(filters.get("automatic"))
    counts: Counter[str] = Counter()
    histogram: Counter[int] = Counter()
    automatic: Counter[str] = Counter()
    for latency, outcome, is_automatic, count in rows:
        if is_automatic and not include_automatic:
            automatic[outcome] += count
            continue
        counts[outcome] += count
        histogram[latency] += count
    total = counts.total()
    median, p95 = _percentiles(histogram, total, (0.5, 0.95))
    return LookupSummary(
        lookups=total,
        found=counts[LookupRecord.Outcome.FOUND],
        not_found_or_failed=tuple(
            OutcomeCount(outcome, label, counts[outcome])
            for outcome, label in LookupRecord.Outcome.choices
            if outcome != LookupRecord.Outcome.FOUND and counts[outcome]
        ),
        median_ms=median,
        p95_ms=p95,
        automatic_lookups=automatic.total(),
        automatic_found=automatic[LookupRecord.Outcome.FOUND],
    )


# Form values that narrow nothing: the period (its dates are the filter), "include automatic".
_NOT_NARROWING = frozenset({"period", "automatic"})

# Lookups that did not get an answer from GoKarla: not "not found" or "no tracking yet", which
# are answers, but refusals, failures and bad input.
FAILURES = frozenset(LookupRecord.Outcome.values) - {
    LookupRecord.Outcome.FOUND,
    LookupRecord.Outcome.NOT_FOUND,
    LookupRecord.Outcome.NO_TRACKING_YET,
}


@dataclass(frozen=True, slots=True)
class LookupGroup:
    """One row of the history's by-agent or by-account table."""

    key: str  # the filter value that lists its lookups ("" when there is none)
    label: str
    detail: str  # the agent's id, or why an account has no filter of its own
    lookups: int
    found: int
    failures: int
    median_ms: int | None

    @property
    def found_percent(self) -> float:
        return 100 * self.found / self.lookups


# The group tables' medians are read from latencies rounded to two significant digits (to
# 10 ms from 100 ms, to 100 ms from a second), which keeps their query's answer small.
LATENCY_BUCKET = Case(
    When(latency_ms__lt=100, then=F("latency_ms")),
    When(latency_ms__lt=1000, then=F("latency_ms") / 10 * 10),
    When(latency_ms__lt=10000, then=F("latency_ms") / 100 * 100),
    default=F("latency_ms") / 1000 * 1000,
    output_field=IntegerField(),
)


class _Tally:
    __slots__ = ("failures", "found", "histogram", "labels", "lookups")

    def __init__(self):
        self.lookups = self.found = self.failures = 0
        self.histogram: Counter[int] = Counter()
        self.labels: Counter[str] = Counter()

    def add(self, label: str, latency: int, lookups: int, found: int, failures: int) -> None:
        self.lookups += lookups
        self.found += found
        self.failures += failures
        self.histogram[latency] += lookups
        self.labels[label] += lookups


def _groups(
    records: QuerySet[LookupRecord], keys: Sequence[str], split: Callable[[list], tuple]
) -> dict[tuple, _Tally]:
    """Lookups, found, failures and a latency histogram (for the median) per group, from one
    query grouped by ``keys`` and the rounded latency; ``split`` makes the values of ``keys``
    the group's key and label."""
    tallies: dict[tuple, _Tally] = defaultdict(_Tally)
    # Grouped by the rounded latency first: grouped by an agent or account column first,
    # SQLite would walk that column's index for its order, through the whole workspace,
    # however few rows the other filters leave (PostgreSQL groups with a hash either way).
    # Django groups by plain fields before expressions: the keys are annotations too.
    aliases = {f"group_{index}": F(key) for index, key in enumerate(keys)}
    rows = (
        records.annotate(latency=LATENCY_BUCKET, **aliases)
        .values_list("latency", *aliases)
        .annotate(
            n=Count("*"),
            found=Count("outcome", filter=Q(outcome=LookupRecord.Outcome.FOUND)),
            failures=Count("outcome", filter=Q(outcome__in=FAILURES)),
        )
        .order_by()
    )
    for latency, *values, lookups, found, failures in rows:
        key, label = split(values)
        tallies[key].add(label, latency, lookups, found, failures)
    return tallies


def _group(key: str, label: str, detail: str, tally: _Tally) -> LookupGroup:
    (median,) = _percentiles(tally.histogram, tally.lookups, (0.5,))
    return LookupGroup(key, label, detail, tally.lookups, tally.found, tally.failures, median)


def _busiest_first(groups: list[LookupGroup]) -> list[LookupGroup]:
    return sorted(groups, key=lambda group: (-group.lookups, group.label.casefold()))


def lookups_by_agent(
    *, workspace: Workspace, filters: Mapping[str, Any] | None = None
) -> list[LookupGroup]:
    """The filtered lookups per agent (a workflow API key is one too), busiest first."""
    records = lookup_record_list(workspace=workspace, filters=filters)
    groups = []
    tallies = _groups(records, ("actor_id", "actor_name"), lambda v: ((v[0],), v[1]))
    for (actor_id,), tally in tallies.items():
        name = tally.labels.most_common(1)[0][0]  # the name it went by most (names change)
        groups.append(_group(actor_id, name or actor_id or "—", actor_id if name else "", tally))
    return _busiest_first(groups)


def lookups_by_account(
    *, workspace: Workspace, filters: Mapping[str, Any] | None = None
) -> list[LookupGroup]:
    """The filtered lookups per account, busiest first. A removed account keeps its label;
    lookups in no one account (none connected, or found in several) are a group of their own.
    """
    records = lookup_record_list(workspace=workspace, filters=filters)
    groups = []
    # A connected account is one group whatever its label was; a removed one is its label.
    tallies = _groups(
        records,
        ("account_id", "account_label"),
        lambda v: ((v[0], "" if v[0] is not None else v[1]), v[1]),
    )
    for (account_id, _), tally in tallies.items():
        label = tally.labels.most_common(1)[0][0]
        if account_id is not None:
            groups.append(_group(str(account_id), label, "", tally))
        elif label:
            groups.append(_group(f"{REMOVED_PREFIX}{label}", label, gettext("removed"), tally))
        else:
            groups.append(_group("", gettext("No single account"), "", tally))
    return _busiest_first(groups)


def lookups_per_day(
    *, workspace: Workspace, filters: Mapping[str, Any], start: dt.date, end: dt.date
) -> dict[dt.date, dict[str, int]]:
    """Filtered lookups per day (in the current time zone) and outcome, from start to end."""
    if start > end:
        raise ValueError(f"The chart cannot start ({start}) after it ends ({end}).")
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    records = lookup_record_list(workspace=workspace, filters=filters).order_by()
    if connection.vendor == "postgresql":
        rows = _per_day_truncated(records, days)
    else:
        rows = _per_day_ranges(records, days)
    per_day: dict[dt.date, dict[str, int]] = defaultdict(dict)
    for day, outcome, count in rows:
        per_day[day][outcome] = count
    return per_day


def _per_day_truncated(records: QuerySet[LookupRecord], days: list[dt.date]):
    """PostgreSQL cuts the days itself, in the current time zone, in one grouped scan of
    the range: faster there than ``_per_day_ranges``, which makes it plan 30 queries."""
    end = days[-1] + dt.timedelta(days=1)
    return (
        records.filter(created_at__gte=_day_start(days[0]), created_at__lt=_day_start(end))
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values_list("day", "outcome")
        .annotate(count=Count("*"))
    )


def _per_day_ranges(records: QuerySet[LookupRecord], days: list[dt.date]):
    """Each day as one range of the ``(workspace, created_at)`` index counted per outcome,
    joined by UNION ALL into one statement: the database reads each range in index order
    and sorts only that day's rows. Days are cut at midnights computed here, exact across
    daylight saving changes.

    For SQLite, where ``TruncDate`` calls a Python function per row, and one scan choosing
    the day with a CASE per row is slower too (docs/performance.md, "History page queries").
    """
    bounds = [_day_start(day) for day in days] + [_day_start(days[-1] + dt.timedelta(days=1))]
    per_day_queries = [
        records.filter(created_at__gte=bounds[index], created_at__lt=bounds[index + 1])
        .annotate(day=Value(day))
        .values_list("day", "outcome")
        .annotate(count=Count("*"))
        for index, day in enumerate(days)
    ]
    return per_day_queries[0].union(*per_day_queries[1:], all=True)

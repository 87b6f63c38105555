"""The lookup history for support leads and admins: who looked up what, when, with what outcome.

Reads are selectors that take the workspace (``lookup_record_list``, ``lookup_summary``,
``lookups_per_day``), so every query is scoped in one place. The page, its HTMX results
region and the CSV export all filter through ``lookup_record_list`` with the same validated
``HistoryFilterForm``, so they always count the same rows.

Dates in filters are days in the server's ``TIME_ZONE``: "from" is that day's midnight and
"to" includes the whole day.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from accounts.access import workspace_required
from accounts.models import Workspace
from accounts.selectors import account_list
from karla_sidebar.models import LookupRecord

PAGE_SIZE = 50
TEMPLATE = "history/history.html"
# The chart shows the last CHART_DAYS days of the filtered range, or the chosen range up to
# CHART_MAX_DAYS days (one bar per day stays readable at desktop width).
CHART_DAYS = 30
CHART_MAX_DAYS = 92
CHART_WIDTH, CHART_HEIGHT = 960, 180
CHART_TOP, CHART_RIGHT, CHART_BOTTOM, CHART_LEFT = 8, 20, 22, 36  # room for the axis labels
# A removed account is gone from the workspace; its label stays on its history rows.
REMOVED_PREFIX = "removed:"
# "Not found or failed": every outcome but found, for reviewing what went wrong.
UNSUCCESSFUL = "unsuccessful"
EXPORT_CHUNK = 2000
EXPORT_COLUMNS = (
    ("Time", "created_at"),
    ("Source", "source"),
    ("Agent ID", "actor_id"),
    ("Agent name", "actor_name"),
    ("Conversation", "conversation"),
    ("Action", "action"),
    ("Reference", "reference"),
    ("Account", "account_label"),
    ("Outcome", "outcome"),
    ("Summary", "summary"),
    ("GoKarla status", "upstream_status"),
    ("Latency ms", "latency_ms"),
    ("Cached", "cached"),
)
# A spreadsheet runs a cell starting with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SANE_DATES = [MinValueValidator(dt.date(2000, 1, 1)), MaxValueValidator(dt.date(2999, 12, 31))]


def _date_field(label: str) -> forms.DateField:
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    return forms.DateField(label=label, required=False, widget=widget, validators=SANE_DATES)


def _text_field(label: str, placeholder: str) -> forms.CharField:
    widget = forms.TextInput(attrs={"placeholder": placeholder})
    return forms.CharField(label=label, required=False, max_length=200, widget=widget)


class HistoryFilterForm(forms.Form):
    date_from = _date_field("From")
    date_to = _date_field("To")
    agent = _text_field("Agent", "Name or ID")
    action = forms.ChoiceField(
        choices=[("", "Any action"), *LookupRecord.Action.choices], required=False
    )
    outcome = forms.ChoiceField(
        choices=[
            ("", "Any outcome"),
            (UNSUCCESSFUL, "Not found or failed"),
            *LookupRecord.Outcome.choices,
        ],
        required=False,
    )
    account = forms.ChoiceField(required=False)
    source = forms.ChoiceField(
        choices=[("", "Any source"), *LookupRecord.Source.choices], required=False
    )
    reference = _text_field("Reference", "Contains…")
    conversation = _text_field("Conversation", "Conversation ID")

    def __init__(self, data: QueryDict, *, workspace: Workspace):
        super().__init__(data)
        self.fields["account"].choices = account_choices(workspace=workspace)
        for field in self:
            field.field.widget.attrs["aria-describedby"] = f"{field.auto_id}-error"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned


def account_choices(*, workspace: Workspace) -> list[tuple[str, str]]:
    """The workspace's accounts, then the labels of removed accounts still in its history."""
    removed = (
        LookupRecord.objects.filter(workspace=workspace, account__isnull=True)
        .exclude(account_label="")
        .order_by("account_label")
        .values_list("account_label", flat=True)
        .distinct()
    )
    return [
        ("", "Any account"),
        *((str(account.pk), account.label) for account in account_list(workspace=workspace)),
        *((f"{REMOVED_PREFIX}{label}", f"{label} (removed)") for label in removed),
    ]


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the current (the server's) time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def lookup_record_list(
    *, workspace: Workspace, filters: Mapping[str, Any] | None = None
) -> QuerySet[LookupRecord]:
    """The workspace's lookups matching validated ``HistoryFilterForm`` data, newest first."""
    filters = filters or {}
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
    return records.order_by("-created_at", "-id")


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

    @property
    def found_percent(self) -> float | None:
        return 100 * self.found / self.lookups if self.lookups else None


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
    """Counts per outcome and exact latency percentiles, from one grouped query.

    Grouping by (latency, outcome) needs one pass and one sort in the database for both, and
    no index leads with latency: the database picks its index by the filters alone.
    """
    rows = (
        lookup_record_list(workspace=workspace, filters=filters)
        .order_by()
        .values_list("latency_ms", "outcome")
        .annotate(Count("id"))
    )
    counts: Counter[str] = Counter()
    histogram: Counter[int] = Counter()
    for latency, outcome, count in rows:
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
    )


def chart_range(*, filters: Mapping[str, Any], today: dt.date) -> tuple[dt.date, dt.date]:
    """The days the chart shows: the last CHART_DAYS of the filtered range, or the chosen
    range when one is set, at most CHART_MAX_DAYS ending on its last day (never empty)."""
    start = filters.get("date_from")
    end = filters.get("date_to") or max(today, start or today)
    start = start or end - dt.timedelta(days=CHART_DAYS - 1)
    return max(start, end - dt.timedelta(days=CHART_MAX_DAYS - 1)), end


def _day_index(bounds: Sequence[dt.datetime], low: int, high: int) -> Case | Value:
    """Which of the days ``low`` to ``high - 1`` a row falls in: a binary search over the
    days' midnights as a nested CASE, so about log2(days) comparisons per row."""
    if high - low == 1:
        return Value(low)
    middle = (low + high) // 2
    return Case(
        When(created_at__lt=bounds[middle], then=_day_index(bounds, low, middle)),
        default=_day_index(bounds, middle, high),
    )


def lookups_per_day(
    *, workspace: Workspace, filters: Mapping[str, Any], start: dt.date, end: dt.date
) -> dict[dt.date, dict[str, int]]:
    """Filtered lookups per day (in the current time zone) and outcome, from start to end.

    Days are cut at midnights computed here, which is exact across daylight saving changes
    and portable. (``TruncDate`` is the obvious tool, but on SQLite it calls a Python
    function per row: 400 ms for 30 days of a busy workspace, against 60 ms this way.)
    """
    if start > end:
        raise ValueError(f"The chart cannot start ({start}) after it ends ({end}).")
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    bounds = [_day_start(day) for day in days] + [_day_start(end + dt.timedelta(days=1))]
    rows = (
        lookup_record_list(workspace=workspace, filters=filters)
        .filter(created_at__gte=bounds[0], created_at__lt=bounds[-1])
        .order_by()
        .annotate(day=_day_index(bounds, 0, len(days)))
        .values_list("day", "outcome")
        .annotate(count=Count("id"))
    )
    per_day: dict[dt.date, dict[str, int]] = defaultdict(dict)
    for index, outcome, count in rows:
        per_day[days[index]][outcome] = count
    return per_day


# The chart: geometry worked out here, so the template only places the shapes.


@dataclass(frozen=True, slots=True)
class ChartSegment:
    """One outcome's part of one day's bar."""

    outcome: str
    title: str  # "Tue Nov 3 · Timed out: 2"
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class ChartDay:
    day: dt.date
    label: str  # "Tue Nov 3"
    total: int
    counts: tuple[int, ...]  # one per Chart.outcomes


@dataclass(frozen=True, slots=True)
class Chart:
    start: dt.date
    end: dt.date
    total: int
    days: tuple[ChartDay, ...]
    outcomes: tuple[tuple[str, str], ...]  # (outcome, label) present in the range, in order
    segments: tuple[ChartSegment, ...]
    x_ticks: tuple[tuple[float, str], ...]  # (x, "Nov 3")
    y_ticks: tuple[tuple[float, int], ...]  # (y, count)
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = CHART_LEFT
    right: int = CHART_WIDTH - CHART_RIGHT
    label_y: int = CHART_HEIGHT - 6


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … that is at least ``value``."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def chart_build(
    *, per_day: Mapping[dt.date, Mapping[str, int]], start: dt.date, end: dt.date
) -> Chart:
    """One bar per day, stacked by outcome in the order of ``LookupRecord.Outcome``, in the
    units of the SVG's viewBox (rounded to 0.1), so that the template only places shapes."""
    dates = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    present = {outcome for counts in per_day.values() for outcome, n in counts.items() if n}
    outcomes = tuple((o, label) for o, label in LookupRecord.Outcome.choices if o in present)
    top = _nice_ceiling(max((sum(per_day.get(d, {}).values()) for d in dates), default=0) or 1)
    baseline = CHART_HEIGHT - CHART_BOTTOM
    scale = (baseline - CHART_TOP) / top
    slot = (CHART_WIDTH - CHART_LEFT - CHART_RIGHT) / len(dates)
    tick_every = math.ceil(len(dates) / 10)
    days, segments, x_ticks = [], [], []
    for index, day in enumerate(dates):
        counts = per_day.get(day, {})
        label = f"{day:%a %b} {day.day}"
        x, y = CHART_LEFT + index * slot, float(baseline)
        for outcome, outcome_label in outcomes:
            if count := counts.get(outcome, 0):
                y -= count * scale
                segments.append(
                    ChartSegment(
                        outcome=outcome,
                        title=f"{label} · {outcome_label}: {count}",
                        x=round(x + slot * 0.15, 1),
                        y=round(y, 1),
                        width=round(slot * 0.7, 1),
                        height=round(count * scale, 1),
                    )
                )
        if (len(dates) - 1 - index) % tick_every == 0:
            x_ticks.append((round(x + slot / 2, 1), label[4:]))
        total = sum(counts.values())
        days.append(ChartDay(day, label, total, tuple(counts.get(o, 0) for o, _ in outcomes)))
    return Chart(
        start=start,
        end=end,
        total=sum(day.total for day in days),
        days=tuple(days),
        outcomes=outcomes,
        segments=tuple(segments),
        x_ticks=tuple(x_ticks),
        y_ticks=tuple(
            (round(baseline - value * scale, 1), value) for value in sorted({0, top // 2, top})
        ),
    )


# CSV export


class _Echo:
    """A file-like object whose ``write`` hands back the line, for streaming csv.writer."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def lookup_record_csv(
    *, workspace: Workspace, filters: Mapping[str, Any] | None = None
) -> Iterator[str]:
    """The filtered lookups as CSV lines, newest first, read in chunks (constant memory).

    Starts with a UTF-8 byte order mark so that spreadsheets read names with accents right.
    """
    writer = csv.writer(_Echo())
    rows = (
        lookup_record_list(workspace=workspace, filters=filters)
        .values_list(*(field for _, field in EXPORT_COLUMNS))
        .iterator(chunk_size=EXPORT_CHUNK)
    )
    yield "\ufeff" + writer.writerow([title for title, _ in EXPORT_COLUMNS])
    for created_at, *texts, status, latency_ms, cached in rows:
        yield writer.writerow(
            [
                timezone.localtime(created_at).isoformat(timespec="seconds"),
                *(_cell(text) for text in texts),
                "" if status is None else status,
                latency_ms,
                "yes" if cached else "no",
            ]
        )


def lookup_record_purge(
    *, older_than: dt.datetime, dry_run: bool = False, batch_size: int = 5000
) -> int:
    """Delete every workspace's lookups created before ``older_than``, a batch at a time
    (short transactions, no long lock on the table); how many (``dry_run``: would be)."""
    old = LookupRecord.objects.filter(created_at__lt=older_than).order_by()
    if dry_run:
        return old.count()
    deleted = 0
    while ids := list(old.values_list("id", flat=True)[:batch_size]):
        deleted += LookupRecord.objects.filter(id__in=ids).delete()[0]
    return deleted


# Views


def _query(params: QueryDict, *, keep_page: bool = False) -> str:
    """The non-empty filters of ``params`` as a query string (shareable, no empty keys)."""
    query = QueryDict(mutable=True)
    for name, value in params.items():
        if value and (name != "page" or keep_page):
            query[name] = value
    return query.urlencode()


def _results(request: HttpRequest, form: HistoryFilterForm) -> dict[str, Any]:
    if not form.is_valid():
        return {}
    workspace, filters = request.workspace, form.cleaned_data
    records = lookup_record_list(workspace=workspace, filters=filters)
    start, end = chart_range(filters=filters, today=timezone.localdate())
    per_day = lookups_per_day(workspace=workspace, filters=filters, start=start, end=end)
    summary = lookup_summary(workspace=workspace, filters=filters)
    paginator = Paginator(records, PAGE_SIZE)
    paginator.count = summary.lookups  # counted already: spare the database a second count
    return {
        "page": paginator.get_page(request.GET.get("page")),
        "summary": summary,
        "chart": chart_build(per_day=per_day, start=start, end=end),
    }


def _context(request: HttpRequest, form: HistoryFilterForm) -> dict[str, Any]:
    return {
        "tab": "history",
        "form": form,
        "query": _query(request.GET),
        "retention_days": settings.HISTORY_RETENTION_DAYS,
        "time_zone": timezone.get_current_timezone_name(),
        **_results(request, form),
    }


@require_GET
@workspace_required
def history_page(request: HttpRequest) -> HttpResponse:
    form = HistoryFilterForm(request.GET, workspace=request.workspace)
    context = _context(request, form)
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, f"{TEMPLATE}#results", context)
        query = _query(request.GET, keep_page=True)
        return push_url(response, f"{request.path}?{query}" if query else request.path)
    return render(request, TEMPLATE, context)


@require_GET
@workspace_required
def history_export(request: HttpRequest) -> HttpResponse:
    form = HistoryFilterForm(request.GET, workspace=request.workspace)
    if not form.is_valid():
        return render(request, TEMPLATE, _context(request, form), status=400)
    lines = lookup_record_csv(workspace=request.workspace, filters=form.cleaned_data)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    filename = f"lookup-history-{request.workspace.slug}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

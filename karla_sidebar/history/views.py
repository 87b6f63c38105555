"""The history page (a full page, or its results region for HTMX) and the CSV export."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from accounts.access import workspace_required

from .chart import chart_build, chart_range, chart_start
from .export import lookup_record_csv
from .forms import HistoryFilterForm
from .health import account_health_list
from .selectors import (
    lookup_record_list,
    lookup_summary,
    lookups_by_account,
    lookups_by_agent,
    lookups_per_day,
)

PAGE_SIZE = 50
TEMPLATE = "history/history.html"


def _query(params: QueryDict, *, keep_page: bool = False, without: str = "") -> str:
    """The non-empty filters of ``params`` as a query string (shareable, no empty keys)."""
    query = QueryDict(mutable=True)
    for name, value in params.items():
        if value and (name != "page" or keep_page) and name != without:
            query[name] = value
    return query.urlencode()


def _results(request: HttpRequest, form: HistoryFilterForm) -> dict[str, Any]:
    if not form.is_valid():
        return {}
    workspace, filters = request.workspace, form.cleaned_data
    records = lookup_record_list(workspace=workspace, filters=filters)
    start, end = chart_range(
        filters=filters, today=timezone.localdate(), kept_days=settings.HISTORY_RETENTION_DAYS
    )
    per_day = lookups_per_day(workspace=workspace, filters=filters, start=start, end=end)
    start = chart_start(per_day=per_day, start=start, end=end)
    summary = lookup_summary(workspace=workspace, filters=filters)
    paginator = Paginator(records, PAGE_SIZE)
    paginator.count = summary.lookups  # counted already: spare the database a second count
    return {
        "page": paginator.get_page(request.GET.get("page")),
        "summary": summary,
        "chart": chart_build(per_day=per_day, start=start, end=end),
        "by_agent": lookups_by_agent(workspace=workspace, filters=filters),
        "by_account": lookups_by_account(workspace=workspace, filters=filters),
    }


def _context(request: HttpRequest, form: HistoryFilterForm) -> dict[str, Any]:
    return {
        "tab": "history",
        "form": form,
        "query": _query(request.GET),
        # The tables' rows narrow the filters to themselves: the other filters stay.
        "agent_query": _query(request.GET, without="agent"),
        "account_query": _query(request.GET, without="account"),
        "retention_days": settings.HISTORY_RETENTION_DAYS,
        "time_zone": timezone.get_current_timezone_name(),
        # Outside the results region: read only when the whole page is rendered.
        "health": lambda: account_health_list(workspace=request.workspace),
        **_results(request, form),
    }


@require_GET
@workspace_required
def history_page(request: HttpRequest) -> HttpResponse:
    form = HistoryFilterForm(request.GET, workspace=request.workspace)
    context = _context(request, form)
    # Filters that do not make sense are shown with their errors, as bad input: 422.
    status = 200 if form.is_valid() else 422
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, f"{TEMPLATE}#results", context, status=status)
        query = _query(request.GET, keep_page=True)
        return push_url(response, f"{request.path}?{query}" if query else request.path)
    return render(request, TEMPLATE, context, status=status)


@require_GET
@workspace_required
def history_export(request: HttpRequest) -> HttpResponse:
    form = HistoryFilterForm(request.GET, workspace=request.workspace)
    if not form.is_valid():
        return render(request, TEMPLATE, _context(request, form), status=400)
    # Built here, in the viewer's time zone and language: the lines are written later, after
    # this view has returned and the request's zone and language are no longer active.
    lines = lookup_record_csv(workspace=request.workspace, filters=form.cleaned_data)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    filename = f"lookup-history-{request.workspace.slug}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

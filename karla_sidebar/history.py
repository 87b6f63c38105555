"""The lookup history for support leads and admins: who looked up what, when, with what outcome."""

from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.access import workspace_required
from accounts.models import Workspace
from karla_sidebar.models import LookupRecord

PAGE_SIZE = 50


class HistoryFilterForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("", "Any action"), *LookupRecord.Action.choices], required=False
    )
    outcome = forms.ChoiceField(
        choices=[("", "Any outcome"), *LookupRecord.Outcome.choices], required=False
    )
    source = forms.ChoiceField(
        choices=[("", "Any source"), *LookupRecord.Source.choices], required=False
    )
    agent = forms.CharField(required=False, max_length=200)
    reference = forms.CharField(required=False, max_length=200)
    conversation = forms.CharField(required=False, max_length=200)


def lookup_record_list(*, workspace: Workspace, filters: dict) -> QuerySet[LookupRecord]:
    records = LookupRecord.objects.filter(workspace=workspace)
    for name in ("action", "outcome", "source", "conversation"):
        if filters.get(name):
            records = records.filter(**{name: filters[name]})
    if filters.get("agent"):
        records = records.filter(actor_name__icontains=filters["agent"]) | records.filter(
            actor_id=filters["agent"]
        )
    if filters.get("reference"):
        records = records.filter(reference__icontains=filters["reference"])
    return records.order_by("-created_at", "-id")


@require_GET
@workspace_required
def history_page(request):
    form = HistoryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(
        lookup_record_list(workspace=request.workspace, filters=filters), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "history/history.html",
        {
            "tab": "history",
            "form": form,
            "page": page,
            "query": query.urlencode(),
        },
    )

"""The history's filters: one validated form for the page, its HTMX results and the export."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext

from accounts.models import Workspace
from accounts.selectors import account_list
from karla_sidebar.models import LookupRecord

from .selectors import REMOVED_PREFIX, UNSUCCESSFUL, removed_account_labels

SANE_DATES = [MinValueValidator(dt.date(2000, 1, 1)), MaxValueValidator(dt.date(2999, 12, 31))]

# The period shown when none is chosen: a week reads at a glance and keeps the page quick
# however long the history is (docs/performance.md, "History page").
DEFAULT_DAYS = 7
ALL_KEPT = "all"
CUSTOM = "custom"
PRESET_DAYS = {"": DEFAULT_DAYS, "30": 30}


def _date_field(label: str) -> forms.DateField:
    widget = forms.DateInput(attrs={"type": "date", "data-custom-date": ""}, format="%Y-%m-%d")
    return forms.DateField(label=label, required=False, widget=widget, validators=SANE_DATES)


def _text_field(label: str, placeholder: str) -> forms.CharField:
    widget = forms.TextInput(attrs={"placeholder": placeholder})
    return forms.CharField(label=label, required=False, max_length=200, widget=widget)


def _period_choices() -> list[tuple[str, str]]:
    days = settings.HISTORY_RETENTION_DAYS
    return [
        ("", gettext("Last 7 days")),
        ("30", gettext("Last 30 days")),
        (
            ALL_KEPT,
            ngettext("All kept (%(days)s day)", "All kept (%(days)s days)", days) % {"days": days},
        ),
        (CUSTOM, gettext("Custom dates")),
    ]


class HistoryFilterForm(forms.Form):
    period = forms.ChoiceField(
        label=gettext_lazy("Period"),
        required=False,
        widget=forms.Select(attrs={"data-period": ""}),
    )
    date_from = _date_field(gettext_lazy("From"))
    date_to = _date_field(gettext_lazy("To"))
    agent = _text_field(gettext_lazy("Agent"), gettext_lazy("Name or ID"))
    action = forms.ChoiceField(
        label=gettext_lazy("Action"),
        choices=[("", gettext_lazy("Any action")), *LookupRecord.Action.choices],
        required=False,
    )
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"),
        choices=[
            ("", gettext_lazy("Any outcome")),
            (UNSUCCESSFUL, gettext_lazy("Not found or failed")),
            *LookupRecord.Outcome.choices,
        ],
        required=False,
    )
    account = forms.ChoiceField(label=gettext_lazy("Account"), required=False)
    source = forms.ChoiceField(
        label=gettext_lazy("Source"),
        choices=[("", gettext_lazy("Any source")), *LookupRecord.Source.choices],
        required=False,
    )
    reference = _text_field(gettext_lazy("Reference"), gettext_lazy("Contains…"))
    conversation = _text_field(gettext_lazy("Conversation"), gettext_lazy("Conversation ID"))
    automatic = forms.BooleanField(
        label=gettext_lazy("Include automatic lookups"),
        required=False,
        help_text=gettext_lazy(
            "The sidebar's own: the customer's orders when a conversation opens, live cards "
            "updating themselves."
        ),
    )
    # The results region shows errors without re-rendering the fields: each field's error
    # element is always there (empty until needed) for the field's aria-describedby.
    errors_always_present = True

    def __init__(self, data: QueryDict, *, workspace: Workspace):
        if (data.get("date_from") or data.get("date_to")) and not data.get("period"):
            data = data.copy()  # a link with dates (older bookmarks too): custom dates
            data["period"] = CUSTOM
        super().__init__(data)
        self.fields["period"].choices = _period_choices()
        self.fields["account"].choices = account_choices(workspace=workspace)
        for field in self:
            described = [f"{field.auto_id}_error"]
            if field.help_text:
                described.insert(0, f"{field.auto_id}_helptext")
            field.field.widget.attrs["aria-describedby"] = " ".join(described)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", gettext("The end date is before the start date."))
        if start or end:
            cleaned["period"] = CUSTOM
        elif cleaned.get("period", "") in PRESET_DAYS:
            days = PRESET_DAYS[cleaned.get("period", "")]
            cleaned["date_from"] = timezone.localdate() - dt.timedelta(days=days - 1)
        return cleaned


def account_choices(*, workspace: Workspace) -> list[tuple[str, str]]:
    """The workspace's accounts, then the labels of removed accounts still in its history."""
    removed = removed_account_labels(workspace=workspace)
    return [
        ("", gettext("Any account")),
        *((str(account.pk), account.label) for account in account_list(workspace=workspace)),
        *(
            (f"{REMOVED_PREFIX}{label}", gettext("%(label)s (removed)") % {"label": label})
            for label in removed
        ),
    ]

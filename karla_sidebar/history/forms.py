"""The history's filters: one validated form for the page, its HTMX results and the export."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import QueryDict
from django.utils.translation import gettext, gettext_lazy

from accounts.models import Workspace
from accounts.selectors import account_list
from karla_sidebar.models import LookupRecord

from .selectors import REMOVED_PREFIX, UNSUCCESSFUL, removed_account_labels

SANE_DATES = [MinValueValidator(dt.date(2000, 1, 1)), MaxValueValidator(dt.date(2999, 12, 31))]


def _date_field(label: str) -> forms.DateField:
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    return forms.DateField(label=label, required=False, widget=widget, validators=SANE_DATES)


def _text_field(label: str, placeholder: str) -> forms.CharField:
    widget = forms.TextInput(attrs={"placeholder": placeholder})
    return forms.CharField(label=label, required=False, max_length=200, widget=widget)


class HistoryFilterForm(forms.Form):
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

    def __init__(self, data: QueryDict, *, workspace: Workspace):
        super().__init__(data)
        self.fields["account"].choices = account_choices(workspace=workspace)
        for field in self:
            field.field.widget.attrs["aria-describedby"] = f"{field.auto_id}-error"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", gettext("The end date is before the start date."))
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

"""The CSV export of the filtered history, streamed so that memory stays flat."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from accounts.models import Workspace

from .selectors import lookup_record_list

EXPORT_CHUNK = 2000
EXPORT_COLUMNS = (
    (gettext_lazy("Time"), "created_at"),
    (gettext_lazy("Source"), "source"),
    (gettext_lazy("Agent ID"), "actor_id"),
    (gettext_lazy("Agent name"), "actor_name"),
    (gettext_lazy("Conversation"), "conversation"),
    (gettext_lazy("Action"), "action"),
    (gettext_lazy("Reference"), "reference"),
    (gettext_lazy("Account"), "account_label"),
    (gettext_lazy("Outcome"), "outcome"),
    (gettext_lazy("Summary"), "summary"),
    (gettext_lazy("GoKarla status"), "upstream_status"),
    (gettext_lazy("Latency ms"), "latency_ms"),
    (gettext_lazy("Cached"), "cached"),
    (gettext_lazy("Stale"), "stale"),
    (gettext_lazy("Found via"), "resolved_by"),
    (gettext_lazy("Automatic"), "automatic"),
)
# A spreadsheet runs a cell starting with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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

    Everything that depends on the request is settled here, before the lines are written:
    the rows' bounds (days in the current time zone), the zone the times are written in and
    the words of the header and of yes and no (the current language). A streaming response
    writes its lines after the view has returned, when neither is active any more.

    Starts with a UTF-8 byte order mark so that spreadsheets read names with accents right.
    """
    rows = lookup_record_list(workspace=workspace, filters=filters).values_list(
        *(field for _, field in EXPORT_COLUMNS)
    )
    header = [str(title) for title, _ in EXPORT_COLUMNS]
    yes_no = (gettext("no"), gettext("yes"))
    return _lines(rows, header, timezone.get_current_timezone(), yes_no)


def _lines(
    rows: QuerySet, header: list[str], zone: dt.tzinfo, yes_no: tuple[str, str]
) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)
    for (
        created_at,
        *texts,
        status,
        latency_ms,
        cached,
        stale,
        resolved_by,
        automatic,
    ) in rows.iterator(chunk_size=EXPORT_CHUNK):
        yield writer.writerow(
            [
                timezone.localtime(created_at, zone).isoformat(timespec="seconds"),
                *(_cell(text) for text in texts),
                "" if status is None else status,
                latency_ms,
                yes_no[cached],
                yes_no[stale],
                resolved_by,
                yes_no[automatic],
            ]
        )

"""The CSV export of the filtered history, streamed so that memory stays flat."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from typing import Any

from django.utils import timezone

from accounts.models import Workspace

from .selectors import lookup_record_list

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
    ("Stale", "stale"),
    ("Found via", "resolved_by"),
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

    Starts with a UTF-8 byte order mark so that spreadsheets read names with accents right.
    """
    writer = csv.writer(_Echo())
    rows = (
        lookup_record_list(workspace=workspace, filters=filters)
        .values_list(*(field for _, field in EXPORT_COLUMNS))
        .iterator(chunk_size=EXPORT_CHUNK)
    )
    yield "\ufeff" + writer.writerow([title for title, _ in EXPORT_COLUMNS])
    for created_at, *texts, status, latency_ms, cached, stale, resolved_by in rows:
        yield writer.writerow(
            [
                timezone.localtime(created_at).isoformat(timespec="seconds"),
                *(_cell(text) for text in texts),
                "" if status is None else status,
                latency_ms,
                "yes" if cached else "no",
                "yes" if stale else "no",
                resolved_by,
            ]
        )

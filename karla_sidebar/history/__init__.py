"""The lookup history for support leads and admins: who looked up what, when, with what outcome.

Reads are selectors that take the workspace (``lookup_record_list``, ``lookup_summary``,
``lookups_per_day``), so every query is scoped in one place. The page, its HTMX results
region and the CSV export all filter through ``lookup_record_list`` with the same validated
``HistoryFilterForm``, so they always count the same rows.

Dates in filters are days in the viewer's time zone (``accounts.timezones``; else
``TIME_ZONE``): "from" is that day's midnight and "to" includes the whole day.

``forms`` holds the filters, ``selectors`` the reads, ``chart`` the chart's geometry,
``export`` the CSV, ``services`` the retention purge and ``views`` the page and the export.
"""

from .services import lookup_record_purge
from .views import history_export, history_page

__all__ = ["history_export", "history_page", "lookup_record_purge"]

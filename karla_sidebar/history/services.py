"""Writes to the lookup history: the retention purge (run by ``manage.py purge_history``)."""

from __future__ import annotations

import datetime as dt

from karla_sidebar.models import LookupRecord


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

"""Delete lookup history older than HISTORY_RETENTION_DAYS, for every workspace. Run daily:

    python manage.py purge_history [--dry-run]

``--dry-run`` only counts what would be deleted.
"""

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from karla_sidebar.history import lookup_record_purge


class Command(BaseCommand):
    help = "Delete lookup history records older than HISTORY_RETENTION_DAYS (run it daily)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="only count the records that would be deleted"
        )

    def handle(self, *args, dry_run: bool, **options):
        days = settings.HISTORY_RETENTION_DAYS
        cutoff = timezone.now() - dt.timedelta(days=days)
        unit = "day" if days == 1 else "days"
        when = f"older than {days} {unit} (before {cutoff:%Y-%m-%d %H:%M %Z})"
        count = lookup_record_purge(older_than=cutoff, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        records = "lookup record" if count == 1 else "lookup records"
        self.stdout.write(f"{verb} {count} {records} {when}.")

"""Index the shipments of GoKarla orders changed since the last run, for every account:

    python manage.py sync_gokarla [--account ID] [--since ISO-8601] [--backfill-days N]

Safe to run from cron on every server: one runner at a time works on an account (the others
say so and skip it). Prints a line per page and a summary per account and in total. Exit
codes: 0 every account synced (or skipped because another runner has it), 1 an account failed
(the reason is printed; the next run resumes where it stopped), 2 bad options.
"""

import argparse
from collections import Counter
from datetime import UTC, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from accounts.listing import accounts_described
from karla_sidebar.sync import (
    DEFAULT_BACKFILL_DAYS,
    PLACED_FROM,
    PageSynced,
    SyncOutcome,
    SyncReport,
    shipment_sync_run,
    sync_accounts,
    sync_runner_name,
)

USAGE_ERROR = 2


def _moment(value: str) -> datetime:
    """An ISO 8601 date-time or date; UTC when it names no offset; not in the future."""
    try:
        moment = parse_datetime(value.strip())
        if moment is None and (day := parse_date(value.strip())) is not None:
            moment = datetime.combine(day, time())
    except ValueError:
        moment = None
    if moment is None:
        raise argparse.ArgumentTypeError(
            "expected an ISO 8601 date or date-time, such as 2026-11-30 or 2026-11-30T08:00:00Z"
        )
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    if moment > timezone.now():
        raise argparse.ArgumentTypeError("is in the future")
    return moment


def _days(value: str) -> int:
    days = int(value)
    if not 1 <= days <= 3650:
        raise argparse.ArgumentTypeError("must be 1 to 3650")
    return days


def _name(report: SyncReport | PageSynced) -> str:
    account = report.account
    return f"{account.label} (account {account.pk}, workspace {account.workspace.slug})"


def _asked(report: SyncReport) -> str:
    if report.since is None:
        return ""
    what = "orders placed" if report.filter == PLACED_FROM else "orders with shipments changed"
    asked = f"{what} since {report.since.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
    return asked + (f", resumed at page {report.first_page}" if report.first_page > 1 else "")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _done(report: SyncReport) -> str:
    return (
        f"{_count(report.orders, 'order')}, {_count(report.shipments, 'shipment')} indexed in "
        f"{_count(report.pages, 'page')} ({_asked(report)})"
    )


def _summary(report: SyncReport) -> str:
    if report.outcome == SyncOutcome.SYNCED:
        return f"{_name(report)}: synced {_done(report)}."
    if report.outcome == SyncOutcome.SKIPPED:
        if report.since is None:  # never started: another runner had the lease
            return f"{_name(report)}: skipped: {report.message}."
        return f"{_name(report)}: stopped: {report.message}; {_done(report)}."
    page = report.first_page + report.pages
    line = f"{_name(report)}: failed at page {page}: {report.message}"
    if report.pages:
        line += f" Before that: {_done(report)}."
    if page > 1:
        line += f" The next run resumes at page {page}."
    return line


class Command(BaseCommand):
    help = (
        "Index the shipments of GoKarla orders changed since the last run (first run: the "
        "orders placed in the last --backfill-days). One runner per account across servers."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--account", type=int, metavar="ID", help="only this GoKarla account (its id)"
        )
        parser.add_argument(
            "--since",
            type=_moment,
            metavar="ISO-8601",
            help="ask for the orders whose shipments changed since this moment (UTC unless it "
            "names an offset), instead of since the last run; starts the run afresh",
        )
        parser.add_argument(
            "--backfill-days",
            type=_days,
            default=DEFAULT_BACKFILL_DAYS,
            metavar="N",
            help="an account's first run indexes the orders placed in the last N days "
            f"(default {DEFAULT_BACKFILL_DAYS})",
        )

    def handle(self, *args, account, since, backfill_days, verbosity, **options):
        accounts = sync_accounts(account_id=account)
        if account is not None and not accounts:
            raise CommandError(
                f"No GoKarla account with id {account}. {accounts_described()}",
                returncode=USAGE_ERROR,
            )
        say = self.stdout.write if verbosity >= 1 else (lambda line: None)
        if not accounts:
            say("No GoKarla accounts to sync.")
            return
        runner = sync_runner_name()

        def progress(page: PageSynced) -> None:
            say(
                f"{_name(page)}: page {page.page}: {_count(page.orders, 'order')}, "
                f"{_count(page.shipments, 'shipment')} indexed"
            )

        reports = []
        for each in accounts:
            report = shipment_sync_run(
                account=each,
                runner=runner,
                since=since,
                backfill_days=backfill_days,
                on_page=progress,
            )
            say(_summary(report))
            reports.append(report)
        failed = [report for report in reports if report.outcome == SyncOutcome.FAILED]
        counts = Counter(report.outcome for report in reports)
        say(
            f"Sync done: {counts[SyncOutcome.SYNCED]} synced, {counts[SyncOutcome.SKIPPED]} "
            f"skipped, {counts[SyncOutcome.FAILED]} failed; "
            f"{_count(sum(r.orders for r in reports), 'order')}, "
            f"{_count(sum(r.shipments for r in reports), 'shipment')} indexed."
        )
        if failed:
            reasons = "; ".join(f"{r.account.label}: {r.message}" for r in failed)
            accounts_failed = "1 account" if len(failed) == 1 else f"{len(failed)} accounts"
            raise CommandError(f"Sync failed for {accounts_failed}. {reasons}")

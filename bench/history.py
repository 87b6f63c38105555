"""How fast the lookup history page renders and how the CSV export streams, at 100 000 rows.

Sets Django up with the test settings against a temporary SQLite file (or, with
``--postgres URL``, a scratch database on that PostgreSQL server), migrates, seeds
``--records`` lookups for one workspace spread over 90 days (plus a tenth as many for a
second workspace, so the workspace filter has something to skip), then, as a signed-in
support lead through Django's test ``Client``:

1. renders the history page (full page and the HTMX results partial) unfiltered and with a
   few filters: the median of ``--runs`` runs, in milliseconds of wall time and of this
   process's CPU time (which includes SQLite's work, not PostgreSQL's; on a shared machine
   the CPU figure is the steadier one);
2. streams the CSV export end to end, for about a tenth of the rows and for all of them:
   time, bytes, and the peak of Python allocations (``tracemalloc``, in a separate run so
   that tracing does not inflate the time). The peak stays flat as the rows grow tenfold.

Usage: ``.venv/bin/python bench/history.py [--records 100000] [--runs 15] [--postgres URL]``.
Targets: the page
under 200 ms; the export at constant memory. A figure, not a test: speed is measured by
benchmarks, never asserted by timed unit tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BATCH = 5000
DAYS = 90
STATUS = {
    "not_found": 200,
    "no_tracking_yet": 200,
    "credentials_rejected": 401,
    "access_denied": 403,
    "rate_limited": 429,
    "unavailable": 503,
    "unexpected_response": 200,
}


@contextmanager
def temporary_database(postgres: str | None) -> Iterator[None]:
    """Point Django at a fresh SQLite file, or at a new database on the PostgreSQL server
    ``postgres`` (created here and dropped afterwards)."""
    if not postgres:
        with tempfile.TemporaryDirectory() as folder:
            os.environ["SQLITE_PATH"] = str(Path(folder) / "bench.sqlite3")
            yield
        return
    import psycopg

    name = f"karla_bench_history_{os.getpid()}"
    with psycopg.connect(postgres, autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlsplit(postgres)._replace(path=f"/{name}").geturl()
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(postgres, autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}"')


def setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django
    from django.conf import settings

    django.setup()
    # The test client's host name. (Not setup_test_environment(): its instrumented template
    # rendering, which copies the context for every template, would double the page time.)
    settings.ALLOWED_HOSTS.append("testserver")


@contextmanager
def explicit_created_at():
    """Let bulk_create keep the seeded times (``created_at`` is ``auto_now_add``)."""
    from karla_sidebar.models import LookupRecord

    field = LookupRecord._meta.get_field("created_at")
    field.auto_now_add = False
    try:
        yield
    finally:
        field.auto_now_add = True


def seed(records: int):
    """Two workspaces, a lead in the first, and ``records`` lookups over DAYS days."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import GoKarlaAccount, Membership, Workspace
    from karla_sidebar.models import LookupRecord

    call_command("migrate", verbosity=0)
    acme = Workspace.objects.create(slug="acme", name="Acme")
    globex = Workspace.objects.create(slug="globex", name="Globex")
    lead = get_user_model().objects.create_user(username="lead")
    Membership.objects.create(user=lead, workspace=acme, role=Membership.Role.LEAD)
    shop, outlet = (
        GoKarlaAccount.objects.create(
            workspace=acme,
            label=label,
            url="https://x.gokarla.io",
            username=label,
            api_token=secrets.token_urlsafe(),  # never used: the bench only reads history
        )
        for label in ("Demo Shop", "Demo Outlet")
    )
    rng = random.Random(7)
    outcomes = LookupRecord.Outcome.values
    weights = [{"found": 80, "not_found": 9}.get(outcome, 1) for outcome in outcomes]
    now = timezone.now()
    span = DAYS * 86400

    def record(workspace, n: int) -> LookupRecord:
        account = rng.choice((shop, shop, shop, outlet, None))
        agent = rng.randrange(40)
        return LookupRecord(
            workspace=workspace,
            source=rng.choice(("sidebar", "sidebar", "sidebar", "workflow")),
            actor_id=f"a-{agent}",
            actor_name=f"Agent {agent}",
            conversation=f"c-{rng.randrange(records // 4 or 1)}",
            action=(action := rng.choice(("order", "order", "shipment", "customer_orders"))),
            reference=str(1000 + rng.randrange(50000)),
            account=account,
            account_label=account.label if account else rng.choice(("", "", "Old Shop")),
            outcome=(outcome := rng.choices(outcomes, weights)[0]),
            summary="#1001 · In transit" if outcome == "found" else "",
            upstream_status=STATUS.get(outcome),
            latency_ms=int(rng.lognormvariate(5, 0.8)),
            cached=rng.random() < 0.2,
            # The customer's orders at a conversation's opening, and a few live-card refreshes.
            automatic=action == "customer_orders" or rng.random() < 0.05,
            created_at=now - dt.timedelta(seconds=span * n / records + rng.random()),
        )

    with explicit_created_at():
        for workspace, count in ((acme, records), (globex, records // 10)):
            for start in range(0, count, BATCH):
                batch = [record(workspace, n) for n in range(start, min(start + BATCH, count))]
                LookupRecord.objects.bulk_create(batch)
    return lead, shop


def measure(client, url: str, runs: int, **headers) -> tuple[float, float, float]:
    """Wall and CPU milliseconds of ``runs`` GETs: the median wall time, the median CPU time
    of this process (which runs SQLite too), and the least CPU time, which is what the page
    costs on a quiet machine (on a shared one, contention inflates even CPU time)."""
    wall, cpu = [], []
    client.get(url, **headers)  # not timed: warms the database's cache for this case
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, **headers)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    return statistics.median(wall), statistics.median(cpu), min(cpu)


def stream(client, url: str) -> tuple[int, int]:
    """Read the whole export; (rows, bytes)."""
    response = client.get(url)
    if response.status_code != 200 or not response.streaming:
        raise SystemExit(f"{url} answered {response.status_code}, streaming={response.streaming}")
    size = rows = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        rows += chunk.count(b"\n")
    response.close()
    return rows - 1, size


def export(client, url: str) -> tuple[int, int, float, float]:
    started = time.perf_counter()
    rows, size = stream(client, url)
    seconds = time.perf_counter() - started
    tracemalloc.start()
    stream(client, url)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return rows, size, seconds, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run on this PostgreSQL server instead of SQLite, e.g. "
        "postgres://postgres@127.0.0.1:5432/postgres (a scratch database is created and dropped)",
    )
    options = parser.parse_args()
    with temporary_database(options.postgres):
        setup_django()
        run(records=options.records, runs=options.runs)


def run(*, records: int, runs: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from karla_sidebar.models import LookupRecord

    started = time.perf_counter()
    lead, shop = seed(records)
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load: statistics for the planner, and the
        # visibility map that lets index-only scans skip the table.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {LookupRecord._meta.db_table}")
    gc.collect()  # seeding made 110 000 model objects; do not time their collection
    seconds = time.perf_counter() - started
    print(f"{connection.vendor}: seeded {records:,} records in {seconds:.1f} s")
    client = Client()
    client.force_login(lead)
    page = "/settings/integrations/gokarla/history/"
    week_ago = (timezone.localdate() - dt.timedelta(days=6)).isoformat()
    cases = [
        ("unfiltered (the last 7 days)", ""),
        ("unfiltered, page 40", "?page=40"),
        ("last 30 days", "?period=30"),
        ("all kept (90 days)", "?period=all"),
        ("all kept, automatic included", "?period=all&automatic=on"),
        ("outcome: not found or failed", "?outcome=unsuccessful"),
        ("outcome timeout + action order, all", "?outcome=timeout&action=order&period=all"),
        ("agent a-7, from a week ago", f"?agent=a-7&date_from={week_ago}"),
        ("account Demo Shop + source sidebar", f"?account={shop.pk}&source=sidebar"),
        ("reference contains 4242, all", "?reference=4242&period=all"),
        ("conversation c-42, all", "?conversation=c-42&period=all"),
    ]
    print(f"\nhistory page, {runs} runs each: median wall ms, median CPU ms, least CPU ms")
    print(f"{'filters':<40} {'full page':>22}  {'htmx partial':>22}")
    for name, query in cases:
        full = measure(client, page + query, runs)
        partial = measure(client, page + query, runs, HTTP_HX_REQUEST="true")
        cells = "  ".join(
            "{:>6.1f} {:>7.1f} {:>7.1f}".format(*figures) for figures in (full, partial)
        )
        print(f"{name:<40} {cells}")

    print(f"\n{'CSV export':<40} {'rows':>8} {'MB':>7} {'time':>8} {'peak':>9}")
    tenth = (timezone.localdate() - dt.timedelta(days=DAYS // 10 - 1)).isoformat()
    for name, query in (("last 9 days", f"?date_from={tenth}"), ("everything", "?period=all")):
        rows, size, seconds, peak = export(client, page + "export.csv" + query)
        print(f"{name:<40} {rows:>8,} {size / 2**20:>7.1f} {seconds:>6.2f} s {peak:>6.2f} MB")


if __name__ == "__main__":
    main()

"""The Django side of ``bench/sync.py``: small tasks run with exactly the profile's environment.

``bench/sync.py`` never imports Django (it measures two database profiles, and one process can
be set up only once), so it runs this script as a subprocess. Each task prints one JSON
document on stdout; Django's own logging goes to stderr.

Tasks:

- ``setup --sandbox-url URL``: two workspaces, connected through the real Connect use case:
  ``timed`` (the sandbox's demo-shop and demo-outlet) and ``traced`` (demo-shop again);
  prints their account ids.
- ``trace --account ID --backfill-days N``: an account's first sync, run through the sync
  service in this process with ``tracemalloc`` on: per page, the orders and shipments, the
  peak of Python allocations during the page (reset after each), what stays allocated after
  it, and the process's resident memory.
- ``count --account ID``: the account's shipment index entries.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SHOPS = {
    "demo-shop": ("karla-demo-token", "Demo Shop"),
    "demo-outlet": ("karla-outlet-token", "Demo Outlet"),
}


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "karla_sidebar.settings")
    import django

    django.setup()


def setup(sandbox_url: str) -> dict:
    from accounts.models import Workspace
    from accounts.services import account_connect

    def connect(workspace, username: str) -> int:
        token, label = SHOPS[username]
        account = account_connect(
            workspace=workspace, url=sandbox_url, username=username, token=token, label=label
        )
        return account.pk

    timed = Workspace.objects.create(slug="bench-sync", name="Bench Sync")
    traced = Workspace.objects.create(slug="bench-traced", name="Bench Traced")
    return {
        "timed": {
            "demo-shop": connect(timed, "demo-shop"),
            "demo-outlet": connect(timed, "demo-outlet"),
        },
        "traced": connect(traced, "demo-shop"),
    }


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def trace(account_id: int, backfill_days: int) -> dict:
    from accounts.models import GoKarlaAccount
    from karla_sidebar.sync import PageSynced, shipment_sync_run, sync_runner_name

    account = GoKarlaAccount.objects.select_related("workspace").get(pk=account_id)
    pages = []
    tracemalloc.start()
    started = last = time.perf_counter()

    def measure(page: PageSynced) -> None:
        nonlocal last
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        now = time.perf_counter()
        pages.append(
            {
                "page": page.page,
                "orders": page.orders,
                "shipments": page.shipments,
                "seconds": now - last,
                "traced_peak_kb": peak / 1024,
                "traced_current_kb": current / 1024,
                "rss_kb": _rss_kb(),
            }
        )
        last = now

    report = shipment_sync_run(
        account=account,
        runner=sync_runner_name(),
        backfill_days=backfill_days,
        on_page=measure,
    )
    tracemalloc.stop()
    return {
        "outcome": str(report.outcome),
        "message": report.message,
        "orders": report.orders,
        "shipments": report.shipments,
        "seconds": time.perf_counter() - started,
        "pages": pages,
    }


def count(account_id: int) -> dict:
    from karla_sidebar.models import ShipmentIndexEntry

    return {"entries": ShipmentIndexEntry.objects.filter(account_id=account_id).count()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    tasks = parser.add_subparsers(dest="task", required=True)
    task = tasks.add_parser("setup")
    task.add_argument("--sandbox-url", required=True)
    task = tasks.add_parser("trace")
    task.add_argument("--account", type=int, required=True)
    task.add_argument("--backfill-days", type=int, required=True)
    task = tasks.add_parser("count")
    task.add_argument("--account", type=int, required=True)
    options = parser.parse_args()

    _django()
    if options.task == "setup":
        result = setup(options.sandbox_url)
    elif options.task == "trace":
        result = trace(options.account, options.backfill_days)
    else:
        result = count(options.account)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

"""The Django side of ``bench/run.py``: small tasks run with exactly the app's environment.

``bench/run.py`` never imports Django itself (it benchmarks two database profiles, and one
process can only be set up once), so it runs this script as a subprocess with the profile's
environment (production settings, the profile's database and cache). Each task prints one
JSON document on stdout; Django's own logging goes to stderr.

Tasks:

- ``setup --sandbox-url URL --agents N``: a workspace with the sandbox's demo-shop connected
  through the real Connect use case (``account_connect``), a workflow API key
  (``api_key_create``), and N + 1 launch tokens minted as ArminCX does
  (``launch_token_mint``); the last one carries ``customer_email`` for the first-load test.
  The account is synced once (``sync_gokarla``'s service, 90 days back), so the shipment index
  knows every tracking number, as webhooks and the sync keep it in production.
- ``floor --sandbox-url URL --lookups N``: the GoKarla client alone, ``order_find("1001")``
  against the sandbox, sequential over one kept-alive connection: N latencies in ms, and the
  client's own CPU per call.
- ``count``: how many ``LookupRecord`` rows the history holds, in all, by actor (agent id or
  API key) and by outcome (``bench/soak.py`` compares them with the requests it made).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEMO_SHOP = {"username": "demo-shop", "token": "karla-demo-token"}  # the sandbox's demo shop
FIRST_LOAD_EMAIL = "jane@example.com"  # a customer with orders in the sandbox
FLOOR_REFERENCE = "1001"
FLOOR_WARMUP = 10


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "karla_sidebar.settings")
    import django

    django.setup()


def setup(sandbox_url: str, agents: int) -> dict:
    from django.conf import settings

    from accounts.api_keys import api_key_create
    from accounts.models import Workspace
    from accounts.services import account_connect
    from karla_sidebar.armincx import launch_token_mint
    from karla_sidebar.launch import MAX_LIFETIME_SECONDS

    workspace = Workspace.objects.create(slug="bench", name="Bench Workspace")
    account = account_connect(
        workspace=workspace,
        url=sandbox_url,
        username=DEMO_SHOP["username"],
        token=DEMO_SHOP["token"],
        label="Demo Shop",
    )
    _, api_key = api_key_create(workspace=workspace, name="bench")
    _index_every_shipment(account)

    def mint(number: int, **extra: str) -> str:
        return launch_token_mint(
            workspace=workspace,
            agent_id=f"bench-{number}",
            agent_name=f"Bench Agent {number}",
            conversation=f"bench-c-{number}",
            ttl_seconds=MAX_LIFETIME_SECONDS,
            **extra,
        )

    return {
        "workspace": workspace.slug,
        "account_id": account.pk,
        "api_key": api_key,
        "launch_tokens": [mint(number) for number in range(agents)],
        "first_load_token": mint(agents, customer_email=FIRST_LOAD_EMAIL),
        "tokens_valid_seconds": MAX_LIFETIME_SECONDS,
        "breaker_cooldown_seconds": settings.BREAKER_COOLDOWN_SECONDS,
    }


def _index_every_shipment(account) -> None:
    from karla_sidebar.sync import shipment_sync_run, sync_runner_name

    shipment_sync_run(account=account, runner=sync_runner_name(), backfill_days=90)


def floor(sandbox_url: str, lookups: int) -> dict:
    from accounts.connection import endpoint_candidates, gokarla_client

    username = DEMO_SHOP["username"]
    client = gokarla_client(
        endpoint_candidates(sandbox_url, username=username).endpoints[0],
        username=username,
        token=DEMO_SHOP["token"],
    )
    for _ in range(FLOOR_WARMUP):
        client.order_find(FLOOR_REFERENCE)
    timings = []
    cpu_before = time.thread_time()
    for _ in range(lookups):
        started = time.perf_counter()
        client.order_find(FLOOR_REFERENCE)
        timings.append((time.perf_counter() - started) * 1000)
    cpu = time.thread_time() - cpu_before
    return {"ms": timings, "client_cpu_ms_per_call": cpu * 1000 / lookups}


def count() -> dict:
    from django.db.models import Count

    from karla_sidebar.models import LookupRecord

    def grouped(column: str) -> dict[str, int]:
        rows = LookupRecord.objects.values_list(column).annotate(n=Count("pk")).order_by()
        return {str(value): n for value, n in rows}

    return {
        "lookup_records": LookupRecord.objects.count(),
        "by_actor": grouped("actor_id"),
        "by_outcome": grouped("outcome"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    tasks = parser.add_subparsers(dest="task", required=True)
    task = tasks.add_parser("setup")
    task.add_argument("--sandbox-url", required=True)
    task.add_argument("--agents", type=int, required=True)
    task = tasks.add_parser("floor")
    task.add_argument("--sandbox-url", required=True)
    task.add_argument("--lookups", type=int, required=True)
    tasks.add_parser("count")
    options = parser.parse_args()

    _django()
    if options.task == "setup":
        result = setup(options.sandbox_url, options.agents)
    elif options.task == "floor":
        result = floor(options.sandbox_url, options.lookups)
    else:
        result = count()
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

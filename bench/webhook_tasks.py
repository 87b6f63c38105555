"""The Django side of ``bench/webhooks.py``: small tasks run with exactly the profile's
environment (it never imports Django itself: one process can be set up only once). Each task
prints one JSON document on stdout; Django's own logging goes to stderr.

Tasks:

- ``setup --sandbox-url URL``: a workspace with the sandbox's demo-shop connected through the
  real Connect use case, ``PUBLIC_BASE_URL`` set so that Connect registers the webhook at the
  sandbox (with a secret made here, as in production); prints the account id, its webhook id
  and the secret, which the load generator signs with as GoKarla would.
- ``count --account ID``: the tracking numbers the account's index holds from webhooks, and
  how many deliveries it has taken in.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEMO_SHOP = ("demo-shop", "karla-demo-token")  # the sandbox's documented demo key
# Where GoKarla would deliver: only registered, never called (the benchmark delivers itself).
PUBLIC_BASE_URL = "https://karla-bench.invalid"


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "karla_sidebar.settings")
    os.environ["PUBLIC_BASE_URL"] = PUBLIC_BASE_URL
    import django

    django.setup()


def setup(sandbox_url: str) -> dict:
    from accounts.models import GoKarlaAccount, Workspace
    from accounts.services import account_connect

    workspace = Workspace.objects.create(slug="bench-webhooks", name="Bench Webhooks")
    username, token = DEMO_SHOP
    account = account_connect(
        workspace=workspace, url=sandbox_url, username=username, token=token, label="Demo Shop"
    )
    account = GoKarlaAccount.objects.get(pk=account.pk)
    if account.webhook_status != GoKarlaAccount.WebhookStatus.ACTIVE:
        raise SystemExit(f"the webhook was not registered: {account.webhook_note}")
    return {
        "account_id": account.pk,
        "webhook_id": account.webhook_id,
        "secret": account.webhook_secret,
    }


def count(account_id: int) -> dict:
    from karla_sidebar.models import ShipmentIndexEntry, WebhookDelivery

    entries = ShipmentIndexEntry.objects.filter(account_id=account_id, source="webhook")
    return {
        "tracking_numbers": list(entries.values_list("tracking_number", flat=True)),
        "deliveries": WebhookDelivery.objects.filter(account_id=account_id).count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    tasks = parser.add_subparsers(dest="task", required=True)
    tasks.add_parser("setup").add_argument("--sandbox-url", required=True)
    tasks.add_parser("count").add_argument("--account", type=int, required=True)
    options = parser.parse_args()

    _django()
    result = setup(options.sandbox_url) if options.task == "setup" else count(options.account)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

"""Talk to GoKarla from the command line, exactly as Connect and the sidebar do.

    KARLA_API_TOKEN=… python manage.py karla verify --url URL --username U [--shop-slug S]
    KARLA_API_TOKEN=… python manage.py karla order 1001 --url URL --username U [--shop-slug S]

The token comes from the environment only, so it never lands in shell history or `ps`.
``verify`` tries the API roots the URL leads to, as Connect does, and prints the one that
answered with the shop; ``order`` prints the normalized order as JSON (the workflow API's
shape). GoKarla's problem is printed in plain words with exit code 1. GoKarla has no shipment
lookup of its own: shipments are found through the app's shipment index (the sidebar).
"""

import json
import os

from django.core.management.base import BaseCommand, CommandError

from accounts.connection import endpoint_candidates, first_answering, gokarla_client
from karla_sidebar.gokarla import GoKarlaError
from karla_sidebar.serializers import order_json


class Command(BaseCommand):
    help = "Verify GoKarla credentials or look up an order (token in KARLA_API_TOKEN)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "order"])
        parser.add_argument("reference", nargs="?", help="order reference (for `order`)")
        parser.add_argument(
            "--url", required=True, help="the GoKarla URL, e.g. https://your-shop.gokarla.io"
        )
        parser.add_argument("--username", required=True, help="the API key's username")
        parser.add_argument(
            "--shop-slug", default="", help="the shop's slug, when it is not the username's"
        )

    def handle(self, *args, action, reference, url, username, shop_slug, **options):
        token = os.environ.get("KARLA_API_TOKEN", "").strip()
        if not token:
            raise CommandError("Set the API token in the environment variable KARLA_API_TOKEN.")
        if action == "order" and not reference:
            raise CommandError("Give the order reference, e.g. `karla order 1001`.")
        try:
            candidates = endpoint_candidates(url, username=username, shop_slug=shop_slug)
            endpoint, shop = first_answering(candidates.endpoints, username=username, token=token)
            if action == "verify":
                result = {
                    "slug": endpoint.shop_slug,
                    "name": shop.name,
                    "api_root": endpoint.api_root,
                }
            else:
                client = gokarla_client(endpoint, username=username, token=token)
                orders = client.order_find(reference)
                result = (
                    order_json(orders[0]) if len(orders) == 1 else [order_json(o) for o in orders]
                )
        except GoKarlaError as error:
            raise CommandError(error.message) from None
        self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))

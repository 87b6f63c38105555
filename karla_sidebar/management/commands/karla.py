"""Talk to GoKarla from the command line, exactly as the sidebar does.

    KARLA_API_TOKEN=… python manage.py karla verify --url URL --username U
    KARLA_API_TOKEN=… python manage.py karla order 1001 --url URL --username U
    KARLA_API_TOKEN=… python manage.py karla shipment 00340434161094042557 --url URL --username U

The token comes from the environment only, so it never lands in shell history or `ps`.
Prints the normalized record as JSON (the workflow API's shape), or GoKarla's problem in plain
words with exit code 1.
"""

import json
import os

from django.core.management.base import BaseCommand, CommandError

from karla_sidebar.gokarla import GoKarlaClient, GoKarlaError, endpoint_from_url
from karla_sidebar.serializers import order_json, shipment_json


class Command(BaseCommand):
    help = "Verify GoKarla credentials or look up an order or shipment (token in KARLA_API_TOKEN)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "order", "shipment"])
        parser.add_argument("reference", nargs="?", help="order or shipment reference")
        parser.add_argument(
            "--url", required=True, help="the GoKarla URL, e.g. https://shop.gokarla.io"
        )
        parser.add_argument(
            "--username", required=True, help="the API username (usually the shop slug)"
        )

    def handle(self, *args, action, reference, url, username, **options):
        token = os.environ.get("KARLA_API_TOKEN", "").strip()
        if not token:
            raise CommandError("Set the API token in the environment variable KARLA_API_TOKEN.")
        if action != "verify" and not reference:
            raise CommandError(f"Give the {action} reference, e.g. `karla {action} 1001`.")
        try:
            client = GoKarlaClient(
                endpoint_from_url(url, username=username), username=username, token=token
            )
            if action == "verify":
                shop = client.verify()
                result = {"slug": shop.slug, "name": shop.name}
            elif action == "order":
                orders = client.order_find(reference)
                result = (
                    order_json(orders[0]) if len(orders) == 1 else [order_json(o) for o in orders]
                )
            else:
                result = shipment_json(client.shipment_get(reference))
        except GoKarlaError as error:
            raise CommandError(error.message) from None
        self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))

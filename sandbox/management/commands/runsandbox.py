"""``manage.py runsandbox``: serve the stand-in GoKarla API in the foreground until Ctrl-C.

Demo only: the app accepts the sandbox origin as a GoKarla URL only while ``SANDBOX_ENABLED``.
The server is the standard library's (see ``sandbox.server``), not Django's, so that it costs
benchmarks nothing; the command only parses options and prints where it listens.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sandbox.generated import COUNT as GENERATED_ORDERS
from sandbox.server import make_server


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return number


def _positive_seconds(value: str) -> float:
    seconds = float(value)
    if not seconds > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return seconds


class Command(BaseCommand):
    help = "Serve the GoKarla sandbox (demo data, webhooks, fault triggers) until Ctrl-C."
    # No database and no system checks: the sandbox starts in a blink and needs neither.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Interface (default 127.0.0.1).")
        parser.add_argument(
            "--port", type=_non_negative, default=8001, help="Port (default 8001; 0 picks one)."
        )
        parser.add_argument(
            "--latency-ms",
            type=_non_negative,
            default=0,
            help="Sleep this many milliseconds before every answer (default 0).",
        )
        parser.add_argument(
            "--envelope",
            action="store_true",
            help='Wrap every 2xx JSON body as {"data": ..., "metadata": ...} (default: bare).',
        )
        parser.add_argument(
            "--advance-every",
            type=_positive_seconds,
            default=None,
            metavar="SECONDS",
            help="Every SECONDS, move one unfinished demo-shop shipment one step along "
            "(delivering its webhooks).",
        )
        parser.add_argument(
            "--generated-orders",
            type=_non_negative,
            default=GENERATED_ORDERS,
            metavar="N",
            help=f"How many generated demo-shop orders to serve besides the hand-written ones "
            f"(default {GENERATED_ORDERS}; a benchmark asks for 10000).",
        )
        parser.add_argument(
            "--verbose", action="store_true", help="Print each request line and status."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        log = self._log if options["verbose"] else None
        try:
            server = make_server(
                options["host"],
                options["port"],
                options["latency_ms"],
                log=log,
                envelope=options["envelope"],
                advance_every=options["advance_every"],
                generated_orders=options["generated_orders"],
            )
        except OSError as error:
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']}: {error}"
            ) from error
        self.stdout.write(
            f"GoKarla sandbox listening on {server.url} (API roots {server.url}/api/v1 and "
            f"{server.url}/v1); Ctrl-C to stop.",
        )
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass  # Ctrl-C is the documented way to stop: no traceback
        finally:
            server.stop()

    def _log(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

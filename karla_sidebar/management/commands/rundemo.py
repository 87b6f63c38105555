"""Start the demo: the GoKarla sandbox and the app, in the foreground, stopped together.

``make run`` calls this after ``migrate``; it seeds the demo and syncs the shipment index once
(``sync_gokarla``) when the sandbox is up. Ctrl-C stops both servers.
"""

import signal
import socket
import subprocess
import sys
import time
from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from karla_sidebar.demo import demo_banner

APP_HOST, APP_PORT = "127.0.0.1", 8000
SANDBOX_HOST, SANDBOX_PORT = "127.0.0.1", 8001
ADVANCE_EVERY_SECONDS = 60


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((host, port)) == 0


def _wait_for_port(host: str, port: int, process: subprocess.Popen, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if _port_in_use(host, port):
            return True
        time.sleep(0.1)
    return False


class Command(BaseCommand):
    help = "Run the GoKarla sandbox on 127.0.0.1:8001 and the app on 127.0.0.1:8000."

    def _sync_shipment_index(self) -> None:
        """Fill the shipment index as cron would (``sync_gokarla``), once; the demo goes on
        whatever happens, and says so."""
        output = StringIO()
        try:
            call_command("sync_gokarla", stdout=output)
        except Exception as error:  # whatever it was, the demo starts all the same
            self.stdout.write(f"Shipment index sync failed (the demo goes on): {error}")
            return
        summary = output.getvalue().strip().splitlines()[-1:] or ["nothing to sync"]
        self.stdout.write(f"Shipment index: {summary[0]}")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("The demo runs with DEBUG on. Use `make run`, which sets it up.")
        for name, (host, port) in {
            "the sandbox": (SANDBOX_HOST, SANDBOX_PORT),
            "the app": (APP_HOST, APP_PORT),
        }.items():
            if _port_in_use(host, port):
                raise CommandError(
                    f"Port {port} is already in use, so {name} cannot start. "
                    "Stop whatever runs there (an earlier `make run`?) and try again."
                )

        manage = [sys.executable, "manage.py"]
        sandbox = subprocess.Popen(  # noqa: S603 (our own manage.py, fixed arguments)
            [
                *manage,
                "runsandbox",
                "--host",
                SANDBOX_HOST,
                "--port",
                str(SANDBOX_PORT),
                # A demo shipment moves along every so often (1001's first), and GoKarla's
                # webhook tells the app: open cards update by themselves.
                "--advance-every",
                str(ADVANCE_EVERY_SECONDS),
            ]
        )
        processes = [sandbox]
        try:
            if not _wait_for_port(SANDBOX_HOST, SANDBOX_PORT, sandbox, 15):
                raise CommandError("The sandbox did not start; see the messages above.")
            call_command("seed_demo")
            self._sync_shipment_index()
            app = subprocess.Popen([*manage, "runserver", f"{APP_HOST}:{APP_PORT}"])  # noqa: S603
            processes.append(app)
            if not _wait_for_port(APP_HOST, APP_PORT, app, 30):
                raise CommandError("The app did not start; see the messages above.")
            self.stdout.write(demo_banner(f"http://{APP_HOST}:{APP_PORT}"))
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
            raise CommandError("A demo server stopped; see the messages above.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping the demo.")
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
            for process in processes:
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()

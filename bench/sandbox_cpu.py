"""How much CPU the GoKarla sandbox spends per lookup (it must stay well under a millisecond).

Benchmarks of the app run against the sandbox, so its own cost has to be negligible. This
starts a sandbox in-process, sends N lookups (a mix of order searches, an e-mail search, a
miss and both shipment routes) over ONE keep-alive connection with ``http.client``, and prints
the server's CPU microseconds per lookup, measured two ways:

1. precisely: the CPU clock of the server thread that handles the connection
   (``time.pthread_getcpuclockid``, Linux and other POSIX systems). With keep-alive one
   handler thread serves every request, so its CPU time is the server's whole cost per
   request (the accept loop, idle in ``select``, adds nothing measurable);
2. as a cross-check: the process's CPU time (``time.process_time``) minus the client thread's
   own (``time.thread_time``), i.e. everything that is not the client.

Usage: ``.venv/bin/python bench/sandbox_cpu.py [--lookups 2000]``. A figure, not a test: the
house rule is that speed is measured by benchmarks, never asserted by timed unit tests.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox.server import make_server

AUTH = "Basic " + base64.b64encode(b"demo-shop:karla-demo-token").decode()
LOOKUPS = (
    "/api/v1/shops/demo-shop/orders?order_number=1001",
    "/api/v1/shops/demo-shop/orders?order_name=%231003",
    "/api/v1/shops/demo-shop/orders?email_id=jane%40example.com",
    "/api/v1/shops/demo-shop/orders?order_number=9999",
    "/api/v1/shops/demo-shop/orders?uuid=3c9ec3b1-35f8-4d06-8dc6-50e58ab1ff1b",
    "/v1/shops/demo-shop/orders?email_id=anna.huber%40example.com&per_page=100",
)


def lookup(connection: http.client.HTTPConnection, path: str) -> None:
    connection.request("GET", path, headers={"Authorization": AUTH})
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise SystemExit(f"unexpected {response.status} for {path}")


def handler_threads() -> list[threading.Thread]:
    """The server's per-connection threads (socketserver names them after their target)."""
    return [t for t in threading.enumerate() if t.name.endswith("(process_request_thread)")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=2000)
    count = parser.parse_args().lookups

    with make_server(port=0).start() as server:
        host, port = server.server_address[:2]
        connection = http.client.HTTPConnection(host, port, timeout=10)
        for index in range(100):  # warm up: connection, thread, caches
            lookup(connection, LOOKUPS[index % len(LOOKUPS)])
        [handler] = handler_threads()
        clock = time.pthread_getcpuclockid(handler.ident)

        server_cpu_before = time.clock_gettime(clock)
        process_before, client_before = time.process_time(), time.thread_time()
        wall_before = time.perf_counter()
        for index in range(count):
            lookup(connection, LOOKUPS[index % len(LOOKUPS)])
        wall = time.perf_counter() - wall_before
        client = time.thread_time() - client_before
        process = time.process_time() - process_before
        server_cpu = time.clock_gettime(clock) - server_cpu_before
        connection.close()
        connections = server.connections_opened

    micros = 1_000_000 / count
    print(f"{count} lookups over {connections} connection(s), {wall * micros:.0f} µs wall each")
    print(f"sandbox CPU per lookup (handler thread clock): {server_cpu * micros:.0f} µs")
    print(f"sandbox CPU per lookup (process - client):     {(process - client) * micros:.0f} µs")
    print(f"client CPU per lookup (http.client):           {client * micros:.0f} µs")


if __name__ == "__main__":
    main()

"""The sandbox's HTTP server: the standard library's threading server, kept light.

Benchmarks of the app run against this stand-in, so it must cost next to nothing per request:
no Django, no JSON encoding while answering a search (``sandbox.catalog`` pre-builds every
order's bytes, per language), one socket write per answer, Nagle off. HTTP/1.1 keep-alive
works because every answer, errors included, carries an exact ``Content-Length`` (a 204 none,
as it has no body); ``connections_opened`` counts accepted TCP connections so a test can
prove a client reuses one.

Options of ``make_server``: ``latency_ms`` (sleep before every answer), ``log`` (called with
each request line and status, never a header), ``envelope`` (wrap 2xx JSON bodies in
``{"data", "metadata"}``), ``advance_every`` (seconds: a daemon thread moves one unfinished
demo-shop shipment one step along, through the shipment-events path, webhooks included),
``generated_orders`` (how many generated demo-shop orders: about 300 by default; a benchmark
asks for 10 000).

Webhook deliveries: ``server.deliveries`` (the log, oldest first: ``sandbox.deliveries.
Delivery``) and ``server.wait_for_deliveries(timeout)`` (True once none is pending).

Usage::

    server = make_server(port=0).start()   # serve in a daemon thread
    server.url                              # "http://127.0.0.1:54321"
    server.stop()

or ``serve_forever()`` in the foreground (``manage.py runsandbox``).
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sandbox.api import SandboxApi
from sandbox.catalog import build_catalog
from sandbox.deliveries import Delivery
from sandbox.generated import COUNT as GENERATED_ORDERS
from sandbox.responses import Response
from sandbox.routes import Request
from sandbox.shapes import to_json

# Request bodies up to this size are read; bigger ones answer 413 and close the connection.
MAX_BODY = 1024 * 1024
_REASONS = {status.value: status.phrase for status in HTTPStatus}


class _BodyTooLarge(Exception):
    pass


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GoKarlaSandbox/2.0"
    sys_version = ""
    disable_nagle_algorithm = True
    # An idle keep-alive connection gives its thread back after this many seconds.
    timeout = 300
    server: SandboxServer

    def _handle(self) -> None:
        try:
            body = self._read_body()
        except (_BodyTooLarge, ValueError) as error:
            self.close_connection = True
            too_large = isinstance(error, _BodyTooLarge)
            self._answer(_error_response(413 if too_large else 400, None))
            return
        request = Request(
            method=self.command,
            target=self.path,
            authorization=self.headers.get("Authorization"),
            accept_language=self.headers.get("Accept-Language"),
            body=body,
            host=self.headers.get("Host"),
        )
        self._answer(self.server.api.handle(request), head=self.command == "HEAD")

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = do_OPTIONS = do_TRACE = _handle

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors (bad request line, unknown method...) answer JSON too."""
        self.close_connection = True
        self._answer(_error_response(code, message), head=self.command == "HEAD")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the base class would print every request (and error) to stderr."""

    def _answer(self, response: Response, *, head: bool = False) -> None:
        if response.delay and self.server.stopping.wait(response.delay):
            self.close_connection = True  # shutting down: drop the held request
            return
        if self.server.latency:
            time.sleep(self.server.latency)
        # One write for head and body: two small writes would meet the client's delayed ACK.
        self.wfile.write(self._head(response) + (b"" if head else response.body))
        if self.server.log is not None:
            # The request line only: never a header, so never the Authorization.
            self.server.log(f'{self.client_address[0]} "{self.requestline}" {response.status}')

    def _head(self, response: Response) -> bytes:
        lines = [
            f"HTTP/1.1 {response.status} {_REASONS.get(response.status, '')}",
            f"Server: {self.server_version}",
            f"Date: {self.date_time_string()}",
        ]
        if response.content_type is not None:
            lines.append(f"Content-Type: {response.content_type}")
        if response.status != 204:
            lines.append(f"Content-Length: {len(response.body)}")
        lines.extend(f"{name}: {value}" for name, value in response.headers)
        if self.close_connection:
            lines.append("Connection: close")
        elif self.request_version == "HTTP/1.0":
            lines.append("Connection: keep-alive")  # it asked for it, or we'd have closed
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 <= length <= MAX_BODY:
            raise _BodyTooLarge
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size = int(self.rfile.readline(1024).split(b";", 1)[0].strip() or b"x", 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(body)
            if len(body) + size > MAX_BODY:
                raise _BodyTooLarge
            body += self.rfile.read(size)
            self.rfile.readline(1024)


def _error_response(status: int, message: str | None) -> Response:
    return Response(status, to_json({"detail": message or _REASONS.get(status, "Error")}))


class SandboxServer(ThreadingHTTPServer):
    """A threading HTTP server around a ``SandboxApi``; see the module docstring."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        api: SandboxApi,
        *,
        latency_ms: int = 0,
        log: Callable[[str], object] | None = None,
        advance_every: float | None = None,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.api = api
        self.latency = max(latency_ms, 0) / 1000
        self.log = log
        self.advance_every = advance_every
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections_opened = 0
        self._open: set[socket.socket] = set()
        self._thread: threading.Thread | None = None
        self._advancer: threading.Thread | None = None
        super().__init__(address, SandboxHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}"

    @property
    def connections_opened(self) -> int:
        with self._lock:
            return self._connections_opened

    @property
    def started_at(self) -> datetime:
        """The moment the demo data's relative times are computed from."""
        return self.api.catalog.started_at

    @property
    def deliveries(self) -> tuple[Delivery, ...]:
        """The webhook deliveries so far (the most recent 1000), oldest first."""
        return self.api.deliverer.log

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        """Wait until no webhook delivery is pending; False if some still are."""
        return self.api.deliverer.wait(timeout)

    def start(self) -> SandboxServer:
        """Serve in a daemon thread; returns self so ``make_server().start()`` reads well."""
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"gokarla-sandbox-{self.server_address[1]}",
        )
        self._thread.start()
        return self

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self._start_advancing()
        super().serve_forever(poll_interval)

    def stop(self) -> None:
        """Stop serving and advancing, release held (err-timeout) answers, close every open
        connection, drop pending webhook deliveries."""
        self.stopping.set()
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()
        self.api.deliverer.close()
        with self._lock:
            connections = list(self._open)
        for connection in connections:
            # Wakes the handler threads blocked reading the next keep-alive request.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def reset_faults(self) -> None:
        """Start the err-flaky alternation over (tests that need a known first answer)."""
        self.api.faults.reset()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _start_advancing(self) -> None:
        every = self.advance_every
        if not every or self._advancer is not None:
            return

        def advance() -> None:
            while not self.stopping.wait(every):
                self.api.advance_one()

        self._advancer = threading.Thread(target=advance, daemon=True, name="sandbox-advance")
        self._advancer.start()

    # --- socketserver hooks ---------------------------------------------------------------

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on a DNS lookup.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._connections_opened += 1
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up is normal (timeouts, shutdown); anything else is a bug."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


def make_server(
    host: str = "127.0.0.1",
    port: int = 0,
    latency_ms: int = 0,
    *,
    log: Callable[[str], object] | None = None,
    envelope: bool = False,
    advance_every: float | None = None,
    generated_orders: int = GENERATED_ORDERS,
) -> SandboxServer:
    """A bound (not yet serving) sandbox with freshly built demo data; port 0 picks one.
    ``generated_orders``: how many generated demo-shop orders besides the hand-written ones."""
    api = SandboxApi(build_catalog(generated_orders=generated_orders), envelope=envelope)
    return SandboxServer(
        (host, port), api, latency_ms=latency_ms, log=log, advance_every=advance_every
    )

"""The sandbox's HTTP server: the standard library's threading server, kept light.

Benchmarks of the app run against this stand-in, so it must cost next to nothing per request:
no Django, no JSON encoding while serving (``sandbox.catalog`` pre-builds every body), one
socket write per answer, Nagle off. HTTP/1.1 keep-alive works because every answer, errors
included, carries an exact ``Content-Length``; ``connections_opened`` counts accepted TCP
connections so a test can prove a client reuses one.

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
from sandbox.responses import METHOD_NOT_ALLOWED, Response, api_error

# Request bodies are drained so that the connection stays usable; bigger ones close it.
_MAX_DRAINED_BODY = 1024 * 1024
_REASONS = {status.value: status.phrase for status in HTTPStatus}


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GoKarlaSandbox/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    # An idle keep-alive connection gives its thread back after this many seconds.
    timeout = 300
    server: SandboxServer

    def do_GET(self) -> None:
        self._drain_body()
        self._answer(self.server.api.get(self.path, self.headers.get("Authorization")))

    def do_HEAD(self) -> None:
        self._drain_body()
        self._answer(METHOD_NOT_ALLOWED, head=True)

    def _method_not_allowed(self) -> None:
        self._drain_body()
        self._answer(METHOD_NOT_ALLOWED)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_TRACE = _method_not_allowed

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors (bad request line, unknown method...) answer JSON too."""
        self.close_connection = True
        reason = _REASONS.get(code, "Error")
        key = reason.lower().replace(" ", "_").replace("-", "_")
        self._answer(api_error(code, key, message or reason), head=self.command == "HEAD")

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
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body)}",
        ]
        lines.extend(f"{name}: {value}" for name, value in response.headers)
        if self.close_connection:
            lines.append("Connection: close")
        elif self.request_version == "HTTP/1.0":
            lines.append("Connection: keep-alive")  # it asked for it, or we'd have closed
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _drain_body(self) -> None:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # not worth decoding chunks for a GET-only API
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if 0 <= length <= _MAX_DRAINED_BODY:
            if length:
                self.rfile.read(length)
        else:
            self.close_connection = True


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
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.api = api
        self.latency = max(latency_ms, 0) / 1000
        self.log = log
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections_opened = 0
        self._open: set[socket.socket] = set()
        self._thread: threading.Thread | None = None
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

    def start(self) -> SandboxServer:
        """Serve in a daemon thread; returns self so ``make_server().start()`` reads well."""
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name=f"gokarla-sandbox-{self.server_address[1]}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release held (err-timeout) answers, close every open connection."""
        self.stopping.set()
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()
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
) -> SandboxServer:
    """A bound (not yet serving) sandbox with freshly built demo data; port 0 picks one."""
    return SandboxServer((host, port), SandboxApi(build_catalog()), latency_ms=latency_ms, log=log)

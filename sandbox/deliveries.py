"""Webhook deliveries: the signed POSTs the sandbox sends when a shipment gets an event.

The payload (GoKarla documents it only in outline: every event carries ``context`` with the
models involved)::

    {"uuid": <delivery uuid>, "event": "shipments/<phase>/<EVENT_KEY>",
     "event_group": "shipment_<phase>", "direction": "merchant_customer" (returns:
     "customer_merchant"), "created_at": <ISO 8601>, "merchant_slug": <shop slug>,
     "context": {"order": <the order, trackings included>,
                 "shipments": [<the changed tracking>],
                 "customer": {"email": <the order's email_id>, "name": <its address name>}}}

Headers: ``Content-Type: application/json`` and ``Karla-Signature: t=<unix seconds>,v1=<hex
HMAC-SHA256 of "<t>.<raw body>" keyed with the webhook's secret>``.

Deliveries run on a few daemon worker threads, never on the thread answering the API call: 5 s
timeout, no redirects followed, no proxy. Every attempt lands in a bounded log
(``Delivery``: the webhook, URL, event, HTTP status or the error's class name), and
``wait`` lets a test wait until none is pending.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import queue
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sandbox.events import direction_of, phase_of, webhook_event_ref
from sandbox.shapes import JsonDict, iso, to_json
from sandbox.webhooks import Webhook

TIMEOUT_SECONDS = 5.0
LOG_SIZE = 1000
WORKERS = 4
USER_AGENT = "GoKarla-Sandbox-Webhooks/1.0"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery attempt, as the log keeps it."""

    uuid: str
    webhook_uuid: str
    url: str
    event: str
    status: int | None  # the receiver's HTTP status, or None when it was not reached
    error: str | None  # the exception's class name when the attempt failed


def payload(slug: str, key: str, order: JsonDict, shipment: JsonDict) -> JsonDict:
    """The body of the event ``key`` that happened to ``shipment`` of ``order``."""
    phase = phase_of(key)
    address = order.get("address") or {}
    return {
        "uuid": str(uuid.uuid4()),
        "event": webhook_event_ref(key),
        "event_group": f"shipment_{phase}",
        "direction": direction_of(key),
        "created_at": iso(datetime.now(UTC)),
        "merchant_slug": slug,
        "context": {
            "order": order,
            "shipments": [shipment],
            "customer": {"email": order.get("email_id"), "name": address.get("name")},
        },
    }


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Karla-Signature`` header value."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    parts = urlsplit(url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname or "", parts.port, timeout=TIMEOUT_SECONDS)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)
        return response.status
    finally:
        connection.close()


class Deliverer:
    """Sends deliveries in the background (daemon workers, started on the first delivery)
    and remembers how they went."""

    def __init__(self) -> None:
        self._log: deque[Delivery] = deque(maxlen=LOG_SIZE)
        self._pending = 0
        self._closed = False
        self._idle = threading.Condition()
        self._queue: queue.SimpleQueue[tuple[Webhook, JsonDict] | None] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []

    @property
    def log(self) -> tuple[Delivery, ...]:
        with self._idle:
            return tuple(self._log)

    def send(self, hook: Webhook, body: JsonDict) -> None:
        with self._idle:
            if self._closed:
                return
            self._pending += 1
            if not self._workers:
                self._workers = [
                    threading.Thread(target=self._work, daemon=True, name=f"sandbox-webhook-{n}")
                    for n in range(WORKERS)
                ]
                for worker in self._workers:
                    worker.start()
        self._queue.put((hook, body))

    def wait(self, timeout: float) -> bool:
        """Wait until no delivery is pending; False if some still are after ``timeout``."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        """Stop the workers once the deliveries already queued are done."""
        with self._idle:
            self._closed = True
            workers = len(self._workers)
        for _ in range(workers):
            self._queue.put(None)

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            self._deliver(*item)

    def _deliver(self, hook: Webhook, body: JsonDict) -> None:
        raw = to_json(body)
        headers = {
            "Content-Type": "application/json",
            "Karla-Signature": signature(hook.secret, int(time.time()), raw),
            "User-Agent": USER_AGENT,
        }
        status, error = None, None
        try:
            status = _post(hook.url, raw, headers)
        except Exception as failure:  # whatever went wrong is logged, never raised
            error = type(failure).__name__
        with self._idle:
            self._log.append(
                Delivery(body["uuid"], hook.uuid, hook.url, body["event"], status, error)
            )
            self._pending -= 1
            self._idle.notify_all()

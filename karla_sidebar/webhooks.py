"""GoKarla's webhook deliveries: ``POST /webhooks/gokarla/<account webhook id>/``.

GoKarla pushes shipment events here (``accounts.webhooks`` registers the address at Connect).
The webhook id in the path decides the account, and so its workspace and the secret the
``Karla-Signature`` must be made with (``gokarla.signatures``). Then the payload's ``context``
is read leniently and its shipments go into the account's shipment index, so Get Shipment
finds a new tracking number seconds after GoKarla knows it, without a sync.

Answers, each a small JSON body (``{"error": {"code", "message"}}`` for refusals):

- 200: taken in, its shipments indexed; 202: taken in, but nothing in it could be indexed
  (an event without order or shipments, or a shape we do not know: logged, never the body);
- 400: the signature header is missing or malformed, or the body is not JSON;
- 401: the signature does not match the secret, or its time is more than 5 minutes from now;
- 404: no webhook has this id; 405: not a POST; 413: the body is larger than 512 KB;
- 409: this very delivery (its signature: time and HMAC) was taken in before, and nothing
  changed. GoKarla resends a delivery with a new signature, so a 409 only ever answers a
  replay or a repeat of a delivery already taken in.

No GoKarla call is made while answering. Deliveries seen are kept for a day
(``WebhookDelivery``); each process deletes older ones every 10 minutes.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import GoKarlaAccount
from karla_sidebar.gokarla import (
    Order,
    OrderStatus,
    Shipment,
    UnexpectedResponse,
    WebhookEvent,
)
from karla_sidebar.gokarla.parsing import parse_webhook_event
from karla_sidebar.gokarla.signatures import (
    SIGNATURE_HEADER,
    SignatureError,
    SignatureExpired,
    SignatureMalformed,
    signature_verify,
)
from karla_sidebar.models import ShipmentIndexEntry, WebhookDelivery
from karla_sidebar.shipment_index import shipment_index_note_news, shipment_index_update

logger = logging.getLogger("karla_sidebar.webhooks")

MAX_BODY_BYTES = 512 * 1024
DELIVERY_RETENTION = timedelta(days=1)
PURGE_EVERY_SECONDS = 600
# ``webhook_last_delivery_at`` is written at most this often (not on every delivery: the
# account's row would be a point every delivery of a busy shop waits for).
LAST_DELIVERY_PRECISION = timedelta(seconds=5)
_WEBHOOK_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class WebhookRejected(Exception):
    """A delivery refused; ``status`` and ``code`` are the answer's."""

    status = 400
    code = "bad_request"
    default_message = "This is not a delivery Karla Sidebar can take in."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class UnknownWebhook(WebhookRejected):
    status, code = 404, "not_found"
    default_message = "No webhook has this address."


class PayloadTooLarge(WebhookRejected):
    status, code = 413, "payload_too_large"
    default_message = "The delivery is larger than Karla Sidebar accepts (512 KB)."


class BadSignatureHeader(WebhookRejected):
    code = "invalid_signature_header"


class BadSignature(WebhookRejected):
    status, code = 401, "invalid_signature"


class ExpiredSignature(WebhookRejected):
    status, code = 401, "signature_expired"


class NotJSON(WebhookRejected):
    code = "invalid_json"
    default_message = "The delivery's body is not JSON."


class DeliveryRepeated(WebhookRejected):
    status, code = 409, "repeated_delivery"
    default_message = "This delivery was taken in before; nothing was changed."


@dataclass(frozen=True, slots=True)
class DeliveryReceived:
    indexed: int  # index entries written
    understood: bool  # whether the payload held anything to index


@csrf_exempt  # GoKarla signs its deliveries; there is no session or form here
@require_POST
def gokarla_webhook(request, webhook_id: str):
    try:
        received = webhook_delivery_receive(
            webhook_id=webhook_id,
            body=_capped_body(request),
            signature=request.headers.get(SIGNATURE_HEADER, ""),
        )
    except WebhookRejected as rejected:
        # The reason only: never the body or the signature (Django logs the path of a 4xx).
        level = logging.INFO if isinstance(rejected, DeliveryRepeated) else logging.WARNING
        logger.log(level, "Webhook delivery refused: %s %s", rejected.status, rejected.code)
        error = {"code": rejected.code, "message": rejected.message}
        return JsonResponse({"error": error}, status=rejected.status)
    return JsonResponse(
        {"status": "accepted", "indexed": received.indexed},
        status=200 if received.understood else 202,
    )


def _capped_body(request) -> bytes:
    """The raw body (the signature is over its bytes), refused past ``MAX_BODY_BYTES``: by
    its declared length before reading, and by what was read."""
    declared = request.META.get("CONTENT_LENGTH", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge()
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge()
    return body


def webhook_delivery_receive(*, webhook_id: str, body: bytes, signature: str) -> DeliveryReceived:
    """Verify a delivery, index what it holds, remember it (a repeat is refused)."""
    account = _account(webhook_id)
    try:
        verified = signature_verify(
            secret=account.webhook_secret, header=signature, body=body, now=time.time()
        )
    except SignatureError as error:
        raise _refusal(error) from None
    event = _event(body)
    orders = [*event.orders, *(_order_of(shipment) for shipment in event.shipments)]
    now = timezone.now()
    try:
        with transaction.atomic():
            WebhookDelivery.objects.create(
                account_id=account.pk, key=verified.delivery_key, received_at=now
            )
            indexed = shipment_index_update(
                account=account, orders=orders, source=ShipmentIndexEntry.Source.WEBHOOK
            )
            _note_delivery(account, now)
    except IntegrityError:
        if WebhookDelivery.objects.filter(
            account_id=account.pk, key=verified.delivery_key
        ).exists():
            raise DeliveryRepeated() from None
        raise UnknownWebhook() from None  # the account was removed meanwhile
    if indexed:
        shipment_index_note_news(account=account)  # cached lookups of it are out of date
    if not orders:
        logger.info(
            "Webhook delivery for account %s had nothing to index (event %r, %d parts unreadable)",
            account.pk,
            event.event[:100],
            event.skipped,
        )
    _purge_now_and_then(now)
    return DeliveryReceived(indexed=indexed, understood=bool(orders))


def _account(webhook_id: str) -> GoKarlaAccount:
    """The account this webhook id belongs to, with what a delivery needs of it."""
    if not _WEBHOOK_ID.fullmatch(webhook_id):
        raise UnknownWebhook()
    try:
        account = GoKarlaAccount.objects.only(
            "id", "workspace_id", "webhook_secret", "webhook_last_delivery_at"
        ).get(webhook_id=webhook_id)
    except GoKarlaAccount.DoesNotExist:
        raise UnknownWebhook() from None
    if not account.webhook_secret:
        # Not registered (or its secret cannot be decrypted): nothing can be verified.
        logger.warning("Webhook delivery for account %s, which holds no secret", account.pk)
        raise UnknownWebhook()
    return account


def _refusal(error: SignatureError) -> WebhookRejected:
    if isinstance(error, SignatureMalformed):
        return BadSignatureHeader(error.message)
    if isinstance(error, SignatureExpired):
        return ExpiredSignature(error.message)
    return BadSignature(error.message)


def _event(body: bytes) -> WebhookEvent:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise NotJSON() from None
    try:
        return parse_webhook_event(data)
    except UnexpectedResponse:
        return WebhookEvent(skipped=1)  # JSON, but not an object: nothing to read


def _order_of(shipment: Shipment) -> Order:
    """A tracking named without its order, as the index keeps it: under the order's uuid and
    number, which every tracking carries. (Only what the index reads is filled in.)"""
    return Order(
        uuid=shipment.order_uuid,
        order_number=shipment.order_number,
        order_name="",
        status=OrderStatus.FULFILLED,
        shipments=(shipment,),
    )


def _note_delivery(account: GoKarlaAccount, now: datetime) -> None:
    last = account.webhook_last_delivery_at
    if last is not None and now - last < LAST_DELIVERY_PRECISION:
        return
    recent = Q(webhook_last_delivery_at__gte=now - LAST_DELIVERY_PRECISION)
    GoKarlaAccount.objects.filter(pk=account.pk).exclude(recent).update(
        webhook_last_delivery_at=now
    )


_next_purge = 0.0  # time.monotonic() of the process's next purge


def _purge_now_and_then(now: datetime) -> None:
    """Delete the deliveries older than ``DELIVERY_RETENTION``, once per process every
    ``PURGE_EVERY_SECONDS`` (a signature that old is refused as expired anyway)."""
    global _next_purge
    if time.monotonic() < _next_purge:
        return
    _next_purge = time.monotonic() + PURGE_EVERY_SECONDS
    try:
        WebhookDelivery.objects.filter(received_at__lt=now - DELIVERY_RETENTION).delete()
    except DatabaseError:
        logger.warning("Could not delete old webhook deliveries", exc_info=True)

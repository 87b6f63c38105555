"""GoKarla's webhook signatures: ``Karla-Signature: t=<unix time>,v1=<hex>``.

``v1`` is the HMAC-SHA256, keyed with the webhook's secret, of ``"<t>.<raw body>"``
(gokarla-api.md, "Webhooks"). A delivery is authentic when one of its ``v1`` values matches
(compared in constant time) and ``t`` is within the tolerance of now, both ways: an old ``t``
is a replay, one far in the future a forgery that would outlive the replay window. Other
schemes in the header (``v0``, a future ``v2``) are ignored, as Stripe-style headers allow.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

SIGNATURE_HEADER = "Karla-Signature"
TOLERANCE_SECONDS = 300
MAX_HEADER_LENGTH = 1024
_DIGEST_LENGTH = 64  # hex of SHA-256
_HEX = frozenset("0123456789abcdef")


class SignatureError(Exception):
    """A delivery whose signature does not prove it comes from GoKarla, now."""

    default_message = "The Karla-Signature header does not match this webhook's secret."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class SignatureMalformed(SignatureError):
    default_message = "The Karla-Signature header is missing or not of the form t=…,v1=…."


class SignatureMismatch(SignatureError):
    pass


class SignatureExpired(SignatureError):
    default_message = (
        "The Karla-Signature time is more than 5 minutes away from now: an old (replayed) "
        "delivery, or a clock that is wrong."
    )


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    timestamp: int
    digest: str  # the v1 value that matched

    @property
    def delivery_key(self) -> str:
        """What makes this delivery unique: its time and its HMAC, whatever else the header
        holds (a replay that adds or reorders entries has the same key)."""
        return hashlib.sha256(f"{self.timestamp}.{self.digest}".encode()).hexdigest()


def signature_compute(*, secret: str, timestamp: int, body: bytes) -> str:
    """The hex ``v1`` value GoKarla sends for ``body`` at ``timestamp``."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_verify(
    *, secret: str, header: str, body: bytes, now: float, tolerance: int = TOLERANCE_SECONDS
) -> VerifiedSignature:
    """The verified signature of a delivery; raises a ``SignatureError`` otherwise."""
    timestamp, digests = _parse(header)
    expected = signature_compute(secret=secret, timestamp=timestamp, body=body)
    # Every candidate is compared (no early exit), each in constant time.
    matched = [digest for digest in digests if hmac.compare_digest(expected, digest)]
    if not matched:
        raise SignatureMismatch()
    if abs(now - timestamp) > tolerance:
        raise SignatureExpired()
    return VerifiedSignature(timestamp=timestamp, digest=matched[0])


def _parse(header: str) -> tuple[int, list[str]]:
    if not header or len(header) > MAX_HEADER_LENGTH:
        raise SignatureMalformed()
    timestamps, digests = [], []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        value = value.strip()
        if name == "t":
            timestamps.append(value)
        elif name == "v1" and len(value) == _DIGEST_LENGTH and set(value.lower()) <= _HEX:
            digests.append(value.lower())
    if len(timestamps) != 1 or not timestamps[0].isascii() or not timestamps[0].isdigit():
        raise SignatureMalformed()
    if not digests or len(timestamps[0]) > 12:
        raise SignatureMalformed()
    return int(timestamps[0]), digests

"""Slows down password guessing: failed logins are counted per username and per client address.

The username is counted as Django logs in with it (NFKC-normalised, so a full-width look-alike
is the same name) and case-folded. The client address is the peer's, or, when the peer is one
of ``TRUSTED_PROXIES``, the nearest address in ``X-Forwarded-For`` that is not a trusted proxy:
a spoofed header from anyone else is ignored.
"""

import functools
import ipaddress
import unicodedata

from django.conf import settings
from django.core.cache import cache

from core.ratelimit import cache_count

WINDOW_SECONDS = 15 * 60


def username_key(username: str) -> str:
    """The name a login attempt counts against: as Django's ``normalize_username`` reads it
    (NFKC), without case or surrounding spaces."""
    return unicodedata.normalize("NFKC", username or "").strip().casefold()[:150]


def _keys(username: str, address: str) -> list[str]:
    return [f"login-fail:user:{username_key(username)}", f"login-fail:ip:{address}"]


@functools.lru_cache(maxsize=8)
def _trusted(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _is_trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in _trusted(tuple(settings.TRUSTED_PROXIES)))


def client_address(request) -> str:
    """The address of the client behind our own proxies (see the module docstring)."""
    peer = request.META.get("REMOTE_ADDR", "")
    if not _is_trusted(peer):
        return peer
    forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([hop for hop in forwarded if hop]):
        if not _is_trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a hop that is no address: believe nothing further left
    return peer


def login_locked(*, username: str, address: str) -> bool:
    user_key, ip_key = _keys(username, address)
    counts = cache.get_many([user_key, ip_key])
    return (
        counts.get(user_key, 0) >= settings.LOGIN_FAILURES_PER_USER
        or counts.get(ip_key, 0) >= settings.LOGIN_FAILURES_PER_ADDRESS
    )


def login_failed(*, username: str, address: str) -> None:
    for key in _keys(username, address):
        cache_count(key, timeout=WINDOW_SECONDS)


def login_succeeded(*, username: str, address: str) -> None:
    cache.delete(_keys(username, address)[0])

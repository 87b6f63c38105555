"""Slows down password guessing: failed logins are counted per username and per address."""

from django.conf import settings
from django.core.cache import cache

from karla_sidebar.ratelimit import cache_count

WINDOW_SECONDS = 15 * 60


def _keys(username: str, address: str) -> list[str]:
    return [f"login-fail:user:{username.strip().lower()[:150]}", f"login-fail:ip:{address}"]


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

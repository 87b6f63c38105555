"""Counters in the shared cache, so they hold across processes: a fixed-window rate limit
(the workflow API), and the counter it and the others (login failures, the breaker) use."""

import time

from django.core.cache import cache


def cache_count(key: str, *, timeout: int) -> int:
    """Add one to the counter ``key`` (started at 1, living ``timeout`` seconds); its count."""
    try:
        count = cache.incr(key)
    except ValueError:  # not there yet, or just expired
        if cache.add(key, 1, timeout=timeout):
            return 1
        count = cache.incr(key)  # another process started it meanwhile
    if count == 1:
        # A counter starts at 1 with ``add`` and only grows, so ``incr`` answering 1 means the
        # key expired between Redis' EXISTS and INCRBY (Django's ``incr`` asks both), and
        # INCRBY started it again without an expiry: give it one, or it would count forever.
        cache.touch(key, timeout)
    return count


def rate_limit_hit(*, key: str, limit: int, window: int = 60) -> float | None:
    """Count one call. Over the limit: the seconds until the window ends; else None."""
    now = time.time()
    window_start = int(now // window) * window
    cache_key = f"ratelimit:{key}:{window_start}"
    if cache_count(cache_key, timeout=window + 5) > limit:
        return max(window_start + window - now, 1.0)
    return None

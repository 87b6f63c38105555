"""A fixed-window rate limit counted in the shared cache, so it holds across processes."""

import time

from django.core.cache import cache


def rate_limit_hit(*, key: str, limit: int, window: int = 60) -> float | None:
    """Count one call. Over the limit: the seconds until the window ends; else None."""
    now = time.time()
    window_start = int(now // window) * window
    cache_key = f"ratelimit:{key}:{window_start}"
    cache.add(cache_key, 0, timeout=window + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window + 5)
        count = 1
    if count > limit:
        return max(window_start + window - now, 1.0)
    return None

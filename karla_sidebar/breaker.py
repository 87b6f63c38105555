"""A circuit breaker per GoKarla account, kept in the Django cache: with Redis (production)
every process agrees; with the local-memory cache each process has its own.

After ``BREAKER_FAILURES`` timeouts, connection errors or 5xx answers in a row, calls to that
account fail fast for ``BREAKER_COOLDOWN_SECONDS`` (no upstream call, no waiting on a dead
GoKarla). Then one request probes: success closes the breaker, failure opens it again.
Answers that say something about the request (400/401/403/404, not found) never trip it:
GoKarla is up, the question was the problem.
"""

import time

from django.conf import settings
from django.core.cache import cache

from core.ratelimit import cache_count
from karla_sidebar.gokarla import Unavailable


class CircuitOpen(Unavailable):
    default_message = (
        "GoKarla has not been answering for this account, so Karla Sidebar is pausing calls "
        "for a few seconds. Try again shortly."
    )


def _keys(account_id: int) -> tuple[str, str, str]:
    base = f"breaker:{account_id}"
    return f"{base}:failures", f"{base}:open-until", f"{base}:probe"


def breaker_state_key(account_id: int) -> str:
    """The cache key ``breaker_check`` reads, for a caller that reads it together with its own
    keys in one round trip and passes the answer as ``state``."""
    return _keys(account_id)[1]


def breaker_check(*, account_id: int, state: dict | None = None) -> bool:
    """Raise CircuitOpen while the account's breaker is open; after the cool-down one caller
    gets through as the probe. Returns True for that caller, who must report the outcome
    (``breaker_success``/``breaker_failure``) or give the probe back (``breaker_release``).

    ``state``: the cache's answer for ``breaker_state_key``, when the caller has read it."""
    _, open_key, probe_key = _keys(account_id)
    open_until = cache.get(open_key) if state is None else state.get(open_key)
    if open_until is None:
        return False
    if time.time() < open_until:
        raise CircuitOpen()
    # Half-open: the first caller after the cool-down probes; the others keep failing fast.
    if not cache.add(probe_key, 1, timeout=int(settings.GOKARLA_DEADLINE_SECONDS) + 5):
        raise CircuitOpen()
    return True


def breaker_release(*, account_id: int) -> None:
    """The probe never reached GoKarla (bad input, a bug): let the next caller probe."""
    cache.delete(_keys(account_id)[2])


def breaker_success(*, account_id: int) -> bool:
    """GoKarla answered: close the breaker. True when it had been open.

    Reads the state afresh (not what ``breaker_check`` saw): during a call of up to the
    deadline, other requests may have counted failures or opened the breaker."""
    failures_key, open_key, probe_key = _keys(account_id)
    state = cache.get_many([failures_key, open_key])  # one round trip to Redis, not two
    was_open = open_key in state
    if was_open or state.get(failures_key):
        cache.delete_many([failures_key, open_key, probe_key])
    return was_open


def breaker_close_for_verified(sender, *, account, **kwargs) -> None:
    """``accounts.signals.account_verified``: an admin's Test connection reached GoKarla, so
    the account's lookups stop pausing at once."""
    breaker_success(account_id=account.pk)


def breaker_failure(*, account_id: int) -> bool:
    """Count a failure; True when this one opened the breaker."""
    failures_key, open_key, probe_key = _keys(account_id)
    cooldown = settings.BREAKER_COOLDOWN_SECONDS
    failures = cache_count(failures_key, timeout=int(cooldown * 10))
    if failures >= settings.BREAKER_FAILURES or cache.get(probe_key):
        cache.set(open_key, time.time() + cooldown, timeout=int(cooldown * 10))
        cache.delete(probe_key)
        return True
    return False


def breaker_is_open(*, account_id: int) -> bool:
    open_until = cache.get(_keys(account_id)[1])
    return open_until is not None and time.time() < open_until

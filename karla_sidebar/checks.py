"""System checks for production (``manage.py check --deploy``)."""

from django.conf import settings
from django.core import checks

PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@checks.register(checks.Tags.caches, deploy=True)
def shared_cache_required(app_configs, **kwargs):
    """Production needs one cache all app processes share: the API rate limit, the login
    throttle, the circuit breaker and the lookup cache count across processes and servers.
    A per-process cache multiplies every limit by the number of workers."""
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.DEBUG or backend not in PER_PROCESS_CACHES:
        return []
    return [
        checks.Error(
            "REDIS_URL is not set: production would use a cache of each process's own, so rate "
            "limits and login throttling would count per worker, not per client.",
            hint="Set REDIS_URL, e.g. redis://redis:6379/0 (README: Configuration).",
            id="karla_sidebar.E001",
        )
    ]

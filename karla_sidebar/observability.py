"""Request ids, health endpoints, and the log format.

Every request gets an id (the caller's ``X-Request-ID`` when it is sane, else a new one). It
is in the response header and on every log line written while the request runs, so one
agent's complaint can be followed through the logs of several app servers.
"""

import contextvars
import json
import logging
import re
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

REQUEST_ID_HEADER = "X-Request-ID"
_request_id = contextvars.ContextVar("request_id", default="-")
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SANE_ID.fullmatch(incoming) else uuid.uuid4().hex
        reset = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(reset)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id (and the error)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class HealthMiddleware:
    """``/healthz``: the process is up. ``/readyz``: the database and cache answer (else 503).

    Answered before host checks and redirects, because load balancers probe by IP over HTTP.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return JsonResponse({"status": "ok"})
        if request.path == "/readyz":
            return readiness()
        return self.get_response(request)


def readiness() -> JsonResponse:
    checks = {"database": _database_ok(), "cache": _cache_ok()}
    ready = all(checks.values())
    return JsonResponse(
        {
            "status": "ready" if ready else "not ready",
            "checks": {name: "ok" if ok else "failing" for name, ok in checks.items()},
        },
        status=200 if ready else 503,
    )


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any failure means not ready; the probe must not crash
        logging.getLogger("karla_sidebar.health").exception("database check failed")
        return False


def _cache_ok() -> bool:
    try:
        key = f"readyz:{uuid.uuid4().hex}"
        cache.set(key, 1, timeout=5)
        ok = cache.get(key) == 1
        cache.delete(key)
        return ok
    except Exception:
        logging.getLogger("karla_sidebar.health").exception("cache check failed")
        return False

"""The production profile: health endpoints, request ids, JSON logs."""

import json
import logging

import pytest
from django.db import connection

from karla_sidebar.observability import JsonFormatter, RequestIdFilter


def test_healthz_answers_without_host_checks_or_https(client, settings):
    settings.ALLOWED_HOSTS = ["karla.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_and_cache(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok"}


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_is_down(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "failing"


@pytest.mark.django_db
def test_every_response_has_a_request_id_and_keeps_a_sane_incoming_one(client):
    generated = client.get("/login/")["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/login/", HTTP_X_REQUEST_ID="lb-abc-12345")["X-Request-ID"] == "lb-abc-12345"
    hostile = client.get("/login/", HTTP_X_REQUEST_ID="x\nInjected: 1")["X-Request-ID"]
    assert "\n" not in hostile and hostile != "x\nInjected: 1"


@pytest.mark.django_db
def test_log_lines_carry_the_request_id(client, caplog):
    caplog.handler.addFilter(RequestIdFilter())
    response = client.get("/sidebar/", {"token": "bad"}, HTTP_X_REQUEST_ID="trace-0001")
    assert response.status_code == 401  # logged by karla_sidebar.launch
    ids = {getattr(record, "request_id", None) for record in caplog.records}
    assert "trace-0001" in ids


def test_json_log_format_is_one_object_per_line():
    record = logging.LogRecord("karla", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    RequestIdFilter().filter(record)
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["message"] == "hello world" and entry["level"] == "WARNING"
    assert entry["request_id"] == "-" and "\n" not in line


def _redis_url() -> str:
    """The Redis the suite may use: REDIS_URL, or a local one (CI runs it); else skip."""
    import os
    import socket
    from urllib.parse import urlsplit

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/1"
    address = urlsplit(url)
    try:
        socket.create_connection((address.hostname, address.port or 6379), timeout=0.5).close()
    except OSError:
        if os.environ.get("REQUIRE_SERVICE_TESTS", "").strip() in {"1", "true", "yes"}:
            pytest.fail(f"no Redis at {url}, and CI requires the tests that need it")
        pytest.skip(f"no Redis at {url} (production's cache backend is tested in CI)")
    return url


def test_redis_cache_reuses_its_client_and_threads_get_their_own_answers():
    """Production's cache backend keeps one Redis client per pool instead of building one per
    call; shared by threads (Django gives each thread a backend of its own, but nothing may
    break if one is shared), every thread still reads back exactly what it wrote."""
    from concurrent.futures import ThreadPoolExecutor

    from karla_sidebar.cache import RedisCache

    backend = RedisCache(_redis_url(), {"KEY_PREFIX": "test-reused-client"})

    def round_trip(n: int) -> tuple:
        backend.set(f"k{n}", {"n": n}, 30)
        read = backend.get_many([f"k{n}", "absent"])
        backend.delete(f"k{n}")
        return read, backend.get(f"k{n}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(round_trip, range(64)))
    assert answers == [({f"k{n}": {"n": n}}, None) for n in range(64)]
    assert len(backend._cache._clients) == 1


def test_redis_counters_count_once_per_call_and_keep_their_expiry():
    """The counters behind the API's rate limit, login throttling and the breaker: a missing
    key is refused (the caller then starts it), and counting never drops the key's expiry."""
    from karla_sidebar.cache import RedisCache

    backend = RedisCache(_redis_url(), {"KEY_PREFIX": "test-incr"})
    backend.delete("n")
    with pytest.raises(ValueError):
        backend.incr("n")
    assert backend.get("n") is None  # refusing did not create it
    assert backend.add("n", 1, timeout=30)
    assert [backend.incr("n") for _ in range(3)] == [2, 3, 4]
    assert backend.incr("n", 10) == 14
    client = backend._cache.get_client()
    assert 0 < client.ttl(backend.make_and_validate_key("n")) <= 30
    backend.delete("n")

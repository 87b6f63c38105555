"""The production profile: health endpoints, request ids, JSON logs."""

import json
import logging
import runpy
import secrets
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection

from karla_sidebar.observability import JsonFormatter, RequestIdFilter

SETTINGS_FILE = Path(__file__).resolve().parent.parent / "karla_sidebar" / "settings.py"


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


@pytest.fixture
def production_redis(settings, monkeypatch):
    """Production's cache (``karla_sidebar/settings.py`` with ``REDIS_URL``) as the cache,
    on a Redis given by ``connect(url)``, under a key prefix of the test's own (removed after)."""
    import redis

    prefix = f"test-{uuid.uuid4().hex[:12]}"
    admin = redis.Redis.from_url(_redis_url())  # before REDIS_URL changes

    def connect(url: str):
        monkeypatch.setenv("REDIS_URL", url)
        monkeypatch.setenv("CACHE_KEY_PREFIX", prefix)
        settings.CACHES = runpy.run_path(str(SETTINGS_FILE))["CACHES"]
        from django.core.cache import cache

        return cache

    yield connect
    for key in admin.scan_iter(match=f"{prefix}:*"):
        admin.delete(key)


@pytest.fixture
def redis_without_scripting():
    """The URL of a Redis user that may do anything but run scripts (EVAL, EVALSHA,
    FUNCTION…), as managed Redis services with ACLs are often set up; removed after."""
    import redis

    url = _redis_url()
    admin = redis.Redis.from_url(url)
    name, password = f"karla-test-{uuid.uuid4().hex[:12]}", secrets.token_hex(16)
    admin.acl_setuser(
        name,
        enabled=True,
        passwords=[f"+{password}"],
        keys=["*"],
        channels=["*"],
        categories=["+@all", "-@scripting"],
    )
    address = urlsplit(url)
    yield address._replace(
        netloc=f"{name}:{password}@{address.hostname}:{address.port or 6379}"
    ).geturl()
    admin.acl_deluser(name)


def test_the_app_works_on_a_redis_that_refuses_scripts(
    production_redis, redis_without_scripting, client, workspace, settings
):
    """The API's rate limit (like the login throttle and the breaker) counts in the cache:
    on a Redis whose user may not run scripts, calls are still answered, and counted."""
    from accounts.api_keys import api_key_create

    production_redis(redis_without_scripting)
    settings.API_RATE_LIMIT = 2
    _, key = api_key_create(workspace=workspace, name="bot")
    answers = [
        client.post(
            "/api/v1/actions/get-order",
            {"reference": "1001"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        for _ in range(3)
    ]
    # No account is connected: 409 until the limit, then 429.
    assert [answer.status_code for answer in answers] == [409, 409, 429]
    assert answers[2]["Retry-After"]


def test_redis_counters_count_and_keep_their_expiry(production_redis, redis_without_scripting):
    from core.ratelimit import cache_count

    cache = production_redis(redis_without_scripting)
    assert [cache_count("n", timeout=30) for _ in range(3)] == [1, 2, 3]
    assert 0 < _ttl(cache, "n") <= 30


def test_a_counter_that_lost_its_expiry_gets_it_back(production_redis):
    """Django's ``incr`` asks Redis whether the key exists, then increments it: a counter
    that expires in between is started again by the increment, without an expiry (here: it
    exists with no expiry, as the increment leaves it). It must not count forever."""
    import redis

    from core.ratelimit import cache_count

    cache = production_redis(_redis_url())
    redis.Redis.from_url(_redis_url()).set(cache.make_and_validate_key("n"), 0)  # no expiry
    assert cache_count("n", timeout=30) == 1
    assert 0 < _ttl(cache, "n") <= 30


def _ttl(cache, key: str) -> int:
    """Seconds ``key`` has left in Redis (-1: no expiry)."""
    import redis

    return redis.Redis.from_url(_redis_url()).ttl(cache.make_and_validate_key(key))

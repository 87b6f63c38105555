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

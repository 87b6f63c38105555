"""Only the sidebar may be framed, and only by the configured ArminCX origins (and the app's
own pages: the Sidebar tab's test sidebar)."""

import pytest

from accounts.models import Workspace

STRICT_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin"}


def _csp(response) -> dict[str, list[str]]:
    directives = (part.split() for part in response["Content-Security-Policy"].split(";"))
    return {words[0]: words[1:] for words in directives if words}


def _assert_hardened(response):
    csp = _csp(response)
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] in STRICT_REFERRER_POLICIES


def _assert_not_frameable(response):
    assert response["X-Frame-Options"] == "DENY"
    assert _csp(response)["frame-ancestors"] == ["'none'"]


@pytest.mark.urls("tests.launch_urls")
def test_ordinary_page_cannot_be_framed(client):
    response = client.get("/plain/")

    assert response.status_code == 200
    _assert_not_frameable(response)
    _assert_hardened(response)


@pytest.mark.django_db
def test_project_error_page_cannot_be_framed(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    _assert_not_frameable(response)
    _assert_hardened(response)


@pytest.mark.urls("tests.launch_urls")
def test_sidebar_is_frameable_by_exactly_the_configured_origins(client, settings):
    settings.SIDEBAR_FRAME_ANCESTORS = ["https://app.armincx.com", "https://eu.armincx.com"]

    response = client.get("/frameable/")

    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert _csp(response)["frame-ancestors"] == [
        "'self'",
        "https://app.armincx.com",
        "https://eu.armincx.com",
    ]
    _assert_hardened(response)


@pytest.mark.urls("tests.launch_urls")
def test_sidebar_without_configured_origins_is_framed_by_the_app_alone(client, settings):
    settings.SIDEBAR_FRAME_ANCESTORS = []

    response = client.get("/frameable/")

    assert _csp(response)["frame-ancestors"] == ["'self'"]


@pytest.mark.urls("tests.launch_urls")
def test_demo_host_page_may_frame_the_sidebar_in_debug(client, settings):
    settings.DEBUG = True
    settings.SIDEBAR_FRAME_ANCESTORS = ["https://app.armincx.com"]

    response = client.get("/frameable/")

    assert _csp(response)["frame-ancestors"] == [
        "'self'",
        "https://app.armincx.com",
        "http://localhost:8000",
    ]


@pytest.mark.urls("tests.launch_urls")
def test_demo_host_page_may_not_frame_the_sidebar_in_production(client, settings):
    settings.DEBUG = False
    settings.SIDEBAR_FRAME_ANCESTORS = ["https://app.armincx.com"]

    response = client.get("/frameable/")

    assert "http://localhost:8000" not in response["Content-Security-Policy"]


@pytest.mark.urls("tests.launch_urls")
def test_expired_sidebar_session_answer_stays_frameable(client, settings, db):
    Workspace.objects.create(slug="acme", name="Acme")
    settings.SIDEBAR_FRAME_ANCESTORS = ["https://app.armincx.com"]

    response = client.get("/frameable/whoami/")

    assert response.status_code == 401
    assert "X-Frame-Options" not in response
    assert _csp(response)["frame-ancestors"] == ["'self'", "https://app.armincx.com"]


@pytest.mark.urls("tests.launch_urls")
def test_error_raised_in_the_sidebar_stays_frameable(client, settings):
    settings.SIDEBAR_FRAME_ANCESTORS = ["https://app.armincx.com"]

    response = client.get("/frameable/forbidden/")

    assert response.status_code == 403
    assert "X-Frame-Options" not in response
    assert _csp(response)["frame-ancestors"] == ["'self'", "https://app.armincx.com"]


@pytest.mark.urls("tests.launch_urls")
def test_sidebar_session_views_alone_are_not_frameable(client, db):
    response = client.get("/whoami/")

    assert response.status_code == 401
    _assert_not_frameable(response)

"""Error pages (400, 403, 404, 500, a refused form) in the app's layout and language, saying
what happened and where to go, never Django's bare text."""

import pytest
from django.core.exceptions import SuspiciousOperation
from django.test import Client
from django.urls import path

from karla_sidebar.urls import urlpatterns as app_urls


def _bad_request(request):
    raise SuspiciousOperation("a request the app cannot read")


def _broken(request):
    raise RuntimeError("a bug")


urlpatterns = [path("bad/", _bad_request), path("broken/", _broken), *app_urls]


def assert_in_layout(response, status: int, heading: str) -> str:
    assert response.status_code == status
    body = response.content.decode()
    assert '<link rel="stylesheet" href="/static/css/karla.css">' in body
    assert '<main class="page error-page">' in body and f"<h1>{heading}</h1>" in body
    assert 'href="/settings/integrations/gokarla/accounts/"' in body
    return body


@pytest.mark.django_db
def test_a_missing_page(client):
    body = assert_in_layout(client.get("/no/such/page/"), 404, "Not found")
    assert "Error 404" in body


def test_a_lead_at_an_admin_page_reads_why(leo_client):
    response = leo_client.get("/settings/integrations/gokarla/api-keys/")
    body = assert_in_layout(response, 403, "Not allowed")
    assert "Only workspace admins can change GoKarla accounts." in body


@pytest.mark.urls("tests.test_error_pages")
@pytest.mark.django_db
def test_a_bad_request_and_an_error_of_the_app(settings):
    client = Client(raise_request_exception=False)
    assert_in_layout(client.get("/bad/"), 400, "Bad request")
    body = assert_in_layout(client.get("/broken/"), 500, "Something went wrong")
    assert "a bug" not in body  # never the exception's text


@pytest.mark.django_db
def test_a_form_without_its_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/settings/integrations/gokarla/api-keys/create/", {"name": "x"})
    assert_in_layout(response, 403, "The form has expired")


@pytest.mark.django_db
def test_error_pages_speak_the_viewer_s_language(client):
    response = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="de")
    body = assert_in_layout(response, 404, "Nicht gefunden")
    assert '<html lang="de">' in body

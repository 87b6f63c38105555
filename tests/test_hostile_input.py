"""Hostile input everywhere a person or program can type: always an answer or a 4xx with a
message, never a 500, and never a request to anywhere but the configured GoKarla host."""

import json
import re
from urllib.parse import urlsplit

import pytest
import responses
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accounts.api_keys import api_key_create
from accounts.models import GoKarlaAccount
from tests.tokens import sidebar_token

HOST = "acme.gokarla.io"
NASTY = st.one_of(
    st.text(max_size=300),
    st.text(min_size=9_000, max_size=10_000, alphabet="ab/%#?."),
    st.sampled_from(
        [
            "",
            " ",
            "../../etc/passwd",
            "..%2F..%2Fadmin",
            "1001?x=1",
            "1001#frag",
            "%00",
            "\x00",
            "1001\r\nX-Injected: 1",
            "http://169.254.169.254/",
            "@evil.com",
            "#1001",
            "jane@example.com",
            "0x7f.1",
            "😀" * 50,
            "<script>alert(1)</script>",
        ]
    ),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | NASTY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NASTY, inner, max_size=3),
    max_leaves=6,
)
HYPOTHESIS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def gokarla(workspace):
    """Acme connected to a (mocked) GoKarla on acme.gokarla.io that knows no orders."""
    GoKarlaAccount.objects.create(
        workspace=workspace,
        label="Acme",
        url=f"https://{HOST}",
        api_root=f"https://{HOST}/api/v1",
        username="acme",
        api_token="tok-acme",
        shop_name="Acme",
        shop_slug="acme",
        is_default=True,
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.GET, re.compile(r".*"), callback=_answer)
        yield mock


def _answer(request):
    path = urlsplit(request.url).path
    if path.rstrip("/").endswith("/shops/acme"):
        return 200, {"Content-Type": "application/json"}, json.dumps({"slug": "acme", "name": "A"})
    return 200, {"Content-Type": "application/json"}, "[]"


def assert_stayed_home(mock) -> None:
    for call in mock.calls:
        url = urlsplit(call.request.url)
        assert (url.scheme, url.hostname) == ("https", HOST), call.request.url
        assert url.path.startswith("/api/v1/shops/acme"), call.request.url


def assert_answered(response) -> None:
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert response.content  # a message, not an empty error


@pytest.mark.parametrize("path", ["order", "shipment"])
def test_sidebar_inputs(client, workspace, gokarla, path):
    # With the customer's e-mail, a Get Shipment the index does not know asks GoKarla.
    token = sidebar_token(workspace, customer_email="jane@example.com")

    @HYPOTHESIS
    @given(reference=NASTY, account=st.just("") | NASTY)
    @example(reference="1001", account="")  # a valid one, so GoKarla is reached at least once
    def run(reference, account):
        response = client.post(
            f"/sidebar/{path}/",
            {"reference": reference, "account": account, "refresh": "1"},
            HTTP_X_KARLA_SIDEBAR_TOKEN=token,
            HTTP_HX_REQUEST="true",
        )
        assert_answered(response)
        assert_stayed_home(gokarla)

    run()
    assert gokarla.calls  # the inputs did reach GoKarla, where valid


def test_accounts_form_inputs(alice_client, gokarla):
    @HYPOTHESIS
    @given(url=NASTY | st.just(f"https://{HOST}"), username=NASTY, token=NASTY, label=NASTY)
    def run(url, username, token, label):
        response = alice_client.post(
            "/settings/integrations/gokarla/accounts/add/",
            {"url": url, "username": username, "api_token": token, "label": label},
            HTTP_HX_REQUEST="true",
        )
        assert_answered(response)
        for call in gokarla.calls:
            assert urlsplit(call.request.url).hostname == HOST

    run()


@pytest.mark.parametrize("path", ["get-order", "get-shipment"])
def test_api_inputs(client, workspace, gokarla, settings, path):
    settings.API_RATE_LIMIT = 1_000_000
    _, key = api_key_create(workspace=workspace, name="Fuzz")

    @HYPOTHESIS
    @example(body={"reference": "1001"})  # a valid one, so GoKarla is reached at least once
    @given(
        body=JSON_VALUES
        | st.fixed_dictionaries({"reference": NASTY}, optional={"account": JSON_VALUES})
    )
    def run(body):
        response = client.post(
            f"/api/v1/actions/{path}",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        assert_answered(response)
        assert response.json()  # always JSON
        assert_stayed_home(gokarla)

    run()

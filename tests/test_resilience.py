"""Resilience: the circuit breaker per account, and every fault through sidebar and API."""

import re
import time

import pytest
import responses

from accounts.api_keys import api_key_create
from accounts.models import GoKarlaAccount
from karla_sidebar import lookups
from karla_sidebar.breaker import CircuitOpen, breaker_is_open
from karla_sidebar.gokarla import InvalidInput, NotGoKarlaAPI, OrderNotFound, Unavailable
from karla_sidebar.models import LookupRecord
from tests.tokens import sidebar_token

ADA = lookups.Actor(source="sidebar", actor_id="a-1", actor_name="Ada Agent")


def order(workspace, reference, **kwargs):
    return lookups.order_lookup(workspace=workspace, reference=reference, actor=ADA, **kwargs)


def trip(workspace, **kwargs):
    """Three failing lookups in a row: the breaker's threshold in these tests."""
    for _ in range(3):
        with pytest.raises(Unavailable):
            order(workspace, "err-500", **kwargs)


@pytest.fixture
def breaker(settings):
    settings.BREAKER_FAILURES = 3
    settings.BREAKER_COOLDOWN_SECONDS = 0.5
    return settings


def test_repeated_failures_open_the_breaker_and_it_fails_fast(
    breaker, workspace, shop_account, sandbox
):
    trip(workspace)
    assert breaker_is_open(account_id=shop_account.pk)
    shop_account.refresh_from_db()
    assert shop_account.status == "failing" and "pausing calls" in shop_account.last_error

    connections = sandbox.connections_opened
    started = time.perf_counter()
    with pytest.raises(CircuitOpen, match="pausing calls"):
        order(workspace, "1001", use_cache=False)
    assert time.perf_counter() - started < 0.1
    assert sandbox.connections_opened == connections  # no upstream call
    assert LookupRecord.objects.filter(outcome="unavailable").count() == 4


def test_after_the_cooldown_one_probe_closes_it(breaker, workspace, shop_account):
    trip(workspace)
    time.sleep(0.6)
    assert order(workspace, "1001").first.record.order_number == "1001"
    assert not breaker_is_open(account_id=shop_account.pk)
    assert GoKarlaAccount.objects.get(pk=shop_account.pk).status == "connected"


def test_a_failed_probe_opens_it_again(breaker, workspace, shop_account):
    trip(workspace)
    time.sleep(0.6)
    with pytest.raises(Unavailable):
        order(workspace, "err-503")
    assert breaker_is_open(account_id=shop_account.pk)


def test_an_address_that_is_not_gokarla_s_api_trips_it(breaker, workspace, shop_account):
    """A route GoKarla does not have (FastAPI's 404 {"detail": "Not Found"}) is a failure of
    the account's address, never "not found": it counts for the breaker."""
    with responses.RequestsMock() as gokarla:  # the account's address, answering as not GoKarla
        gokarla.get(re.compile(r".*"), status=404, json={"detail": "Not Found"})
        for _ in range(3):
            with pytest.raises(NotGoKarlaAPI):
                order(workspace, "1001", use_cache=False)
    assert breaker_is_open(account_id=shop_account.pk)
    assert LookupRecord.objects.filter(outcome="not_gokarla_api").count() == 3


def test_not_found_and_rejections_never_trip_it(breaker, workspace, shop_account):
    for _ in range(6):
        with pytest.raises(OrderNotFound):
            order(workspace, "9999")
    assert not breaker_is_open(account_id=shop_account.pk)


def test_one_broken_account_does_not_pause_another(
    breaker, workspace, shop_account, outlet_account
):
    trip(workspace, account=str(shop_account.pk))
    result = order(workspace, "2001", account=str(outlet_account.pk))
    assert result.first.account_label == "Demo Outlet"


def test_test_connection_closes_the_breaker(breaker, workspace, shop_account):
    from accounts.services import account_test

    trip(workspace)
    account_test(account=GoKarlaAccount.objects.get(pk=shop_account.pk))
    assert not breaker_is_open(account_id=shop_account.pk)


# The fault matrix: each trigger through the sidebar and the API, one record each

FAULTS = [
    # trigger, API status, API code, message the agent or caller reads, history outcome
    ("err-500", 502, "unavailable", "GoKarla is not available right now", "unavailable"),
    ("err-503", 502, "unavailable", "GoKarla is not available right now", "unavailable"),
    ("err-flaky", 404, "not_found", "No order with that number", "not_found"),
    ("err-timeout", 504, "timeout", "GoKarla did not answer in time", "timeout"),
    ("err-429", 429, "rate_limited", "GoKarla is limiting requests", "rate_limited"),
    ("err-malformed", 502, "unexpected_response", "not valid JSON", "unexpected_response"),
    ("err-html", 502, "not_gokarla_api", "answered with a web page", "not_gokarla_api"),
    ("err-redirect", 502, "unexpected_response", "does not follow", "unexpected_response"),
    (
        "err-huge",
        502,
        "unexpected_response",
        "larger than Karla Sidebar accepts",
        "unexpected_response",
    ),
]
UPSTREAM_TEXT = [
    "169.254.169.254",
    "<html",
    "Traceback",
    "internal_server_error",
    "service_unavailable",
    "karla-demo-token",
]


@pytest.fixture
def faults(settings, sandbox, workspace, shop_account):
    settings.GOKARLA_DEADLINE_SECONDS = 1
    settings.BREAKER_FAILURES = 1000  # this matrix is about each fault, not the breaker
    sandbox.reset_faults()
    return settings


@pytest.mark.parametrize(("trigger", "status", "code", "message", "outcome"), FAULTS)
def test_fault_through_the_api(client, faults, workspace, trigger, status, code, message, outcome):
    _, key = api_key_create(workspace=workspace, name="Fault bot")
    response = client.post(
        "/api/v1/actions/get-order",
        {"reference": trigger},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == status
    body = response.json()["error"]
    assert body["code"] == code and message in body["message"]
    assert not any(text in response.content.decode() for text in UPSTREAM_TEXT)
    record = LookupRecord.objects.get()
    assert (record.source, record.reference, record.outcome) == ("workflow", trigger, outcome)


@pytest.mark.parametrize(("trigger", "status", "code", "message", "outcome"), FAULTS)
def test_fault_through_the_sidebar(
    client, faults, workspace, trigger, status, code, message, outcome
):
    token = sidebar_token(workspace, conversation="c-1")
    response = client.post(
        "/sidebar/order/",
        {"reference": trigger},
        HTTP_X_KARLA_SIDEBAR_TOKEN=token,
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and "data-announce=" in page  # said in the sidebar's live region
    assert not any(text in page for text in UPSTREAM_TEXT)
    record = LookupRecord.objects.get()
    assert (record.source, record.reference, record.outcome) == ("sidebar", trigger, outcome)


def test_a_probe_that_never_reaches_gokarla_is_given_back(breaker, workspace, shop_account):
    trip(workspace)
    time.sleep(0.6)
    with pytest.raises(InvalidInput):
        order(workspace, "10\x0701")  # refused before sending: the probe goes back
    assert order(workspace, "1001", use_cache=False).first.record.order_number == "1001"
    assert not breaker_is_open(account_id=shop_account.pk)


def test_a_success_closes_the_breaker_that_other_lookups_opened_while_it_waited(
    breaker, workspace, shop_account, monkeypatch
):
    """While one lookup waits on GoKarla, other agents' lookups fail until the breaker opens.
    When the waiting one then succeeds, GoKarla is up: the breaker closes and the account
    shows as connected again (the breaker's state is read afresh, not as it was before)."""
    real = lookups.account_client

    def client_while_others_fail(*, account, language=""):
        client = real(account=account, language=language)

        class Waiting:
            calls = 0

            def order_find(self, reference):
                monkeypatch.setattr(lookups, "account_client", real)
                trip(workspace)  # the others, meanwhile
                assert breaker_is_open(account_id=shop_account.pk)
                found = client.order_find(reference)
                self.calls = client.calls
                return found

        return Waiting()

    monkeypatch.setattr(lookups, "account_client", client_while_others_fail)
    assert order(workspace, "1001", use_cache=False).first.record.order_number == "1001"
    assert not breaker_is_open(account_id=shop_account.pk)
    assert GoKarlaAccount.objects.get(pk=shop_account.pk).status == "connected"
    assert order(workspace, "1001", use_cache=False).first.record.order_number == "1001"

"""The workflow API: every status of the contract, bodies valid against the OpenAPI document."""

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema_rs
import pytest

from accounts.api_keys import api_key_create, api_key_revoke
from accounts.models import Workspace
from core import ratelimit
from karla_sidebar.models import LookupRecord
from karla_sidebar.openapi import openapi_document

ORDER = "/api/v1/actions/get-order"
SHIPMENT = "/api/v1/actions/get-shipment"
DOCUMENT = openapi_document("http://testserver")


def validate(body: dict, schema_name: str) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": DOCUMENT["components"]}
    jsonschema_rs.validator_for(schema).validate(body)


@pytest.fixture
def acme_key(workspace):
    _, key = api_key_create(workspace=workspace, name="Order bot")
    return key


def call(client, path, key, body=None, *, raw=None, content_type="application/json"):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    data = raw if raw is not None else json.dumps(body)
    return client.post(path, data, content_type=content_type, **headers)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    validate(body, "Error")
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body


# 200


def test_get_order_returns_the_documented_shape(client, acme_key, shop_account):
    response = call(client, ORDER, acme_key, {"reference": "1001"})
    assert response.status_code == 200
    body = response.json()
    validate(body, "OrderResponse")
    order = body["order"]
    assert order["order_number"] == "1001" and order["status"] == "fulfilled"
    assert order["customer"] == {"name": "Jane Doe", "email": "jane@example.com"}
    assert order["shipments"][0]["tracking_number"] == "00340434161094042557"
    assert order["totals"]["total"]["currency"] == "EUR"
    assert body["account"]["label"] == "Demo Shop" and body["matches"] == 1


def test_get_shipment_returns_the_documented_shape(client, acme_key, shop_account):
    call(client, ORDER, acme_key, {"reference": "1001"})  # the order's shipments are now known
    response = call(client, SHIPMENT, acme_key, {"reference": "00340434161094042557"})
    assert response.status_code == 200
    body = response.json()
    validate(body, "ShipmentResponse")
    assert body["resolved_by"] == "index"
    shipment = body["shipment"]
    assert shipment["carrier"] == {"reference": "dhl", "name": "DHL"}
    assert shipment["status"] == "in_transit"
    eta = shipment["estimated_delivery"]
    assert eta["language"] == "de" and eta["text"] and eta["from"] is None
    assert shipment["last_event"]["time"]
    assert shipment["order_number"] == "1001" and shipment["order_id"]


def test_get_shipment_of_an_unknown_tracking_number_says_what_was_searched(
    client, acme_key, shop_account
):
    response = call(client, SHIPMENT, acme_key, {"reference": "00340434161094042557"})
    assert response.status_code == 404
    body = response.json()
    validate(body, "Error")
    assert body["error"]["code"] == "not_found"
    assert "among the 0 shipments Karla Sidebar knows of in Demo Shop" in body["error"]["message"]
    assert "GoKarla cannot look up tracking numbers directly" in body["error"]["message"]


def test_get_shipment_searches_the_customer_s_orders(client, acme_key, shop_account):
    body = {"reference": "1Z999 AA1 0123456784", "customer_email": "anna.huber@example.com"}
    response = call(client, SHIPMENT, acme_key, body)
    assert response.status_code == 200
    assert response.json()["resolved_by"] == "customer"
    assert response.json()["shipment"]["status"] == "delayed"
    again = call(client, SHIPMENT, acme_key, {"reference": "1Z999AA10123456784"})
    assert again.json()["resolved_by"] in ("customer", "index")  # cached, or from the index


@pytest.mark.parametrize("email", [5, "no-at-sign", "x" * 250 + "@a.de"])
def test_a_bad_customer_email_is_refused(client, acme_key, shop_account, email):
    response = call(client, SHIPMENT, acme_key, {"reference": "X1", "customer_email": email})
    assert response.status_code == 400
    assert "customer_email" in response.json()["error"]["message"]


def test_email_search_answers_the_newest_order(client, acme_key, shop_account):
    body = call(client, ORDER, acme_key, {"reference": "jane@example.com"}).json()
    validate(body, "OrderResponse")
    assert body["matches"] == 2 and body["order"]["order_number"] == "1001"


def test_account_all_and_by_id(client, acme_key, outlet_account):
    body = call(client, ORDER, acme_key, {"reference": "2001", "account": "all"}).json()
    assert body["account"]["label"] == "Demo Outlet"
    by_id = call(client, ORDER, acme_key, {"reference": "2001", "account": str(outlet_account.pk)})
    assert by_id.status_code == 200


def test_every_call_leaves_one_workflow_record(client, acme_key, shop_account):
    call(client, ORDER, acme_key, {"reference": "1001"})
    call(client, ORDER, acme_key, {"reference": "9999"})
    call(client, SHIPMENT, acme_key, {"reference": "1001", "extra": 1})
    records = list(LookupRecord.objects.order_by("id"))
    assert [(r.source, r.actor_name, r.outcome) for r in records] == [
        ("workflow", "Order bot", "found"),
        ("workflow", "Order bot", "not_found"),
        ("workflow", "Order bot", "invalid_input"),
    ]


# 400


@pytest.mark.parametrize(
    ("raw", "content_type", "message"),
    [
        ('{"reference": "1001"}', "text/plain", "Content-Type: application/json"),
        ("{not json", "application/json", "not valid JSON"),
        ('["1001"]', "application/json", "must be a JSON object"),
        ('{"reference": "1001", "shop": "x"}', "application/json", "Unknown field(s): shop"),
        ("{}", "application/json", '"reference" is required'),
        ('{"reference": true}', "application/json", '"reference" is required'),
        ('{"reference": ["1001"]}', "application/json", '"reference" is required'),
        ('{"reference": "   "}', "application/json", '"reference" is required'),
        ('{"reference": "1001", "account": [1]}', "application/json", '"account" must be'),
        ('{"reference": "' + "x" * 9000 + '"}', "application/json", "too large"),
        ('{"reference": "a\\u0000b"}', "application/json", ""),
        ("[" * 4000 + "]" * 4000, "application/json", "not valid JSON"),  # RecursionError
        ('{"reference": "\\ud800"}', "application/json", "not valid Unicode"),
        ('{"reference": "1001", "customer_email": "a\\udfff@b.de"}', "application/json", "Unicode"),
        ('{"\\ud800": "x", "reference": "1001"}', "application/json", "not valid Unicode"),
        ('{"reference": ' + "[" * 3000 + "]" * 3000 + "}", "application/json", "not valid JSON"),
    ],
)
def test_bad_input_is_400_with_a_message(
    client, acme_key, shop_account, raw, content_type, message
):
    response = call(client, ORDER, acme_key, raw=raw, content_type=content_type)
    body = assert_error(response, 400, "invalid_input")
    assert message in body["error"]["message"]
    assert LookupRecord.objects.get().outcome == "invalid_input"


# 401


@pytest.mark.parametrize("key", [None, "nope", "karla_" + "x" * 40])
def test_missing_or_unknown_key_is_401(client, key, shop_account):
    response = call(client, ORDER, key, {"reference": "1001"})
    assert_error(response, 401, "unauthorized")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not LookupRecord.objects.exists()


def test_revoked_key_is_refused_at_once(client, workspace, shop_account):
    api_key, key = api_key_create(workspace=workspace, name="Old bot")
    assert call(client, ORDER, key, {"reference": "1001"}).status_code == 200
    api_key_revoke(api_key=api_key)
    assert_error(call(client, ORDER, key, {"reference": "1001"}), 401, "unauthorized")


def test_a_key_is_checked_with_one_query_and_answers_for_its_own_workspace(
    workspace, other_workspace, django_assert_num_queries
):
    """Each workspace's key finds its own workspace (and no secret of it) in one query."""
    from accounts.api_keys import api_key_authenticate

    keys = {
        ws.slug: api_key_create(workspace=ws, name="bot")[1] for ws in (workspace, other_workspace)
    }
    for key in keys.values():
        api_key_authenticate(key=key)  # a key's first use records last_used_at
    names = {workspace.slug: workspace.name, other_workspace.slug: other_workspace.name}
    for slug, key in keys.items():
        with django_assert_num_queries(1):
            found = api_key_authenticate(key=key)
        assert (found.workspace.slug, found.workspace.name) == (slug, names[slug])
        deferred = found.workspace.get_deferred_fields()
        assert {"sidebar_secret", "previous_sidebar_secret"} <= deferred
        created_at = Workspace.objects.get(slug=slug).created_at
        with django_assert_num_queries(1):  # a field left out loads on demand, from its own row
            assert found.workspace.created_at == created_at


# 404


def test_not_found_is_404(client, acme_key, shop_account):
    body = assert_error(call(client, ORDER, acme_key, {"reference": "9999"}), 404, "not_found")
    assert "No order" in body["error"]["message"]
    assert_error(call(client, SHIPMENT, acme_key, {"reference": "NOPE1"}), 404, "not_found")


def test_key_of_another_workspace_cannot_use_this_workspaces_account(
    client, other_workspace, shop_account, globex_account
):
    _, globex_key = api_key_create(workspace=other_workspace, name="Globex bot")
    response = call(
        client, ORDER, globex_key, {"reference": "1001", "account": str(shop_account.pk)}
    )
    body = assert_error(response, 404, "not_found")
    assert body["error"]["message"] == "No such GoKarla account in this workspace."
    assert "1001" not in json.dumps(body)


# 409


def test_no_connected_account_is_409(client, acme_key):
    assert_error(call(client, ORDER, acme_key, {"reference": "1001"}), 409, "no_account")


# 429


def test_rate_limit_answers_429_and_recovers(client, acme_key, shop_account, settings, monkeypatch):
    settings.API_RATE_LIMIT = 3
    now = 1_800_000_000.0
    monkeypatch.setattr(ratelimit.time, "time", lambda: now)
    for _ in range(3):
        assert call(client, ORDER, acme_key, {"reference": "1001"}).status_code == 200
    response = call(client, ORDER, acme_key, {"reference": "1001"})
    assert_error(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert LookupRecord.objects.filter(outcome="rate_limited").count() == 1
    now += 60  # the next minute
    assert call(client, ORDER, acme_key, {"reference": "1001"}).status_code == 200


# 502 and 504


@pytest.mark.parametrize(
    ("reference", "status", "code"),
    [
        ("err-500", 502, "unavailable"),
        ("err-malformed", 502, "unexpected_response"),
        ("err-redirect", 502, "unexpected_response"),
        ("err-timeout", 504, "timeout"),
    ],
)
def test_gokarla_failures(client, acme_key, shop_account, settings, reference, status, code):
    settings.GOKARLA_DEADLINE_SECONDS = 1
    body = assert_error(call(client, ORDER, acme_key, {"reference": reference}), status, code)
    assert "169.254" not in body["error"]["message"]


def test_rejected_gokarla_credentials_are_502(client, acme_key, shop_account):
    type(shop_account).objects.filter(pk=shop_account.pk).update(api_token="karla-revoked-token")
    body = assert_error(
        call(client, ORDER, acme_key, {"reference": "1001"}), 502, "credentials_rejected"
    )
    assert "karla-revoked-token" not in json.dumps(body)


def test_get_is_405_json(client, acme_key):
    response = client.get(ORDER, HTTP_AUTHORIZATION=f"Bearer {acme_key}")
    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"


# The document


def test_openapi_document_is_served_and_describes_both_actions(client):
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {"/api/v1/actions/get-order", "/api/v1/actions/get-shipment"}
    responses = document["paths"]["/api/v1/actions/get-order"]["post"]["responses"]
    assert set(responses) == {"200", "400", "401", "404", "409", "429", "502", "504"}


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_or_schema_violation(
    live_server, workspace, shop_account, settings
):
    _, key = api_key_create(workspace=workspace, name="Schemathesis")
    settings.API_RATE_LIMIT = 100_000
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{live_server.url}/api/v1/openapi.json",
            "--url",
            live_server.url,
            "--header",
            f"Authorization: Bearer {key}",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,"
            "response_schema_conformance,response_headers_conformance",
            "--max-examples",
            "40",
            "--seed",
            "1",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    # Exit 0 means no check failed. (Schemathesis may warn that most generated references
    # are rejected: random references are not orders, so 404 is the right answer.)
    assert re.search(r"\d+ generated, \d+ passed", result.stdout), result.stdout[-2000:]
    assert "FAILURES" not in result.stdout


# The API keys tab

KEYS_TAB = "/settings/integrations/gokarla/api-keys/"


def test_admin_creates_a_key_shown_once_then_revokes_it(alice_client, workspace, shop_account):
    from django.contrib.sessions.models import Session
    from django.test import Client

    created = alice_client.post(KEYS_TAB + "create/", {"name": "Order bot"})
    assert created.status_code == 201
    assert "no-store" in created["Cache-Control"]
    created = created.content.decode()
    key = created.split('id="new-api-key">')[1].split("<")[0]
    assert key.startswith("karla_") and len(key) > 30
    assert Session.objects.exists()
    for stored in Session.objects.all():
        assert key not in str(stored.get_decoded())  # never kept server-side in plain text
    listing = alice_client.get(KEYS_TAB).content.decode()
    assert "Order bot" in listing and key[:12] in listing and key not in listing  # shown once
    api = Client()
    assert call(api, ORDER, key, {"reference": "1001"}).status_code == 200
    assert "Never" not in alice_client.get(KEYS_TAB).content.decode()  # last used is shown

    from accounts.models import ApiKey

    row = ApiKey.objects.get(name="Order bot")
    assert row.key_hash != key and key not in row.key_hash
    alice_client.post(f"{KEYS_TAB}{row.pk}/revoke/")
    assert call(api, ORDER, key, {"reference": "1001"}).status_code == 401


def test_keys_tab_is_for_admins_of_the_workspace_only(leo_client, gwen_client, workspace):
    api_key, _ = api_key_create(workspace=workspace, name="Acme bot")
    assert leo_client.get(KEYS_TAB).status_code == 403
    assert gwen_client.post(f"{KEYS_TAB}{api_key.pk}/revoke/").status_code == 404
    api_key.refresh_from_db()
    assert api_key.is_active
    assert "Acme bot" not in gwen_client.get(KEYS_TAB).content.decode()


def test_a_numeric_reference_is_an_order_number(client, acme_key, shop_account):
    body = call(client, ORDER, acme_key, {"reference": 1001}).json()
    assert body["order"]["order_number"] == "1001"


def test_unknown_api_paths_answer_json_404(client):
    from django.test import Client

    for method in ("get", "post", "put"):
        # A real client gets CSRF checks (the test client skips them unless told).
        response = getattr(Client(enforce_csrf_checks=True), method)("/api/v1/actions/get-refund")
        assert response.status_code == 404
        validate(response.json(), "Error")


# The customer guard: an automation that answers customers never shows anyone else's order.


@pytest.mark.parametrize(
    ("path", "reference"),
    [(ORDER, "1006"), (ORDER, "#1006"), (SHIPMENT, "1Z999AA10123456784")],
)
def test_another_customer_s_order_reads_exactly_like_not_found(
    client, acme_key, shop_account, path, reference
):
    """Anna's order 1006 asked for on behalf of Jane: 404, the very body a missing one gets."""
    call(client, ORDER, acme_key, {"reference": "1006"})  # the index knows 1006's parcel
    jane = "jane@example.com"
    missing = "9999" if path == ORDER else "NOPE-123"
    nothing = call(client, path, acme_key, {"reference": missing, "customer_email": jane})
    theirs = call(client, path, acme_key, {"reference": reference, "customer_email": jane})
    assert theirs.status_code == nothing.status_code == 404
    assert theirs.json() == nothing.json()
    assert LookupRecord.objects.order_by("id").last().outcome == "not_found"


def test_the_customer_s_own_order_is_answered_whatever_the_case(client, acme_key, shop_account):
    response = call(
        client, ORDER, acme_key, {"reference": "1001", "customer_email": "JANE@Example.com"}
    )
    assert response.status_code == 200
    assert response.json()["order"]["customer"]["email"] == "jane@example.com"


def test_an_email_search_keeps_only_the_customer_s_orders(client, acme_key, shop_account):
    body = call(
        client,
        ORDER,
        acme_key,
        {"reference": "jane@example.com", "customer_email": "jane@example.com"},
    ).json()
    assert body["matches"] == 2
    other = call(
        client,
        ORDER,
        acme_key,
        {"reference": "jane@example.com", "customer_email": "anna.huber@example.com"},
    )
    assert other.status_code == 404


def test_a_key_can_require_the_customer(alice_client, client, workspace, shop_account):
    """Set on the API keys tab: calls without customer_email are refused, and with it only
    that customer's orders come back."""
    created = alice_client.post(
        KEYS_TAB + "create/", {"name": "Customer bot", "requires_customer_email": "on"}
    ).content.decode()
    key = created.split('id="new-api-key">')[1].split("<")[0]
    refused = call(client, ORDER, key, {"reference": "1001"})
    assert refused.status_code == 400
    assert '"customer_email" is required with this API key' in refused.json()["error"]["message"]
    assert (
        call(
            client, ORDER, key, {"reference": "1001", "customer_email": "jane@example.com"}
        ).status_code
        == 200
    )
    assert (
        call(
            client, ORDER, key, {"reference": "1006", "customer_email": "jane@example.com"}
        ).status_code
        == 404
    )

    from accounts.models import ApiKey

    row = ApiKey.objects.get(name="Customer bot")
    alice_client.post(f"{KEYS_TAB}{row.pk}/customer-guard/", {"required": "0"})
    assert call(client, ORDER, key, {"reference": "1001"}).status_code == 200
    page = alice_client.get(KEYS_TAB).content.decode()
    assert "Require customer_email" in page

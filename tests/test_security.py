"""The security checklist. Each section is one promise of the README's "Security" section.

1. Launch tokens          5. Secrets never leave the server
2. Sidebar tokens         6. Brute force
3. Framing and headers    7. GoKarla redirects are never followed
4. Isolation between workspaces

Related suites: tests/test_launch.py (token internals), tests/test_accounts_tab.py and
tests/test_api.py (isolation per endpoint), tests/test_resilience.py (fault matrix).
"""

import contextlib
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import Client

from karla_sidebar import lookups
from karla_sidebar.gokarla import GoKarlaError
from karla_sidebar.models import LookupRecord
from tests.test_sidebar import REFUSED, claims, launch, sign
from tests.tokens import MISSING, sidebar_token
from tests.tokens import b64json as b64

ROOT = Path(__file__).resolve().parent.parent
TOKEN_HEADER = "HTTP_X_KARLA_SIDEBAR_TOKEN"


# 1. Launch tokens: every bad one is a 401 with no data


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(
            lambda: sign(claims(iat=int(time.time()) - 400, exp=int(time.time()) - 100)),
            id="expired",
        ),
        pytest.param(lambda: sign(claims())[:-3] + "abc", id="tampered"),
        pytest.param(lambda: sign(claims(aud="someone-else")), id="wrong-aud"),
        pytest.param(lambda: sign(claims(iss="not-armincx")), id="wrong-iss"),
        pytest.param(
            lambda: f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}.", id="alg-none"
        ),
        pytest.param(lambda: sign(claims(), algorithm="HS512"), id="hs512"),
        pytest.param(
            lambda: f"{b64({'alg': 'RS256', 'typ': 'JWT'})}.{b64(claims())}.c2ln", id="rs256"
        ),
        pytest.param(
            lambda: sign(claims(), secret="globex-sidebar-secret-0123456789abcdef"),
            id="other-workspace-secret",
        ),
        pytest.param(lambda: sign(claims(sub=MISSING)), id="missing-sub"),
        pytest.param(lambda: sign(claims(jti=MISSING)), id="missing-jti"),
        pytest.param(lambda: sign(claims(exp=int(time.time()) + 3600)), id="over-long-lifetime"),
        pytest.param(lambda: sign(claims(workspace="nope")), id="unknown-workspace"),
        pytest.param(lambda: "", id="no-token"),
    ],
)
def test_bad_launch_is_refused_with_no_data(client, shop_account, other_workspace, make_token):
    response = launch(client, make_token())
    assert response.status_code == 401
    body = response.content.decode()
    assert REFUSED in body
    assert "Get Order" not in body and "karla-sidebar-token" not in body


def test_launch_token_is_single_use(client, shop_account):
    token = sign(claims())
    assert launch(client, token).status_code == 200
    assert launch(client, token).status_code == 401


def test_refusal_logs_reason_but_never_the_token(client, shop_account, caplog):
    token = sign(claims(aud="nope"))
    launch(client, token)
    assert "refused" in caplog.text
    assert token not in caplog.text and token.split(".")[2] not in caplog.text


# 2. Sidebar tokens: short-lived, bound to the workspace, only in the header


def test_expired_sidebar_token_is_refused(client, workspace, shop_account, settings):
    token = sidebar_token(workspace)
    settings.SIDEBAR_TOKEN_SECONDS = 0
    time.sleep(1)
    response = client.post("/sidebar/order/", {"reference": "1001"}, **{TOKEN_HEADER: token})
    assert response.status_code == 401


def test_sidebar_token_for_another_workspace_is_refused(client, workspace, other_workspace):
    forged = sidebar_token(other_workspace, workspace_slug=workspace.slug)
    response = client.post("/sidebar/order/", {"reference": "1001"}, **{TOKEN_HEADER: forged})
    assert response.status_code == 401


def test_sidebar_token_as_cookie_or_query_is_refused(workspace, shop_account):
    token = sidebar_token(workspace)
    client = Client()
    client.cookies["X-Karla-Sidebar-Token"] = token
    client.cookies["sidebar_token"] = token
    assert client.post("/sidebar/order/", {"reference": "1001"}).status_code == 401
    assert client.post(f"/sidebar/order/?token={token}", {"reference": "1001"}).status_code == 401


# 3. Framing and headers on every kind of response


def test_sidebar_may_be_framed_only_by_armincx(client, settings, shop_account):
    """By ArminCX, and by the app's own pages (the Sidebar tab's test sidebar)."""
    settings.SIDEBAR_FRAME_ANCESTORS = ["https://app.armincx.example"]
    for response in (launch(client, sign(claims())), launch(client, "bad")):
        assert "X-Frame-Options" not in response
        policy = response["Content-Security-Policy"]
        # Directives in any order: django-csp does not keep one.
        directives = {part.strip() for part in policy.split(";")}
        assert "frame-ancestors 'self' https://app.armincx.example" in directives
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    "path",
    [
        "/login/",
        "/settings/integrations/gokarla/accounts/",
        "/no-such-page/",
        "/django-admin/login/",
    ],
)
def test_everything_else_refuses_framing(client, db, path):
    response = client.get(path)
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/api/v1/actions/get-order"), ("get", "/api/v1/openapi.json")],
)
def test_api_responses_carry_the_security_headers(client, db, method, path):
    response = getattr(client, method)(path)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_deploy_check_is_clean_with_production_settings():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "SECURE_SSL_REDIRECT"}
    }
    env.update(
        KARLA_ENV_FILE="",
        DEBUG="0",
        SECRET_KEY="p" * 30 + Fernet.generate_key().decode(),
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        SANDBOX_ENABLED="0",
        ALLOWED_HOSTS="karla.example.com",
        REDIS_URL="redis://127.0.0.1:6379/1",
    )
    result = _deploy_check(env)
    assert result.returncode == 0, result.stdout + result.stderr
    without_redis = {name: value for name, value in env.items() if name != "REDIS_URL"}
    result = _deploy_check(without_redis)
    assert result.returncode != 0
    assert "karla_sidebar.E001" in result.stderr and "REDIS_URL is not set" in result.stderr


def _deploy_check(env):
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_admin_cookies_are_secure_httponly_and_lax(client, alice):
    client.get("/login/")
    response = client.post("/login/", {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 302
    for name in ("sessionid", "csrftoken"):
        cookie = response.cookies.get(name) or client.cookies[name]
        assert cookie["secure"] and cookie["httponly"], name
        assert cookie["samesite"] == "Lax", name


# 4. Isolation: another workspace's ids answer 404; cache keys carry the workspace


def test_cache_keys_carry_the_workspace_and_the_language(workspace, shop_account):
    key = lookups._cache_key(workspace, shop_account, "order", "1001", "de")
    assert key.startswith(f"lookup:v3:{workspace.pk}:{shop_account.pk}:")
    assert key != lookups._cache_key(workspace, shop_account, "order", "1001", "en")


@pytest.mark.parametrize(
    "path",
    [
        "/settings/integrations/gokarla/accounts/{id}/test/",
        "/settings/integrations/gokarla/accounts/{id}/token/",
        "/settings/integrations/gokarla/accounts/{id}/default/",
        "/settings/integrations/gokarla/accounts/{id}/remove/",
    ],
)
def test_another_workspaces_account_ids_answer_404(gwen_client, shop_account, path):
    assert gwen_client.post(path.format(id=shop_account.pk)).status_code == 404


# 5. Secrets: the GoKarla token never leaves the server


def test_token_never_in_logs_even_at_debug_during_failures(client, workspace, shop_account, caplog):
    caplog.set_level(logging.DEBUG)
    actor = lookups.Actor(source="sidebar", actor_id="a-1", actor_name="Ada")
    for reference in ("1001", "err-500", "err-html", "err-redirect"):
        with contextlib.suppress(GoKarlaError):
            lookups.order_lookup(
                workspace=workspace, reference=reference, actor=actor, use_cache=False
            )
    type(shop_account).objects.filter(pk=shop_account.pk).update(api_token="karla-revoked-token")
    with pytest.raises(GoKarlaError) as failure:
        lookups.order_lookup(workspace=workspace, reference="1001", actor=actor, use_cache=False)
    assert caplog.records
    for secret in ("karla-demo-token", "karla-revoked-token", "ZGVtby1zaG9w"):
        assert secret not in caplog.text
        assert secret not in str(failure.value) and secret not in repr(failure.value)


def test_server_error_page_shows_no_token(workspace, shop_account, monkeypatch):
    from karla_sidebar import sidebar

    def explode(**kwargs):
        raise RuntimeError(f"boom with {shop_account.api_token!r}")  # a bug leaking secrets

    monkeypatch.setattr(sidebar.lookups, "order_lookup", explode)
    client = Client(raise_request_exception=False)
    response = client.post(
        "/sidebar/order/", {"reference": "1001"}, **{TOKEN_HEADER: sidebar_token(workspace)}
    )
    assert response.status_code == 500
    assert b"karla-demo-token" not in response.content
    assert b"Traceback" not in response.content


# 6. Brute force: failed logins are limited; API keys are rate limited (tests/test_api.py)


def test_repeated_failed_logins_are_locked_out(client, alice, settings):
    settings.LOGIN_FAILURES_PER_USER = 3
    for _ in range(3):
        response = client.post("/login/", {"username": "alice", "password": "guess"})
        assert response.status_code == 200
    response = client.post("/login/", {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_successful_login_resets_the_count(client, alice, settings):
    settings.LOGIN_FAILURES_PER_USER = 3
    client.post("/login/", {"username": "alice", "password": "guess"})
    client.post("/login/", {"username": "alice", "password": "guess"})
    assert client.post("/login/", {"username": "alice", "password": "pw-alice"}).status_code == 302
    client.logout()
    client.post("/login/", {"username": "alice", "password": "guess"})
    assert client.post("/login/", {"username": "alice", "password": "pw-alice"}).status_code == 302


def test_the_django_admin_login_is_throttled_with_the_app_s(client, settings, db):
    """Superusers see every tenant: guessing their password at /django-admin/ counts like any
    login, and locks both doors."""
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("root", password="pw-root-correct")
    settings.LOGIN_FAILURES_PER_USER = 3
    for _ in range(3):
        client.post("/django-admin/login/", {"username": "root", "password": "guess"})
    response = client.post(
        "/django-admin/login/", {"username": "root", "password": "pw-root-correct"}
    )
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert (
        client.post("/login/", {"username": "root", "password": "pw-root-correct"}).status_code
        == 429
    )


@pytest.mark.parametrize("look_alike", ["ａlice", "ALICE", " alice ", "Ａｌｉｃｅ"])
def test_a_look_alike_username_shares_the_budget(client, alice, settings, look_alike):
    """Django logs in with the NFKC form of the name: ``ａlice`` (full-width a) is alice."""
    settings.LOGIN_FAILURES_PER_USER = 3
    for _ in range(3):
        client.post("/login/", {"username": "alice", "password": "guess"})
    response = client.post("/login/", {"username": look_alike, "password": "guess"})
    assert response.status_code == 429


def _login_from(client, address, forwarded=None, username="nobody"):
    extra = {"REMOTE_ADDR": address}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post("/login/", {"username": username, "password": "guess"}, **extra)


def test_behind_a_trusted_proxy_each_client_has_its_own_budget(client, db, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.LOGIN_FAILURES_PER_ADDRESS = 3
    for number in range(3):  # one client, three usernames, through the load balancer
        _login_from(client, "10.0.0.5", "203.0.113.7", username=f"user-{number}")
    assert _login_from(client, "10.0.0.5", "203.0.113.7", "x").status_code == 429
    assert _login_from(client, "10.0.0.5", "198.51.100.9", "y").status_code == 200  # another


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(client, db, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.LOGIN_FAILURES_PER_ADDRESS = 3
    for number in range(3):  # the attacker claims a new address every time
        _login_from(client, "203.0.113.66", f"198.51.100.{number}", username=f"u{number}")
    assert _login_from(client, "203.0.113.66", "198.51.100.200", "v").status_code == 429


def test_a_client_cannot_hide_behind_a_forged_hop_left_of_the_proxy(client, db, settings):
    """X-Forwarded-For: <forged>, <client>: the proxy appended the real client last."""
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    settings.LOGIN_FAILURES_PER_ADDRESS = 2
    _login_from(client, "10.0.0.5", "1.1.1.1, 203.0.113.7", username="a")
    _login_from(client, "10.0.0.5", "2.2.2.2, 203.0.113.7", username="b")
    assert _login_from(client, "10.0.0.5", "3.3.3.3, 203.0.113.7", "c").status_code == 429


def test_an_invalid_trusted_proxy_setting_fails_loudly():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "karla_sidebar.settings",
            "DEBUG": "1",
            "TRUSTED_PROXIES": "10.0.0.0/8,not-a-network",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXIES: 'not-a-network' is not an IP address or network" in result.stderr


def _sidebar(client, workspace, agent="a-1"):
    return {TOKEN_HEADER: sidebar_token(workspace, agent_id=agent), "HTTP_HX_REQUEST": "true"}


def test_the_sidebar_s_gokarla_calls_are_budgeted_per_agent(
    client, workspace, shop_account, settings
):
    """One token holder may not spend the tenant's GoKarla credentials at will."""
    settings.SIDEBAR_GOKARLA_CALLS_PER_AGENT = 3
    ada = _sidebar(client, workspace, "a-1")
    for reference in ("1001", "1002", "1003"):
        assert (
            "Too many lookups"
            not in client.post(
                "/sidebar/order/", {"reference": reference, "refresh": "1"}, **ada
            ).content.decode()
        )
    over = client.post("/sidebar/order/", {"reference": "1005", "refresh": "1"}, **ada)
    assert "Too many lookups from the sidebar in the last minute" in over.content.decode()
    assert LookupRecord.objects.order_by("id").last().outcome == "rate_limited"
    # What was already fetched is still answered, and another agent is not affected.
    assert "#1001" in client.post("/sidebar/order/", {"reference": "1001"}, **ada).content.decode()
    bea = _sidebar(client, workspace, "a-2")
    assert "#1005" in client.post("/sidebar/order/", {"reference": "1005"}, **bea).content.decode()


def test_the_sidebar_s_gokarla_calls_are_budgeted_per_workspace(
    client, workspace, shop_account, settings
):
    settings.SIDEBAR_GOKARLA_CALLS_PER_WORKSPACE = 2
    for number, reference in enumerate(("1001", "1002")):
        client.post(
            "/sidebar/order/",
            {"reference": reference},
            **_sidebar(client, workspace, f"a-{number}"),
        )
    over = client.post(
        "/sidebar/order/", {"reference": "1003"}, **_sidebar(client, workspace, "a-9")
    )
    assert "Too many lookups" in over.content.decode()


def test_a_refresh_right_after_an_answer_reuses_it(client, workspace, shop_account, settings):
    settings.LOOKUP_REFRESH_REUSE_SECONDS = 5
    ada = _sidebar(client, workspace)
    client.post("/sidebar/order/", {"reference": "1001"}, **ada)
    for _ in range(5):  # an impatient agent hammering Refresh
        client.post("/sidebar/order/", {"reference": "1001", "refresh": "1"}, **ada)
    assert list(LookupRecord.objects.order_by("id").values_list("cached", flat=True)) == [
        False,
        True,
        True,
        True,
        True,
        True,
    ]


# 7. GoKarla redirects are never followed (also per trigger in tests/test_resilience.py)


def test_redirect_to_metadata_address_is_not_followed(workspace, shop_account, sandbox):
    from karla_sidebar.gokarla import UnexpectedResponse

    actor = lookups.Actor(source="sidebar", actor_id="a-1", actor_name="Ada")
    with pytest.raises(UnexpectedResponse, match="does not follow"):
        lookups.order_lookup(workspace=workspace, reference="err-redirect", actor=actor)


def test_private_answers_are_never_cached(alice_client, client, workspace, shop_account):
    from accounts.api_keys import api_key_create

    _, key = api_key_create(workspace=workspace, name="Bot")
    responses = [
        alice_client.get("/settings/integrations/gokarla/accounts/"),
        alice_client.post("/settings/integrations/gokarla/sidebar/secret/"),
        alice_client.get("/settings/integrations/gokarla/history/export.csv"),
        launch(client, sign(claims())),
        client.post(
            "/api/v1/actions/get-order",
            {"reference": "1001"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        ),
    ]
    for response in responses:
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], response.request["PATH_INFO"]

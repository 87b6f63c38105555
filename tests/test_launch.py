"""The sidebar launch: ArminCX's signed launch token, then our short-lived sidebar token."""

import contextlib
import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.contrib.auth.models import User
from django.core import signing
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import Workspace
from karla_sidebar.armincx import launch_token_mint
from karla_sidebar.launch import LaunchRefused, launch_token_verify
from karla_sidebar.sidebar_session import (
    SIDEBAR_TOKEN_HEADER,
    SidebarSession,
    SidebarTokenInvalid,
    sidebar_session_start,
    sidebar_token_issue,
    sidebar_token_verify,
)
from tests.tokens import MISSING
from tests.tokens import b64url as _b64
from tests.tokens import launch_claims as _claims

ACME_SECRET = "acme-sidebar-secret-" + "0123456789abcdef" * 3
OTHER_SECRET = "other-sidebar-secret-0123456789abcdef"
REQUIRED = ["iss", "aud", "workspace", "sub", "name", "iat", "exp", "jti"]


@pytest.fixture
def acme(db) -> Workspace:
    return Workspace.objects.create(slug="acme", name="Acme", sidebar_secret=ACME_SECRET)


@pytest.fixture
def other(db) -> Workspace:
    return Workspace.objects.create(slug="other", name="Other", sidebar_secret=OTHER_SECRET)


def _signed(payload: dict, secret: str = ACME_SECRET, header: dict | None = None) -> str:
    """A token signed with HMAC-SHA256 whatever the header claims, JSON as given."""
    header = {"alg": "HS256", "typ": "JWT"} if header is None else header
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _refusal(token) -> str:
    with pytest.raises(LaunchRefused) as refused:
        launch_token_verify(token)
    return refused.value.reason


# The launch token -----------------------------------------------------------------------


def test_valid_token_names_the_agent_and_the_conversation(acme):
    token = launch_token_mint(
        workspace=acme,
        agent_id="a-1",
        agent_name="Ada Agent",
        conversation="c-42",
        customer_email="jane@example.com",
        email="ada@example.com",
        tz="Europe/Berlin",
    )

    claims = launch_token_verify(token)

    assert (claims.workspace_slug, claims.agent_id, claims.agent_name) == (
        "acme",
        "a-1",
        "Ada Agent",
    )
    assert claims.conversation == "c-42"
    assert claims.customer_email == "jane@example.com"
    assert claims.email == "ada@example.com"
    assert claims.tz == "Europe/Berlin"
    assert timezone.now() < claims.expires_at <= timezone.now() + timedelta(seconds=300)


def test_optional_claims_default_to_empty(acme):
    claims = launch_token_verify(
        launch_token_mint(workspace=acme, agent_id="a-1", agent_name="Ada")
    )

    assert (claims.conversation, claims.customer_email, claims.email, claims.tz) == ("", "", "", "")


def test_unknown_time_zone_is_dropped_not_refused(acme):
    claims = launch_token_verify(_signed(_claims(tz="Mars/Olympus_Mons")))

    assert claims.tz == ""


def test_expired_token_is_refused(acme):
    now = int(time.time())

    assert _refusal(_signed(_claims(iat=now - 400, exp=now - 100))) == "expired"


def test_token_just_past_expiry_is_accepted_within_leeway(acme):
    now = int(time.time())

    assert launch_token_verify(_signed(_claims(iat=now - 300, exp=now - 10))).agent_id == "a-1"


def test_token_issued_in_the_future_is_refused(acme):
    now = int(time.time())

    assert _refusal(_signed(_claims(iat=now + 120, exp=now + 300))) == "issued in the future"


def test_tampered_payload_is_refused(acme):
    header, _, signature = launch_token_mint(
        workspace=acme, agent_id="a-1", agent_name="Ada"
    ).split(".")
    forged = _b64(json.dumps(_claims(sub="a-admin")).encode())

    assert _refusal(f"{header}.{forged}.{signature}") == "bad signature"


def test_wrong_audience_is_refused(acme):
    assert _refusal(_signed(_claims(aud="someone-else"))) == "wrong audience"


def test_audience_list_is_refused(acme):
    assert _refusal(_signed(_claims(aud=["karla-sidebar", "someone-else"]))) == "wrong audience"


def test_wrong_issuer_is_refused(acme):
    assert _refusal(_signed(_claims(iss="mallory"))) == "wrong issuer"


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_unsigned_alg_none_token_is_refused(acme, alg):
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims()).encode())

    assert _refusal(f"{header}.{payload}.") == f"algorithm not allowed: {alg}"


def test_hs512_token_is_refused_even_with_the_right_secret(acme):
    token = jwt.encode(_claims(), ACME_SECRET, algorithm="HS512")

    assert _refusal(token) == "algorithm not allowed: HS512"


def test_rs256_header_is_refused(acme):
    token = _signed(_claims(), header={"alg": "RS256", "typ": "JWT"})

    assert _refusal(token) == "algorithm not allowed: RS256"


def test_missing_algorithm_is_refused(acme):
    assert _refusal(_signed(_claims(), header={"typ": "JWT"})) == "algorithm not allowed: ?"


def test_replayed_jti_is_refused(acme):
    token = launch_token_mint(workspace=acme, agent_id="a-1", agent_name="Ada")
    launch_token_verify(token)

    assert _refusal(token) == "replayed jti"


def test_a_used_token_stays_used_whatever_the_cache_forgets(acme):
    """Single use must not depend on a cache: per-process caches (one per worker) and eviction
    (the local-memory cache culls after 300 entries) would let a used token in again."""
    from django.core.cache import cache

    token = _signed(_claims())
    launch_token_verify(token)
    cache.clear()  # another worker's cache, or this one after eviction
    assert _refusal(token) == "replayed jti"


def test_same_jti_in_another_workspace_is_independent(acme, other):
    launch_token_verify(_signed(_claims(jti="shared-jti")))

    claims = launch_token_verify(
        _signed(_claims(workspace="other", jti="shared-jti"), OTHER_SECRET)
    )

    assert claims.workspace_slug == "other"


def test_token_signed_with_another_workspaces_secret_is_refused(acme, other):
    token = launch_token_mint(workspace=acme, agent_id="a-1", agent_name="Ada", secret=OTHER_SECRET)

    assert _refusal(token) == "bad signature"


@pytest.mark.parametrize("claim", REQUIRED)
def test_token_missing_a_required_claim_is_refused(acme, claim):
    reason = _refusal(_signed(_claims(**{claim: MISSING})))

    expected = (
        "missing or malformed workspace claim" if claim == "workspace" else f"missing claim {claim}"
    )
    assert reason == expected


def test_lifetime_over_ten_minutes_is_refused(acme):
    now = int(time.time())

    assert _refusal(_signed(_claims(iat=now, exp=now + 601))) == "lifetime longer than 600 s"


def test_lifetime_of_exactly_ten_minutes_is_accepted(acme):
    now = int(time.time())

    assert launch_token_verify(_signed(_claims(iat=now, exp=now + 600))).agent_id == "a-1"


def test_previous_secret_is_accepted_during_the_grace_period(acme):
    acme.previous_sidebar_secret = "rotated-out-secret-0123456789abcdef"
    acme.previous_secret_expires_at = timezone.now() + timedelta(hours=1)
    acme.sidebar_secret = "brand-new-secret-0123456789abcdef01"
    acme.save()

    claims = launch_token_verify(_signed(_claims(), "rotated-out-secret-0123456789abcdef"))

    assert claims.workspace_slug == "acme"


def test_previous_secret_is_refused_after_the_grace_period(acme):
    acme.previous_sidebar_secret = "rotated-out-secret-0123456789abcdef"
    acme.previous_secret_expires_at = timezone.now() - timedelta(seconds=1)
    acme.sidebar_secret = "brand-new-secret-0123456789abcdef01"
    acme.save()

    assert _refusal(_signed(_claims(), "rotated-out-secret-0123456789abcdef")) == "bad signature"


def test_current_secret_still_works_after_rotation(acme):
    acme.previous_sidebar_secret = ACME_SECRET
    acme.previous_secret_expires_at = timezone.now() + timedelta(hours=1)
    acme.sidebar_secret = "brand-new-secret-0123456789abcdef01"
    acme.save()

    claims = launch_token_verify(_signed(_claims(), "brand-new-secret-0123456789abcdef01"))

    assert claims.agent_id == "a-1"


def test_unknown_workspace_is_refused(acme):
    token = launch_token_mint(
        workspace="nope", agent_id="a-1", agent_name="Ada", secret=ACME_SECRET
    )

    assert _refusal(token) == "unknown workspace"


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("sub", ""),
        ("sub", "   "),
        ("sub", 42),
        ("sub", "x" * 201),
        ("name", ""),
        ("name", ["Ada"]),
        ("name", "x" * 201),
        ("jti", 7),
        ("jti", ""),
        ("jti", "has spaces in it"),
        ("iat", True),
        ("iat", "1700000000"),
        ("exp", 1.5e308),
        ("conversation", 42),
        ("customer_email", {"a": 1}),
        ("email", None),
        ("tz", "x" * 65),
        ("conversation", "c" * 201),
        ("workspace", 5),
        ("workspace", "acme/../other"),
    ],
)
def test_claim_of_the_wrong_type_or_size_is_refused(acme, claim, value):
    _refusal(_signed(_claims(**{claim: value})))


def test_overlong_token_is_refused(acme):
    assert _refusal(_signed(_claims(name="Ada", pad="x" * 5000))) == "malformed token"


@pytest.mark.parametrize("garbage", ["", "a.b", "a.b.c", "...", "é.é.é", None, 42, b"a.b.c"])
def test_garbage_is_refused(db, garbage):
    _refusal(garbage)


def test_refusal_is_logged_with_reason_and_workspace_but_not_the_token(acme, caplog):
    token = _signed(_claims(aud="someone-else"))

    with caplog.at_level(logging.WARNING, logger="karla_sidebar.launch"):
        _refusal(token)

    assert "wrong audience" in caplog.text
    assert "acme" in caplog.text
    for part in token.split("."):
        assert part not in caplog.text


@hypothesis_settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_text_is_refused_or_valid_never_an_error(acme, text):
    with contextlib.suppress(LaunchRefused):
        launch_token_verify(text)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@hypothesis_settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    replaced=st.dictionaries(
        st.sampled_from([*REQUIRED, "conversation", "customer_email", "email", "tz", "nbf"]),
        _json,
        max_size=4,
    ),
    header=st.none()
    | st.dictionaries(st.sampled_from(["alg", "typ", "kid", "crit", "b64"]), _json),
)
def test_correctly_signed_token_with_any_claim_values_never_errors(acme, replaced, header):
    token = _signed(_claims(**replaced), header=header)

    try:
        claims = launch_token_verify(token)
    except LaunchRefused:
        return
    assert claims.workspace_slug == "acme"


# The sidebar token ------------------------------------------------------------------------


def _session(workspace: Workspace, **overrides) -> SidebarSession:
    fields = {
        "workspace_id": workspace.pk,
        "workspace_slug": workspace.slug,
        "agent_id": "a-1",
        "agent_name": "Ada Agent",
        "conversation": "c-42",
        "customer_email": "jane@example.com",
        "tz": "Europe/Berlin",
        "started_at": int(time.time()),
        "secret_generation": workspace.sidebar_secret_generation,
    }
    return SidebarSession(**{**fields, **overrides})


def test_sidebar_session_starts_from_a_verified_launch(acme):
    claims = launch_token_verify(
        launch_token_mint(
            workspace=acme,
            agent_id="a-1",
            agent_name="Ada Agent",
            conversation="c-42",
            customer_email="jane@example.com",
            tz="Europe/Berlin",
        )
    )

    session = sidebar_session_start(claims)
    assert session == _session(acme, started_at=session.started_at, language="en")
    assert abs(session.started_at - time.time()) < 5


def test_sidebar_token_round_trips(acme):
    session = _session(acme)

    assert sidebar_token_verify(sidebar_token_issue(session)) == session


def test_sidebar_token_expires(acme, settings, monkeypatch):
    settings.SIDEBAR_TOKEN_SECONDS = 900
    token = sidebar_token_issue(_session(acme))
    issued = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: issued + 901)

    with pytest.raises(SidebarTokenInvalid):
        sidebar_token_verify(token)


def test_sidebar_token_is_valid_until_it_expires(acme, settings, monkeypatch):
    settings.SIDEBAR_TOKEN_SECONDS = 900
    token = sidebar_token_issue(_session(acme))
    issued = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: issued + 890)

    assert sidebar_token_verify(token).agent_id == "a-1"


def test_tampered_sidebar_token_is_refused(acme):
    token = sidebar_token_issue(_session(acme))
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")

    with pytest.raises(SidebarTokenInvalid):
        sidebar_token_verify(tampered)


def test_value_signed_for_another_purpose_is_not_a_sidebar_token(acme):
    token = signing.dumps({"workspace_id": acme.pk}, salt="something-else")

    with pytest.raises(SidebarTokenInvalid):
        sidebar_token_verify(token)


def test_sidebar_token_for_a_deleted_workspace_is_refused(acme):
    token = sidebar_token_issue(_session(acme))
    acme.delete()

    with pytest.raises(SidebarTokenInvalid):
        sidebar_token_verify(token)


def test_sidebar_token_whose_slug_no_longer_matches_is_refused(acme):
    token = sidebar_token_issue(_session(acme))
    acme.slug = "acme-renamed"
    acme.save()

    with pytest.raises(SidebarTokenInvalid):
        sidebar_token_verify(token)


# The decorator: only the header authenticates ---------------------------------------------


@pytest.fixture
def sidebar_token(acme) -> str:
    return sidebar_token_issue(_session(acme))


@pytest.mark.urls("tests.launch_urls")
def test_header_lets_the_agent_in_and_renews_the_token(client, acme, sidebar_token):
    response = client.get("/whoami/", headers={SIDEBAR_TOKEN_HEADER: sidebar_token})

    assert response.status_code == 200
    assert response.content == b"Ada Agent in acme"
    assert sidebar_token_verify(response[SIDEBAR_TOKEN_HEADER]) == _session(acme)
    assert "no-store" in response["Cache-Control"]


@pytest.mark.urls("tests.launch_urls")
def test_post_with_header_needs_no_csrf_cookie(acme, sidebar_token):
    client = Client(enforce_csrf_checks=True)

    response = client.post("/whoami/", headers={SIDEBAR_TOKEN_HEADER: sidebar_token})

    assert response.status_code == 200


@pytest.mark.urls("tests.launch_urls")
def test_no_header_is_refused_with_a_friendly_fragment(client, acme):
    response = client.get("/whoami/")

    assert response.status_code == 401
    assert b"Your sidebar session has expired" in response.content
    assert SIDEBAR_TOKEN_HEADER not in response


@pytest.mark.urls("tests.launch_urls")
def test_logged_in_django_session_without_header_is_refused(client, acme):
    client.force_login(User.objects.create_user("admin", password="irrelevant-password"))

    assert client.get("/whoami/").status_code == 401


@pytest.mark.urls("tests.launch_urls")
def test_token_in_query_string_is_refused(client, sidebar_token):
    assert client.get("/whoami/", {"token": sidebar_token}).status_code == 401


@pytest.mark.urls("tests.launch_urls")
def test_token_in_cookie_is_refused(client, sidebar_token):
    client.cookies[SIDEBAR_TOKEN_HEADER] = sidebar_token
    client.cookies["token"] = sidebar_token

    assert client.get("/whoami/").status_code == 401


@pytest.mark.urls("tests.launch_urls")
def test_launch_token_in_header_is_refused(client, acme):
    launch_token = launch_token_mint(workspace=acme, agent_id="a-1", agent_name="Ada")

    assert client.get("/whoami/", headers={SIDEBAR_TOKEN_HEADER: launch_token}).status_code == 401


@pytest.mark.urls("tests.launch_urls")
def test_expired_header_token_is_refused(client, acme, sidebar_token, monkeypatch):
    later = time.time() + 901
    monkeypatch.setattr(signing.time, "time", lambda: later)

    assert client.get("/whoami/", headers={SIDEBAR_TOKEN_HEADER: sidebar_token}).status_code == 401


# The sidebar_url command ------------------------------------------------------------------


def test_sidebar_url_prints_a_launch_url_that_verifies(acme, capsys):
    call_command(
        "sidebar_url",
        "--workspace=acme",
        "--agent=a-1",
        "--name=Ada Agent",
        "--conversation=c-42",
        "--customer-email=jane@example.com",
        "--email=ada@example.com",
        "--tz=Europe/Berlin",
        "--base-url=http://127.0.0.1:9000/",
    )

    url = urlsplit(capsys.readouterr().out.strip())
    assert f"{url.scheme}://{url.netloc}" == "http://127.0.0.1:9000"
    assert url.path.startswith("/sidebar/")
    claims = launch_token_verify(parse_qs(url.query)["token"][0])
    assert (claims.workspace_slug, claims.agent_id, claims.agent_name) == (
        "acme",
        "a-1",
        "Ada Agent",
    )
    assert (claims.conversation, claims.customer_email) == ("c-42", "jane@example.com")
    assert (claims.email, claims.tz) == ("ada@example.com", "Europe/Berlin")


def test_sidebar_url_defaults_to_the_local_app(acme, capsys):
    call_command("sidebar_url", "--workspace=acme", "--agent=a-1", "--name=Ada")

    assert capsys.readouterr().out.startswith("http://127.0.0.1:8000/sidebar/?token=")


def test_sidebar_url_for_an_unknown_workspace_says_so(db):
    with pytest.raises(CommandError, match="No workspace with the slug 'nope'"):
        call_command("sidebar_url", "--workspace=nope", "--agent=a-1", "--name=Ada")


def test_sidebar_url_refuses_a_lifetime_over_ten_minutes(acme):
    with pytest.raises(CommandError, match="ttl_seconds"):
        call_command("sidebar_url", "--workspace=acme", "--agent=a-1", "--name=Ada", "--ttl=601")


def test_a_session_ends_after_its_hours_however_often_renewed(acme, settings):
    settings.SIDEBAR_SESSION_HOURS = 12
    fresh_token_of_an_old_session = sidebar_token_issue(
        _session(acme, started_at=int(time.time()) - 12 * 3600 - 5)
    )
    with pytest.raises(SidebarTokenInvalid, match="session too old"):
        sidebar_token_verify(fresh_token_of_an_old_session)
    recent = sidebar_token_issue(_session(acme, started_at=int(time.time()) - 11 * 3600))
    assert sidebar_token_verify(recent).agent_id == "a-1"


def test_rotating_the_secret_ends_old_sessions_after_the_grace_period(acme, settings):
    from accounts.services import workspace_rotate_sidebar_secret

    token = sidebar_token_issue(_session(acme))
    workspace_rotate_sidebar_secret(workspace=acme)
    assert sidebar_token_verify(token).agent_id == "a-1"  # the grace period
    Workspace.objects.filter(pk=acme.pk).update(previous_secret_expires_at=timezone.now())
    with pytest.raises(SidebarTokenInvalid, match="sidebar secret rotated"):
        sidebar_token_verify(token)


def test_two_rotations_end_a_session_at_once(acme):
    from accounts.services import workspace_rotate_sidebar_secret

    token = sidebar_token_issue(_session(acme))
    workspace_rotate_sidebar_secret(workspace=acme)
    workspace_rotate_sidebar_secret(workspace=Workspace.objects.get(pk=acme.pk))
    with pytest.raises(SidebarTokenInvalid, match="sidebar secret rotated"):
        sidebar_token_verify(token)


def test_a_session_launched_with_the_previous_secret_belongs_to_it(acme):
    """Launched during the grace period with the old secret: the session ends with it."""
    from accounts.services import workspace_rotate_sidebar_secret

    old_secret = acme.sidebar_secret
    workspace_rotate_sidebar_secret(workspace=acme)
    acme.refresh_from_db()
    claims = launch_token_verify(
        launch_token_mint(workspace=acme.slug, agent_id="a", agent_name="A", secret=old_secret)
    )
    session = sidebar_session_start(claims)
    assert session.secret_generation == acme.sidebar_secret_generation - 1
    Workspace.objects.filter(pk=acme.pk).update(previous_secret_expires_at=timezone.now())
    with pytest.raises(SidebarTokenInvalid, match="sidebar secret rotated"):
        sidebar_token_verify(sidebar_token_issue(session))

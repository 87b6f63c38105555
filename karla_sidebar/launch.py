"""How an agent gets into the sidebar: the ArminCX launch token, then a sidebar token.

ArminCX vouches for an agent with a short HS256 JWT signed with the workspace's sidebar
secret (DESIGN.md, "Sidebar launch"). The launch view verifies it once and hands the page
a sidebar token: signed by us, short-lived, sent back in the ``X-Karla-Sidebar-Token``
request header on every HTMX request and renewed on every answer. No cookie is involved,
so the sidebar works inside a cross-site iframe with third-party cookies blocked.

Refusals are logged with a reason and the workspace slug, never with the token.
"""

import logging
import math
import random
import re
import time
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import wraps
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jwt
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.html import escape
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt

from accounts import selectors
from accounts.models import Workspace
from karla_sidebar.languages import sidebar_language
from karla_sidebar.models import UsedLaunchToken

logger = logging.getLogger("karla_sidebar.launch")

ISSUER = "armincx"
AUDIENCE = "karla-sidebar"
ALGORITHM = "HS256"
MAX_LIFETIME_SECONDS = 600
LEEWAY_SECONDS = 30
MAX_TOKEN_LENGTH = 4096
# Each launch deletes the expired used-token rows with this chance (they are few and small).
_PURGE_CHANCE = 0.02
REQUIRED_CLAIMS = ("iss", "aud", "workspace", "sub", "name", "iat", "exp", "jti")
OPTIONAL_CLAIMS = {
    "conversation": 200,
    "customer_email": 254,
    "email": 254,
    "tz": 64,
    "locale": 35,
}
MAX_AGENT_FIELD_LENGTH = 200

SIDEBAR_TOKEN_HEADER = "X-Karla-Sidebar-Token"  # noqa: S105 (a header name, not a secret)
SIDEBAR_TOKEN_SALT = "karla-sidebar.session"  # noqa: S105 (a namespace; SECRET_KEY signs)

_JWT_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_SLUG_SHAPE = re.compile(r"[-a-zA-Z0-9_]{1,63}")
# Safe in any cache backend's keys (no spaces or control characters), long enough for UUIDs.
_JTI_SHAPE = re.compile(r"[A-Za-z0-9_.:+/=-]{1,128}")
_ALG_SHAPE = re.compile(r"[A-Za-z0-9]{1,10}")


def session_expired_html() -> str:
    """The 401's body: the sidebar's script asks the host for a fresh launch token first
    (DESIGN.md, "Host messages") and shows this only when none comes."""
    message = gettext("Your sidebar session has expired. Reopen the conversation to continue.")
    return f'<div class="card alert alert-error" role="alert">{escape(message)}</div>'


class LaunchRefused(Exception):
    """A launch token that does not let anyone in. ``reason`` is for the log only."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SidebarTokenInvalid(Exception):
    """A sidebar token that is malformed, tampered with, expired, or for a gone workspace."""


@dataclass(frozen=True)
class LaunchClaims:
    workspace_slug: str
    agent_id: str
    agent_name: str
    conversation: str
    customer_email: str
    email: str
    tz: str
    jti: str
    expires_at: datetime
    # The language ArminCX asks for (a tag such as ``de-DE``), or "".
    locale: str = ""
    # The sidebar secret that signed the token: the workspace's current generation, or the
    # one before it (a previous secret still in its grace period).
    secret_generation: int = 1


@dataclass(frozen=True)
class SidebarSession:
    workspace_id: int
    workspace_slug: str
    agent_id: str
    agent_name: str
    conversation: str
    customer_email: str
    tz: str
    # When the launch happened (seconds since the epoch): a session ends SIDEBAR_SESSION_HOURS
    # later however active; and the secret generation that let it in (rotation ends it).
    started_at: int = 0
    secret_generation: int = 0
    # The sidebar's language, chosen at launch (karla_sidebar.languages): every request of
    # the session renders in it, and GoKarla is asked in it.
    language: str = ""


def launch_token_mint(
    *,
    workspace: Workspace | str,
    agent_id: str,
    agent_name: str,
    conversation: str = "",
    customer_email: str = "",
    email: str = "",
    tz: str = "",
    locale: str = "",
    ttl_seconds: int = 300,
    secret: str | None = None,
) -> str:
    """Sign a launch token the way ArminCX does (the reference shown to integrators).

    ``workspace`` is a Workspace, or a slug together with ``secret``; ``secret`` defaults
    to the workspace's current sidebar secret.
    """
    if isinstance(workspace, str):
        slug = workspace
        if secret is None:
            raise ValueError("Minting for a workspace slug needs the secret.")
    else:
        slug = workspace.slug
        secret = workspace.sidebar_secret if secret is None else secret
    if not secret:
        raise ValueError(f"Workspace {slug!r} has no usable sidebar secret.")
    if not 0 < ttl_seconds <= MAX_LIFETIME_SECONDS:
        raise ValueError(f"ttl_seconds must be between 1 and {MAX_LIFETIME_SECONDS}.")
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "workspace": slug,
        "sub": agent_id,
        "name": agent_name,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    optional = {
        "conversation": conversation,
        "customer_email": customer_email,
        "email": email,
        "tz": tz,
        "locale": locale,
    }
    claims.update({name: value for name, value in optional.items() if value})
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def launch_token_verify(token: str) -> LaunchClaims:
    """The agent ArminCX vouches for, or LaunchRefused. Each token works once."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise _refused("malformed token")
    if not _JWT_SHAPE.fullmatch(token):
        raise _refused("malformed token")
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError, RecursionError):
        raise _refused("malformed token") from None

    # Decided from our own rule before any verification, so "none" or a public-key
    # algorithm named by the token can never select how it is checked.
    alg = header.get("alg")
    if alg != ALGORITHM:
        shown = alg if isinstance(alg, str) and _ALG_SHAPE.fullmatch(alg) else "?"
        raise _refused(f"algorithm not allowed: {shown}")

    slug = unverified.get("workspace")
    if not isinstance(slug, str) or not _SLUG_SHAPE.fullmatch(slug):
        raise _refused("missing or malformed workspace claim")
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        raise _refused("unknown workspace", slug)

    secrets = _accepted_secrets(workspace)
    if not secrets:
        raise _refused("workspace has no usable sidebar secret", slug)
    payload, signed_by = _verified_payload(token, secrets, slug)
    claims = replace(
        _claims_from_payload(payload, slug),
        secret_generation=workspace.sidebar_secret_generation - signed_by,
    )

    if not _first_use(workspace, claims):
        raise _refused("replayed jti", slug)
    return claims


def _first_use(workspace: Workspace, claims) -> bool:
    """Record the token's ``jti`` as used; False when it already was. In the database, where
    no cache eviction or per-process cache can forget it (a token opens one sidebar, once,
    whichever app server sees it)."""
    now = timezone.now()
    if random.random() < _PURGE_CHANCE:
        UsedLaunchToken.objects.filter(expires_at__lt=now).delete()
    expires_at = claims.expires_at + timedelta(seconds=LEEWAY_SECONDS)
    try:
        with transaction.atomic():
            UsedLaunchToken.objects.create(
                workspace=workspace, jti=claims.jti, expires_at=expires_at
            )
    except IntegrityError:
        return False
    return True


def _accepted_secrets(workspace: Workspace) -> list[str]:
    # An undecryptable secret reads as "" and so is never accepted.
    secrets = [workspace.sidebar_secret] if workspace.sidebar_secret else []
    expires_at = workspace.previous_secret_expires_at
    if workspace.previous_sidebar_secret and expires_at and expires_at > timezone.now():
        secrets.append(workspace.previous_sidebar_secret)
    return secrets


def _verified_payload(token: str, secrets: list[str], slug: str) -> tuple[dict, int]:
    """The verified claims, and which of ``secrets`` signed them (0: the current one)."""
    for position, secret in enumerate(secrets):
        try:
            payload = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                audience=AUDIENCE,
                leeway=LEEWAY_SECONDS,
                options={"require": list(REQUIRED_CLAIMS), "strict_aud": True},
            )
            return payload, position
        except jwt.InvalidSignatureError:
            continue
        except jwt.ExpiredSignatureError:
            raise _refused("expired", slug) from None
        except jwt.ImmatureSignatureError:
            raise _refused("issued in the future", slug) from None
        except jwt.InvalidAudienceError:
            raise _refused("wrong audience", slug) from None
        except jwt.InvalidIssuerError:
            raise _refused("wrong issuer", slug) from None
        except jwt.MissingRequiredClaimError as error:
            raise _refused(f"missing claim {error.claim}", slug) from None
        except jwt.PyJWTError as error:
            raise _refused(f"invalid token ({type(error).__name__})", slug) from None
        except (ValueError, TypeError, OverflowError, RecursionError):
            raise _refused("malformed claims", slug) from None
    raise _refused("bad signature", slug)


def _claims_from_payload(payload: dict, slug: str) -> LaunchClaims:
    iat, exp = payload["iat"], payload["exp"]
    if not (_is_number(iat) and _is_number(exp)):
        raise _refused("iat and exp must be numbers", slug)
    # PyJWT has checked both against the clock (with leeway); the lifetime is ours to cap.
    if exp - iat > MAX_LIFETIME_SECONDS:
        raise _refused("lifetime longer than 600 s", slug)

    agent_id, agent_name, jti = payload["sub"], payload["name"], payload["jti"]
    for claim, value in (("sub", agent_id), ("name", agent_name)):
        if not _is_short_text(value, MAX_AGENT_FIELD_LENGTH) or not value.strip():
            raise _refused(f"malformed claim {claim}", slug)
    if not isinstance(jti, str) or not _JTI_SHAPE.fullmatch(jti):
        raise _refused("malformed claim jti", slug)
    optional = {}
    for claim, max_length in OPTIONAL_CLAIMS.items():
        value = payload.get(claim, "")
        if not _is_short_text(value, max_length):
            raise _refused(f"malformed claim {claim}", slug)
        optional[claim] = value.strip()

    return LaunchClaims(
        workspace_slug=slug,
        agent_id=agent_id.strip(),
        agent_name=agent_name.strip(),
        conversation=optional["conversation"],
        customer_email=optional["customer_email"],
        email=optional["email"],
        tz=_known_time_zone(optional["tz"]),
        jti=jti,
        expires_at=datetime.fromtimestamp(exp, tz=UTC),
        locale=optional["locale"],
    )


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_short_text(value, max_length: int) -> bool:
    return isinstance(value, str) and len(value) <= max_length


def _known_time_zone(name: str) -> str:
    # The zone is only a display preference: an unknown one falls back to the default
    # rather than locking the agent out.
    if not name:
        return ""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ""
    return name


def _refused(reason: str, slug: str | None = None) -> LaunchRefused:
    logger.warning("sidebar launch refused: %s (workspace %s)", reason, slug or "unknown")
    return LaunchRefused(reason)


def sidebar_session_start(claims: LaunchClaims, *, browser_language: str = "") -> SidebarSession:
    """The sidebar session for a verified launch. LaunchRefused if the workspace went away.

    Its language: the ``locale`` claim, else the workspace's default, else the browser's."""
    workspace = Workspace.objects.filter(slug=claims.workspace_slug).first()
    if workspace is None:
        raise _refused("unknown workspace", claims.workspace_slug)
    language = sidebar_language(
        claim=claims.locale, workspace_default=workspace.sidebar_language, browser=browser_language
    )
    return SidebarSession(
        workspace_id=workspace.pk,
        workspace_slug=workspace.slug,
        agent_id=claims.agent_id,
        agent_name=claims.agent_name,
        conversation=claims.conversation,
        customer_email=claims.customer_email,
        tz=claims.tz,
        started_at=int(time.time()),
        secret_generation=claims.secret_generation,
        language=language,
    )


def sidebar_token_issue(session: SidebarSession) -> str:
    return signing.dumps(asdict(session), salt=SIDEBAR_TOKEN_SALT, compress=True)


def sidebar_token_verify(token: str) -> SidebarSession:
    return _sidebar_token_load(token)[0]


def _sidebar_token_load(token: str) -> tuple[SidebarSession, Workspace]:
    if not token:
        raise SidebarTokenInvalid("missing")
    try:
        data = signing.loads(token, salt=SIDEBAR_TOKEN_SALT, max_age=settings.SIDEBAR_TOKEN_SECONDS)
    except signing.SignatureExpired:
        raise SidebarTokenInvalid("expired") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise SidebarTokenInvalid("bad signature") from None
    try:
        session = SidebarSession(**data)
    except TypeError:
        raise SidebarTokenInvalid("malformed") from None
    if not isinstance(session.workspace_id, int) or isinstance(session.workspace_id, bool):
        raise SidebarTokenInvalid("malformed")
    workspace = selectors.workspace_for_session(
        workspace_id=session.workspace_id, slug=session.workspace_slug
    )
    if workspace is None:
        raise SidebarTokenInvalid("unknown workspace")
    if time.time() - session.started_at > settings.SIDEBAR_SESSION_HOURS * 3600:
        raise SidebarTokenInvalid("session too old")
    if not _secret_still_accepted(session.secret_generation, workspace):
        raise SidebarTokenInvalid("sidebar secret rotated")
    return session, workspace


def _secret_still_accepted(generation: int, workspace: Workspace) -> bool:
    """The current secret's generation, or the previous one while its grace period lasts."""
    current = workspace.sidebar_secret_generation
    if generation == current:
        return True
    expires_at = workspace.previous_secret_expires_at
    return generation == current - 1 and bool(expires_at) and expires_at > timezone.now()


def sidebar_session_required(view):
    """Let in only requests carrying a valid sidebar token in the X-Karla-Sidebar-Token header.

    Sets ``request.sidebar`` (the SidebarSession) and ``request.workspace``, and answers with
    a renewed token in the same response header. Cookies, Django sessions and query strings
    never authenticate here. The view is CSRF-exempt: a custom header cannot be sent
    cross-site without a CORS preflight we never grant, and the sidebar's cross-site iframe
    may not get Django's CSRF cookie at all.
    """
    return _sidebar_session(view, renew=True)


def sidebar_session_checked(view):
    """As ``sidebar_session_required``, but the token is not renewed: for requests the
    sidebar makes by itself (polling), which must not keep an idle agent's session alive."""
    return _sidebar_session(view, renew=False)


def _sidebar_session(view, *, renew: bool):
    @csrf_exempt
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        token = request.headers.get(SIDEBAR_TOKEN_HEADER, "")
        try:
            session, workspace = _sidebar_token_load(token)
        except SidebarTokenInvalid as error:
            logger.info("sidebar token refused: %s", error)
            response = HttpResponse(session_expired_html(), status=401)
        else:
            request.sidebar = session
            request.workspace = workspace
            # The session's language, not the request's: chosen once, at launch.
            with translation.override(session.language or settings.LANGUAGE_CODE):
                response = view(request, *args, **kwargs)
                response.headers.setdefault("Content-Language", translation.get_language())
            if renew:
                response[SIDEBAR_TOKEN_HEADER] = sidebar_token_issue(session)
        # The answer depends on (and may carry) a bearer token: never cache it anywhere.
        patch_vary_headers(response, [SIDEBAR_TOKEN_HEADER])
        add_never_cache_headers(response)
        return response

    return wrapped

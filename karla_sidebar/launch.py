"""ArminCX's launch token: how the sidebar checks that ArminCX vouches for an agent.

ArminCX signs a short HS256 JWT with the workspace's sidebar secret (README, "Embedding in
ArminCX"; ``armincx.py`` signs one the same way). The launch view verifies it once, here;
the sidebar session that follows is ``sidebar_session.py``'s.

Refusals are logged with a reason and the workspace slug, never with the token.
"""

import logging
import math
import random
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jwt
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Workspace
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

_JWT_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_SLUG_SHAPE = re.compile(r"[-a-zA-Z0-9_]{1,63}")
# Safe in any cache backend's keys (no spaces or control characters), long enough for UUIDs.
_JTI_SHAPE = re.compile(r"[A-Za-z0-9_.:+/=-]{1,128}")
_ALG_SHAPE = re.compile(r"[A-Za-z0-9]{1,10}")


class LaunchRefused(Exception):
    """A launch token that does not let anyone in. ``reason`` is for the log only."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


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


def launch_token_verify(token: str) -> LaunchClaims:
    """The agent ArminCX vouches for, or LaunchRefused. Each token works once."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise launch_refused("malformed token")
    if not _JWT_SHAPE.fullmatch(token):
        raise launch_refused("malformed token")
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError, RecursionError):
        raise launch_refused("malformed token") from None

    # Decided from our own rule before any verification, so "none" or a public-key
    # algorithm named by the token can never select how it is checked.
    alg = header.get("alg")
    if alg != ALGORITHM:
        shown = alg if isinstance(alg, str) and _ALG_SHAPE.fullmatch(alg) else "?"
        raise launch_refused(f"algorithm not allowed: {shown}")

    slug = unverified.get("workspace")
    if not isinstance(slug, str) or not _SLUG_SHAPE.fullmatch(slug):
        raise launch_refused("missing or malformed workspace claim")
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        raise launch_refused("unknown workspace", slug)

    secrets = _accepted_secrets(workspace)
    if not secrets:
        raise launch_refused("workspace has no usable sidebar secret", slug)
    payload, signed_by = _verified_payload(token, secrets, slug)
    claims = replace(
        _claims_from_payload(payload, slug),
        secret_generation=workspace.sidebar_secret_generation - signed_by,
    )

    if not _first_use(workspace, claims):
        raise launch_refused("replayed jti", slug)
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
            raise launch_refused("expired", slug) from None
        except jwt.ImmatureSignatureError:
            raise launch_refused("issued in the future", slug) from None
        except jwt.InvalidAudienceError:
            raise launch_refused("wrong audience", slug) from None
        except jwt.InvalidIssuerError:
            raise launch_refused("wrong issuer", slug) from None
        except jwt.MissingRequiredClaimError as error:
            raise launch_refused(f"missing claim {error.claim}", slug) from None
        except jwt.PyJWTError as error:
            raise launch_refused(f"invalid token ({type(error).__name__})", slug) from None
        except (ValueError, TypeError, OverflowError, RecursionError):
            raise launch_refused("malformed claims", slug) from None
    raise launch_refused("bad signature", slug)


def _claims_from_payload(payload: dict, slug: str) -> LaunchClaims:
    iat, exp = payload["iat"], payload["exp"]
    if not (_is_number(iat) and _is_number(exp)):
        raise launch_refused("iat and exp must be numbers", slug)
    # PyJWT has checked both against the clock (with leeway); the lifetime is ours to cap.
    if exp - iat > MAX_LIFETIME_SECONDS:
        raise launch_refused("lifetime longer than 600 s", slug)

    agent_id, agent_name, jti = payload["sub"], payload["name"], payload["jti"]
    for claim, value in (("sub", agent_id), ("name", agent_name)):
        if not _is_short_text(value, MAX_AGENT_FIELD_LENGTH) or not value.strip():
            raise launch_refused(f"malformed claim {claim}", slug)
    if not isinstance(jti, str) or not _JTI_SHAPE.fullmatch(jti):
        raise launch_refused("malformed claim jti", slug)
    optional = {}
    for claim, max_length in OPTIONAL_CLAIMS.items():
        value = payload.get(claim, "")
        if not _is_short_text(value, max_length):
            raise launch_refused(f"malformed claim {claim}", slug)
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


def launch_refused(reason: str, slug: str | None = None) -> LaunchRefused:
    """A refusal, logged with its reason and the workspace slug (never the token)."""
    logger.warning("sidebar launch refused: %s (workspace %s)", reason, slug or "unknown")
    return LaunchRefused(reason)

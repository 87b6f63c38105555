"""The sidebar session: after a verified launch, the sidebar token that keeps an agent in.

The launch view hands the page a sidebar token: signed by us (``SECRET_KEY``), short-lived,
sent back in the ``X-Karla-Sidebar-Token`` request header on every HTMX request and renewed on
every answer (``sidebar_access.py``). No cookie is involved, so the sidebar works inside a
cross-site iframe with third-party cookies blocked.
"""

import time
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core import signing
from django.utils import timezone

from accounts import selectors
from accounts.models import Workspace
from karla_sidebar.languages import sidebar_language
from karla_sidebar.launch import LaunchClaims, launch_refused

SIDEBAR_TOKEN_HEADER = "X-Karla-Sidebar-Token"  # noqa: S105 (a header name, not a secret)
SIDEBAR_TOKEN_SALT = "karla-sidebar.session"  # noqa: S105 (a namespace; SECRET_KEY signs)


class SidebarTokenInvalid(Exception):
    """A sidebar token that is malformed, tampered with, expired, or for a gone workspace."""


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


def sidebar_session_start(claims: LaunchClaims, *, browser_language: str = "") -> SidebarSession:
    """The sidebar session for a verified launch. LaunchRefused if the workspace went away.

    Its language: the ``locale`` claim, else the workspace's default, else the browser's."""
    workspace = Workspace.objects.filter(slug=claims.workspace_slug).first()
    if workspace is None:
        raise launch_refused("unknown workspace", claims.workspace_slug)
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
    """The session a sidebar token carries, or SidebarTokenInvalid."""
    return sidebar_token_load(token)[0]


def sidebar_token_load(token: str) -> tuple[SidebarSession, Workspace]:
    """The session and its workspace (read once, for the request), or SidebarTokenInvalid."""
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

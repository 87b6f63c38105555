"""ArminCX's side of the launch: signing a launch token, as the host does.

The reference for integrators (README, "Embedding in ArminCX", shows the same in Python and
JavaScript). The app itself only verifies launch tokens (``launch.py``); the demo's host page
and ``manage.py sidebar_url`` sign them here, as ArminCX would.
"""

import time
import uuid

import jwt

from accounts.models import Workspace
from karla_sidebar.launch import ALGORITHM, AUDIENCE, ISSUER, MAX_LIFETIME_SECONDS


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

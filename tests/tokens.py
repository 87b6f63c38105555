"""Launch-token building blocks shared by the launch, sidebar and security tests."""

import base64
import json
import time
import uuid

MISSING = object()  # leave the claim out (None would send an explicit null)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(data: dict) -> str:
    return b64url(json.dumps(data).encode())


def launch_claims(**overrides) -> dict:
    """Valid claims for workspace "acme", with any claim replaced or (MISSING) left out."""
    now = int(time.time())
    claims = {
        "iss": "armincx",
        "aud": "karla-sidebar",
        "workspace": "acme",
        "sub": "a-1",
        "name": "Ada Agent",
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not MISSING}


def sidebar_token(workspace, **overrides) -> str:
    """A valid sidebar session token for an agent of that workspace."""
    from karla_sidebar.sidebar_session import SidebarSession, sidebar_token_issue

    fields = {
        "workspace_id": workspace.pk,
        "workspace_slug": workspace.slug,
        "agent_id": "a-1",
        "agent_name": "Ada",
        "conversation": "",
        "customer_email": "",
        "tz": "",
        "started_at": int(time.time()),
        "secret_generation": workspace.sidebar_secret_generation,
    }
    return sidebar_token_issue(SidebarSession(**{**fields, **overrides}))

"""Shared pytest fixtures.

The GoKarla sandbox: ``sandbox`` is one stand-in GoKarla API server for the whole session
(``sandbox.server.SandboxServer``: ``.url``, ``.connections_opened``, ``.reset_faults()``);
``sandbox_settings`` points the app at it for one test.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from sandbox.server import SandboxServer, make_server


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    """The sandbox, serving on a free local port in a daemon thread for the whole session."""
    server = make_server(port=0).start()
    yield server
    server.stop()


@pytest.fixture
def sandbox_settings(sandbox: SandboxServer, settings) -> SandboxServer:
    """Enable the sandbox origin in the app's settings for this test; returns the sandbox."""
    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_URL = sandbox.url
    return sandbox


@pytest.fixture
def gokarla_calls(caplog):
    """The GoKarla requests made so far (path and parameter names), from the client's log."""
    caplog.set_level(logging.INFO, logger="karla_sidebar.gokarla")

    def calls():
        return [
            record.getMessage().split(" -> ")[0].removeprefix("GoKarla ")
            for record in caplog.records
            if record.name == "karla_sidebar.gokarla"
        ]

    return calls


# Personas: a workspace "Acme" with an admin (Alice) and a lead (Leo), connected to both
# sandbox shops; and another tenant, "Globex", with its own admin (Gwen) and account.


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (lookups, single-use launch tokens)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _member(workspace, username: str, role: str):
    from django.contrib.auth import get_user_model

    from accounts.models import Membership

    user = get_user_model().objects.create_user(username=username, password="pw-" + username)
    Membership.objects.create(user=user, workspace=workspace, role=role)
    return user


@pytest.fixture
def workspace(db):
    from accounts.models import Workspace

    return Workspace.objects.create(
        slug="acme", name="Acme", sidebar_secret="acme-sidebar-secret-0123456789abcdef"
    )


@pytest.fixture
def other_workspace(db):
    from accounts.models import Workspace

    return Workspace.objects.create(
        slug="globex", name="Globex", sidebar_secret="globex-sidebar-secret-0123456789abcdef"
    )


@pytest.fixture
def alice(workspace):
    """Workspace admin of Acme."""
    return _member(workspace, "alice", "admin")


@pytest.fixture
def leo(workspace):
    """Support lead of Acme."""
    return _member(workspace, "leo", "lead")


@pytest.fixture
def gwen(other_workspace):
    """Workspace admin of Globex."""
    return _member(other_workspace, "gwen", "admin")


def _logged_in(user):
    """A test client of its own, signed in as that user (personas may act side by side)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice):
    return _logged_in(alice)


@pytest.fixture
def leo_client(leo):
    return _logged_in(leo)


@pytest.fixture
def gwen_client(gwen):
    return _logged_in(gwen)


def connect(workspace, username: str, token: str, label: str, url: str):
    from accounts.services import account_connect

    return account_connect(
        workspace=workspace, url=url, username=username, token=token, label=label
    )


@pytest.fixture
def shop_account(workspace, sandbox_settings):
    """Acme's default account: the sandbox's demo-shop."""
    return connect(workspace, "demo-shop", "karla-demo-token", "Demo Shop", sandbox_settings.url)


@pytest.fixture
def outlet_account(workspace, shop_account, sandbox_settings):
    """Acme's second account: the sandbox's demo-outlet."""
    return connect(
        workspace, "demo-outlet", "karla-outlet-token", "Demo Outlet", sandbox_settings.url
    )


@pytest.fixture
def globex_account(other_workspace, sandbox_settings):
    return connect(
        other_workspace, "demo-shop", "karla-demo-token", "Globex Shop", sandbox_settings.url
    )


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogs():
    """The message catalogs compiled, as `make test` does first: a bare pytest run speaks
    German too (scripts/messages.py, Babel only; rewrites a .mo only when its .po changed)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / "messages.py"
    spec = importlib.util.spec_from_file_location("karla_messages", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.compile_catalogs(quiet=True)

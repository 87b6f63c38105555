"""Shared pytest fixtures.

The GoKarla sandbox: ``sandbox`` is one stand-in GoKarla API server for the whole session
(``sandbox.server.SandboxServer``: ``.url``, ``.connections_opened``, ``.reset_faults()``);
``sandbox_settings`` points the app at it for one test.
"""

from __future__ import annotations

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

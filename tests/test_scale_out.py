"""Scale-out: two gunicorn app servers sharing one PostgreSQL and one Redis behave as one.

Runs when the suite runs on PostgreSQL with Redis (``DATABASE_URL=postgres://…`` and
``REDIS_URL``, as in .ci/run's second pass); on the embedded default there is nothing shared
to prove, so it is skipped there.
"""

import base64
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from sandbox.server import make_server

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = pytest.mark.skipif(
    not (DATABASE_URL.startswith("postgres") and REDIS_URL),
    reason="scale-out needs PostgreSQL and Redis (DATABASE_URL=postgres://…, REDIS_URL)",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="module")
def cluster(sandbox, tmp_path_factory):
    """Two gunicorn instances, their shared environment, and the demo data they serve: in a
    database and a Redis key prefix of this run's own, both removed afterwards (runs side by
    side never meet), static files collected outside the checkout."""
    import psycopg
    import redis

    run = f"scale_out_{os.getpid()}_{secrets.token_hex(4)}"
    database = f"karla_{run}"
    admin_url = with_database(DATABASE_URL, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {database}")
    cache = redis.Redis.from_url(REDIS_URL)
    try:
        yield from _servers(sandbox, tmp_path_factory, database, run)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        for key in cache.scan_iter(f"{run}:*"):
            cache.delete(key)


def _servers(sandbox, tmp_path_factory, database: str, run: str):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DJANGO_SETTINGS_MODULE": "karla_sidebar.settings",
        "KARLA_ENV_FILE": "",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "DATABASE_URL": with_database(DATABASE_URL, database),
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": run,
        "STATIC_ROOT": str(tmp_path_factory.mktemp("static")),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SANDBOX_ENABLED": "1",
        "SANDBOX_URL": sandbox.url,
        "API_RATE_LIMIT": "6",
        # A window of a day: the calls below never straddle two (no waiting for a new minute).
        "API_RATE_LIMIT_WINDOW_SECONDS": "86400",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "4",
    }
    # As on a real deploy: migrate, and collect the hashed static files production serves.
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        manage(env, *command, timeout=120)
    api_key = manage(env, "shell", "--verbosity", "0", "-c", SETUP).split()[-1]
    servers = []
    try:
        for _ in range(2):
            port = free_port()
            process = subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("gunicorn")),
                    "-c",
                    "gunicorn.conf.py",
                    "karla_sidebar.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                ],
                cwd=ROOT,
                env=env,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            servers.append((f"http://127.0.0.1:{port}", process))
        for url, process in servers:
            wait_until_ready(url, process)
        yield {"urls": [url for url, _ in servers], "env": env, "api_key": api_key}
    finally:
        for _, process in servers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _, process in servers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


SETUP = """
from accounts.api_keys import api_key_create
from accounts.models import Workspace
from accounts.services import account_connect
from django.conf import settings
workspace = Workspace.objects.create(slug="acme", name="Acme",
                                     sidebar_secret="acme-sidebar-secret-0123456789abcdef")
account_connect(workspace=workspace, url=settings.SANDBOX_URL, username="demo-shop",
                token="karla-demo-token", label="Demo Shop")
print(api_key_create(workspace=workspace, name="Scale-out bot")[1])
"""


def wait_until_ready(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}")
        try:
            if requests.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready")


def manage(env: dict[str, str], *args: str, timeout: int = 60) -> str:
    """Run ``manage.py`` with the cluster's environment; its standard output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return result.stdout


def launch_url(cluster, base: str) -> str:
    args = ["--workspace", "acme", "--agent", "a-1", "--name", "Ada Agent", "--conversation"]
    return manage(cluster["env"], "sidebar_url", *args, "c-9", "--base-url", base).strip()


def lookup_count(cluster) -> int:
    count = "from karla_sidebar.models import LookupRecord; print(LookupRecord.objects.count())"
    return int(manage(cluster["env"], "shell", "--verbosity", "0", "-c", count).split()[-1])


def api(cluster, base: str, reference: str) -> requests.Response:
    return requests.post(
        f"{base}/api/v1/actions/get-order",
        json={"reference": reference},
        headers={"Authorization": f"Bearer {cluster['api_key']}"},
        timeout=15,
    )


def test_two_app_servers_behave_as_one(cluster):
    one, two = cluster["urls"]
    before = lookup_count(cluster)

    # A sidebar launched through instance 1 keeps working through instance 2.
    url = launch_url(cluster, one)
    page = requests.get(url, timeout=15)
    assert page.status_code == 200
    token = re.search(r'name="karla-sidebar-token" content="([^"]+)"', page.text).group(1)
    answer = requests.post(
        f"{two}/sidebar/order/",
        data={"reference": "1001"},
        headers={"X-Karla-Sidebar-Token": token},
        timeout=15,
    )
    assert answer.status_code == 200 and "00340434161094042557" in answer.text

    # The launch token used on instance 1 is refused when replayed on instance 2.
    replayed = requests.get(url.replace(one, two), timeout=15)
    assert replayed.status_code == 401

    # A result cached by one is a cache hit on the other.
    first = api(cluster, one, "1005").json()
    second = api(cluster, two, "1005").json()
    assert first["cached"] is False and second["cached"] is True

    # The API rate limit (6 a day here) counts across both.
    statuses = [api(cluster, base, "1001").status_code for base in (one, two, one, two, one)]
    assert statuses == [200, 200, 200, 200, 429], statuses  # 2 calls above + 5 here > 6

    # The history holds every lookup from both: 1 sidebar + 2 + 5 API calls.
    assert lookup_count(cluster) - before == 8


SYNC_SETUP = """
from accounts.models import Workspace
from accounts.services import account_connect
from django.conf import settings
workspace = Workspace.objects.create(slug="sync", name="Sync",
                                     sidebar_secret="sync-sidebar-secret-0123456789abcdef")
print(account_connect(workspace=workspace, url=settings.SANDBOX_URL, username="demo-shop",
                      token="karla-demo-token", label="Slow Shop").pk)
"""
INDEXED = """
from karla_sidebar.models import ShipmentIndexEntry
print(ShipmentIndexEntry.objects.filter(account_id={account}, source="sync").count())
"""


def test_two_sync_runners_started_together_sync_an_account_once(cluster):
    # GoKarla answering after a second: the first runner holds the account for several pages.
    with make_server(latency_ms=1000).start() as slow:
        env = {**cluster["env"], "SANDBOX_URL": slow.url}
        account = manage(env, "shell", "--verbosity", "0", "-c", SYNC_SETUP).split()[-1]
        command = [sys.executable, "manage.py", "sync_gokarla", "--account", account]
        runners = [
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [runner.communicate(timeout=120)[0] for runner in runners]
    assert [runner.returncode for runner in runners] == [0, 0], outputs
    synced = [out for out in outputs if "Slow Shop (account" in out and ": synced " in out]
    skipped = [out for out in outputs if ": skipped: another runner (" in out]
    assert len(synced) == 1 and len(skipped) == 1, outputs
    assert ": page 1: 100 orders" in synced[0] and ": page " not in skipped[0]
    assert "Sync done: 0 synced, 1 skipped, 0 failed" in skipped[0]
    total = re.search(r"synced \d+ orders, (\d+) shipments indexed", synced[0]).group(1)
    assert (
        manage(env, "shell", "--verbosity", "0", "-c", INDEXED.format(account=account)).split()[-1]
        == total
    )

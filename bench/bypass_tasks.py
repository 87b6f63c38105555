"""The Django side of ``bench/bypasses.py``: an in-process A/B of the app's lookups with and
without each bypass of the framework the app once had.

Run as a subprocess with the profile's environment (production settings, the profile's
database and cache, already migrated): ``bypass_tasks.py ab --sandbox-url URL --rounds R
--lookups N --warmup W``. It prints one JSON document: for every arm and phase, the CPU of
this thread (``time.thread_time``) per lookup, one figure per round.

The app is called as gunicorn calls it, through its WSGI application, in this one thread: a
sidebar session (a launch, as ArminCX opens the sidebar) and a workflow API key, against the
sandbox. Phases: the sidebar's Get Order uncached (Refresh) and cached, and the workflow API's
Get Order uncached (``LOOKUP_CACHE_SECONDS`` 0 during the phase, the path of a cache miss).

Arms: ``framework`` is the app as it is. Each other arm puts one bypass back, as the app had
it before docs/performance.md's "Bypasses of the framework" section: the code is kept here
(and only here) so that the comparison can be run again:

- ``selectors``: the reads on every lookup (the sidebar token's workspace, the default
  account, the API key joined to its workspace) as ``SELECT`` statements built once, run with
  ``Model.objects.raw`` and ``Model.from_db`` instead of querysets;
- ``insert``: the history row written with an ``INSERT`` built once instead of ``save()``;
- ``cache`` (Redis only): Django's Redis backend with one ``redis.Redis`` kept per connection
  pool (overriding its private ``_get_connection_pool`` and ``_class``) and ``incr`` as a Lua
  script, instead of Django's backend as it comes;
- ``all``: the three together (the app before).

In every round each arm runs every phase (warm-up calls first, not counted); the arms take
turns in an order that rotates from round to round, so that a drift of the machine's speed
spreads over all of them.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
import random
import sys
import time
import uuid
from contextlib import ExitStack, contextmanager
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEMO_SHOP = {"username": "demo-shop", "token": "karla-demo-token"}
REFERENCE = "1001"
TOKEN_HEADER = "HTTP_X_KARLA_SIDEBAR_TOKEN"  # noqa: S105 (a header name)
BLOCK = 10  # lookups an arm makes before the next takes its turn


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "karla_sidebar.settings")
    import django

    django.setup()


# --- the framework's way of the bypass the app keeps ----------------------------------------


def orm_account_for_lookup(*, workspace):
    from accounts.models import GoKarlaAccount

    return GoKarlaAccount.objects.filter(workspace=workspace).first()


def orm_workspace_for_session(*, workspace_id: int, slug: str):
    from accounts.models import Workspace
    from accounts.selectors import WORKSPACE_SECRETS

    return Workspace.objects.defer(*WORKSPACE_SECRETS).filter(pk=workspace_id, slug=slug).first()


def orm_api_key_active(*, key_hash: str):
    from accounts.models import ApiKey
    from accounts.selectors import WORKSPACE_SECRETS

    return (
        ApiKey.objects.select_related("workspace")
        .defer(*(f"workspace__{name}" for name in WORKSPACE_SECRETS))
        .filter(key_hash=key_hash, revoked_at__isnull=True)
        .first()
    )


# --- the bypasses the app no longer has, as it had them ---------------------------------------


@cache
def _insert_statement(vendor: str) -> tuple[str, tuple]:
    from django.db import connection

    from karla_sidebar.models import LookupRecord

    quote = connection.ops.quote_name
    meta = LookupRecord._meta
    fields = tuple(f for f in meta.concrete_fields if not f.primary_key)
    columns = ", ".join(quote(f.column) for f in fields)
    values = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values})", fields  # noqa: S608


def _insert(record) -> None:
    from django.db import connection
    from django.utils import timezone

    statement, fields = _insert_statement(connection.vendor)
    record.created_at = timezone.now()
    params = [f.get_db_prep_save(getattr(record, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def raw_record_save(record) -> None:
    from django.db import IntegrityError, connection, transaction

    try:
        if connection.in_atomic_block:
            with transaction.atomic():
                _insert(record)
        else:
            _insert(record)
    except IntegrityError:
        if record.account_id is None:
            raise
        record.account = None
        _insert(record)


@functools.lru_cache(maxsize=256)
def _environment(origin: str) -> dict:
    """What ``requests`` takes from the environment for a host, read once per host."""
    import requests

    verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return {"proxies": requests.utils.get_environ_proxies(origin), "verify": verify}


@contextmanager
def environment_read_once(session):
    """The session as the app's client had it: ``trust_env`` off, the environment's proxies
    and CA bundle passed with each call from a cache per host."""
    request = session.request

    def cached_environment_request(method, url, **kwargs):
        scheme, _, rest = url.partition("://")
        return request(method, url, **kwargs, **_environment(f"{scheme}://{rest.split('/')[0]}"))

    session.trust_env = False
    session.request = cached_environment_request
    try:
        yield
    finally:
        del session.request
        session.trust_env = True


_INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end
return false
"""


def reused_client_redis_cache(location: str, params: dict):
    """Django's Redis backend with one client per connection pool and a one-trip ``incr``."""
    from django.core.cache.backends import redis

    class ReusedClientRedisCacheClient(redis.RedisCacheClient):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._clients = {}
            self._incr_existing = None

        def incr(self, key, delta):
            client = self.get_client(key, write=True)
            if self._incr_existing is None:
                self._incr_existing = client.register_script(_INCR_EXISTING)
            value = self._incr_existing(keys=[key], args=[delta], client=client)
            if value is None:
                raise ValueError(f"Key '{key}' not found.")
            return value

        def get_client(self, key=None, *, write=False):
            pool = self._get_connection_pool(write)
            client = self._clients.get(id(pool))
            if client is None:
                client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
            return client

    class RedisCache(redis.RedisCache):
        def __init__(self, server, params):
            super().__init__(server, params)
            self._class = ReusedClientRedisCacheClient

    return RedisCache(location, params)


# --- the arms --------------------------------------------------------------------------------


@functools.cache
def _bound(name: str, original) -> tuple:
    """The modules that bind ``name`` to ``original`` (``from x import f`` copies the
    binding into the importing module), found once."""
    return tuple(m for m in list(sys.modules.values()) if getattr(m, name, None) is original)


@contextmanager
def patched(pairs: list[tuple[str, object, object]]):
    """Each ``(name, original, replacement)``: every binding of ``original`` to ``name``
    rebound to ``replacement`` meanwhile."""
    try:
        for name, original, replacement in pairs:
            for module in _bound(name, original):
                setattr(module, name, replacement)
        yield
    finally:
        for name, original, _ in pairs:
            for module in _bound(name, original):
                setattr(module, name, original)


class Arms:
    """``framework`` has every bypass off; each other arm turns one on, ``all`` every one.

    Each bypass is switched by rebinding functions (``ways``: for each bypass, what its
    framework arm and its bypass arm bind, the app's own function where the app has that
    way), by a session's behaviour (``environment``) or by the cache backend (``cache``).
    """

    def __init__(self) -> None:
        from django.conf import settings
        from django.core.cache import caches

        from accounts import selectors
        from karla_sidebar import lookup_records
        from karla_sidebar.gokarla import client

        self.redis = settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
        self.framework_cache = caches["default"]
        self.bypass_cache = None
        if self.redis:
            config = settings.CACHES["default"]
            self.bypass_cache = reused_client_redis_cache(
                config["LOCATION"], {"KEY_PREFIX": config.get("KEY_PREFIX", "")}
            )
        self.session = client.http_session()  # this thread's: the one the lookups use
        kept = {
            name: getattr(selectors, name)
            for name in ("account_for_lookup", "workspace_for_session", "api_key_active")
        }
        self.ways = {
            "selectors": {
                "framework": [
                    ("account_for_lookup", kept["account_for_lookup"], orm_account_for_lookup),
                    (
                        "workspace_for_session",
                        kept["workspace_for_session"],
                        orm_workspace_for_session,
                    ),
                    ("api_key_active", kept["api_key_active"], orm_api_key_active),
                ],
                "bypass": [],
            },
            "insert": {
                "framework": [],
                "bypass": [("record_save", lookup_records.record_save, raw_record_save)],
            },
        }

    def bypasses(self) -> list[str]:
        names = ["selectors", "insert", "environment"]
        return [*names, "cache"] if self.redis else names

    def names(self) -> list[str]:
        return ["framework", *self.bypasses(), "all"]

    @contextmanager
    def arm(self, name: str):
        from django.core.cache import caches

        on = set(self.bypasses()) if name == "all" else {name}
        pairs = []
        for bypass, ways in self.ways.items():
            pairs += ways["bypass" if bypass in on else "framework"]
        caches["default"] = self.bypass_cache if "cache" in on else self.framework_cache
        try:
            with ExitStack() as stack:
                stack.enter_context(patched(pairs))
                if "environment" in on:
                    stack.enter_context(environment_read_once(self.session))
                yield
        finally:
            caches["default"] = self.framework_cache


# --- calling the app -------------------------------------------------------------------------


class App:
    """The WSGI application, called in this thread as gunicorn's worker calls it."""

    def __init__(self) -> None:
        from karla_sidebar.wsgi import application

        self.application = application
        self.headers = {}

    def call(self, method: str, path: str, *, query="", body=b"", content_type="", **headers):
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_X_FORWARDED_PROTO": "https",  # as production's load balancer sets it
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            **headers,
        }
        answer = {}

        def start_response(status, response_headers, exc_info=None):
            answer["status"] = int(status.split()[0])
            answer["headers"] = dict(response_headers)

        chunks = self.application(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        self.headers = answer["headers"]
        return answer["status"], content


def setup(sandbox_url: str) -> dict:
    """A workspace with the sandbox's demo shop, a workflow API key and a sidebar token."""
    import jwt

    from accounts.api_keys import api_key_create
    from accounts.models import Workspace
    from accounts.services import account_connect

    workspace = Workspace.objects.create(slug=f"bench-{uuid.uuid4().hex[:8]}", name="Bench")
    account_connect(workspace=workspace, url=sandbox_url, label="Demo Shop", **DEMO_SHOP)
    _, api_key = api_key_create(workspace=workspace, name="bench")
    now = int(time.time())
    claims = {
        "iss": "armincx",
        "aud": "karla-sidebar",
        "workspace": workspace.slug,
        "sub": "bench-agent",
        "name": "Bench Agent",
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
    }
    launch = jwt.encode(claims, workspace.sidebar_secret, algorithm="HS256")
    status, page = App().call("GET", "/sidebar/", query=urlencode({"token": launch}))
    marker = b'<meta name="karla-sidebar-token" content="'
    if status != 200 or marker not in page:
        raise SystemExit(f"the sidebar did not launch: {status}")
    token = page.split(marker, 1)[1].split(b'"', 1)[0].decode()
    return {"api_key": api_key, "sidebar_token": token}


def phases(app: App, session: dict) -> dict:
    """Each phase: a call that looks up order 1001 once and checks the answer."""
    sidebar = {TOKEN_HEADER: session["sidebar_token"], "HTTP_HX_REQUEST": "true"}
    renewed = "X-Karla-Sidebar-Token"
    form = "application/x-www-form-urlencoded"

    def sidebar_order(refresh: bool):
        body = urlencode({"reference": REFERENCE, **({"refresh": "1"} if refresh else {})})

        def call():
            status, content = app.call(
                "POST", "/sidebar/order/", body=body.encode(), content_type=form, **sidebar
            )
            if status != 200 or b"1001" not in content:
                raise SystemExit(f"sidebar Get Order answered {status}")
            sidebar[TOKEN_HEADER] = app.headers[renewed]  # as the sidebar's page does

        return call

    api_body = json.dumps({"reference": REFERENCE}).encode()

    def api_order():
        status, content = app.call(
            "POST",
            "/api/v1/actions/get-order",
            body=api_body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {session['api_key']}",
        )
        if status != 200:
            raise SystemExit(f"API Get Order answered {status}: {content[:200]!r}")

    return {
        "sidebar_uncached": sidebar_order(refresh=True),
        "sidebar_cached": sidebar_order(refresh=False),
        "api_uncached": api_order,
    }


@contextmanager
def uncached(phase: str):
    """The API has no Refresh: with a zero freshness every call takes the path of a miss."""
    from django.conf import settings

    if phase != "api_uncached":
        yield
        return
    kept = settings.LOOKUP_CACHE_SECONDS
    settings.LOOKUP_CACHE_SECONDS = 0
    try:
        yield
    finally:
        settings.LOOKUP_CACHE_SECONDS = kept


def ab(sandbox_url: str, rounds: int, lookups: int, warmup: int) -> dict:
    """Per round and phase: each arm warmed up, then the arms take turns in blocks of
    ``BLOCK`` lookups, in a new random order for every block, until each has made
    ``lookups``; an arm's figure is its CPU over its blocks."""
    from django.conf import settings

    session = setup(sandbox_url)
    app = App()
    calls = phases(app, session)
    arms = Arms()
    names = arms.names()
    shuffle = random.Random(19).shuffle  # a fixed order of turns: runs compare
    cpu = {name: {phase: [] for phase in calls} for name in names}
    started = time.monotonic()
    for number in range(rounds):
        for phase, call in calls.items():
            spent = dict.fromkeys(names, 0.0)
            with uncached(phase):
                for name in names:
                    with arms.arm(name):
                        for _ in range(warmup):
                            call()
                for _ in range(lookups // BLOCK):
                    order = list(names)
                    shuffle(order)
                    for name in order:
                        with arms.arm(name):
                            before = time.thread_time()
                            for _ in range(BLOCK):
                                call()
                            spent[name] += time.thread_time() - before
            for name in names:
                cpu[name][phase].append(spent[name] * 1000 / (lookups // BLOCK * BLOCK))
        print(f"round {number + 1}/{rounds} done", file=sys.stderr, flush=True)
    return {
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
        "arms": names,
        "block": BLOCK,
        "cpu_ms_per_lookup": cpu,
        "seconds": time.monotonic() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    tasks = parser.add_subparsers(dest="task", required=True)
    task = tasks.add_parser("ab")
    task.add_argument("--sandbox-url", required=True)
    task.add_argument("--rounds", type=int, required=True)
    task.add_argument("--lookups", type=int, required=True)
    task.add_argument("--warmup", type=int, required=True)
    options = parser.parse_args()

    _django()
    result = ab(options.sandbox_url, options.rounds, options.lookups, options.warmup)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

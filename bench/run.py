"""``make bench``: what Karla Sidebar adds to GoKarla's own latency, under production settings.

One run, on this machine, only against 127.0.0.1, stopping by itself:

1. starts the GoKarla sandbox (``manage.py runsandbox --latency-ms 50``) on a free port and
   collects the static files (whitenoise serves them compressed, as in production);
2. for each profile, SQLite with the local-memory cache and PostgreSQL with Redis (skipped,
   saying so, when PostgreSQL or Redis does not answer): migrates a fresh database, connects
   the sandbox's demo shop through the real Connect use case, creates a workflow API key,
   mints launch tokens (``bench/app_tasks.py``), starts the app under gunicorn with
   ``gunicorn.conf.py`` and production settings (DEBUG off, generated keys), and measures:

   (a) the floor: the GoKarla client alone calling the sandbox, sequentially;
   (b) Get Order through the sidebar over HTTP with a sidebar session, uncached (Refresh);
   (c) the same, cached;
   (d) the workflow API, uncached (the app restarted with ``LOOKUP_CACHE_SECONDS=0``: the API
       has no refresh flag, and with a zero freshness every call misses and takes the very
       path of a cache miss, cache read and stale-copy write included);
   (e) 50 concurrent agents for 30 s (each its own sidebar session and keep-alive
       connection; orders, shipments by tracking number, references that do not exist;
       cached and Refresh): lookups per second, errors, app CPU per lookup, and whether the
       history holds exactly one record per request;
   (f) the sidebar's first load: compressed bytes and requests;

   and, for reference, (r) the cheapest authenticated sidebar request (session renewal);

3. prints every figure and each target with PASS or MISS (and why, when missed), and writes
   ``docs/performance.json`` and ``docs/performance.md`` (machine, commit, date).

Everything it starts runs in its own process group and is stopped in ``finally`` (errors,
Ctrl-C and SIGTERM included); the servers' logs are kept in a temporary folder (printed) when
something failed. Settings stay production's: requests carry ``X-Forwarded-Proto: https`` as
the TLS-terminating load balancer would. ``--quick`` shortens every phase for a smoke run and
writes nothing unless ``--output`` says where; ``--settings MODULE`` benchmarks another
settings module (an A/B of a settings change). A figure, not a test: missing a target does not
fail the run.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gzip
import html
import http.client
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import report  # bench/report.py: the script's folder is first on sys.path
import requests

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
TASKS = [PY, str(ROOT / "bench" / "app_tasks.py")]
HOST = "127.0.0.1"

SANDBOX_LATENCY_MS = 50
LOOKUPS = 200
WARMUP = 20
AGENTS = 50
LOAD_SECONDS = 30
# Longer than GOKARLA_DEADLINE_SECONDS (10 s): a hung request is an error, never a hang.
REQUEST_TIMEOUT = 15
START_TIMEOUT = 30
TASK_TIMEOUT = 180

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "karla_bench"
PG_APP_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DATABASE}"
REDIS_URL = "redis://127.0.0.1:6379/2"

TOKEN_HEADER = "X-Karla-Sidebar-Token"  # noqa: S105 (a header name)
ORDER_REFERENCE = "1001"  # the floor's reference too, so (b)-(d) compare with (a)
ACCEPT_ENCODING = "gzip, br"

# Production sits behind a TLS-terminating load balancer (SECURE_SSL_REDIRECT is on with DEBUG
# off): every request says what the balancer would, or Django answers with a redirect.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def app_variables() -> set[str]:
    """Every variable the settings read (none of the developer's may leak into a profile)."""
    text = (ROOT / "karla_sidebar" / "settings.py").read_text()
    found = set(re.findall(r"""env_\w+\(\s*["']([A-Z][A-Z0-9_]*)["']""", text))
    return found | {"KARLA_ENV_FILE", "KARLA_API_TOKEN", "DJANGO_SETTINGS_MODULE"}


class BenchError(Exception):
    """Something the benchmark needs did not work; the message says what."""


# --- processes -------------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: [state, ppid, pgrp, ...]; None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return text.rpartition(")")[2].split()


def group_members(pgid: int) -> dict[int, str]:
    """The live processes of a process group: pid -> start time (to recognise it later)."""
    members = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat and int(stat[2]) == pgid and stat[0] != "Z":
                members[int(entry.name)] = stat[19]
    return members


def group_cpu_seconds(pgid: int) -> tuple[float, set[int]]:
    """User + system CPU of every live process in the group, and their pids."""
    ticks, pids = 0, set()
    for pid in group_members(pgid):
        stat = _proc_stat(pid)
        if stat:
            ticks += int(stat[11]) + int(stat[12])
            pids.add(pid)
    return ticks / CLOCK_TICKS, pids


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(values[:8])  # guest time is already counted in user
    idle = values[3] + values[4]
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


_services: list[Service] = []


class Service:
    """A server in its own process group (session), stopped with its whole group."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pgid = self.process.pid
        _services.append(self)

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def cpu_seconds(self) -> tuple[float, set[int]]:
        return group_cpu_seconds(self.pgid)

    def kill(self) -> None:
        """SIGKILL to the whole group at once, as a crash would stop it (no clean shutdown);
        then reaped and its log closed like ``stop``."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self.stop()

    def stop(self) -> None:
        """SIGTERM to the group, then SIGKILL to whatever of it is still there."""
        if self in _services:
            _services.remove(self)
        members = group_members(self.pgid)
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                # The leader is not reaped yet, so the group id is still ours.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pgid, signal.SIGKILL)
                self.process.wait(timeout=10)
        # Stragglers of the group (recognised by pid and start time) that outlived the leader.
        for pid, started in members.items():
            stat = _proc_stat(pid)
            if stat and stat[19] == started and int(stat[2]) == self.pgid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self._log.close()


def stop_all() -> None:
    for service in reversed(list(_services)):
        try:
            service.stop()
        except Exception as error:  # keep stopping the others
            print(f"  could not stop {service.name}: {error}", file=sys.stderr)


def _terminate(signum, frame) -> None:
    raise SystemExit(128 + signum)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def run_command(argv: list[str], env: dict[str, str], what: str, timeout=TASK_TIMEOUT) -> str:
    try:
        done = subprocess.run(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,  # a Ctrl-C reaches us, and we stop it, not make
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"{what} took longer than {timeout} s") from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise BenchError(f"{what} failed (exit {done.returncode}):\n{tail}")
    return done.stdout


def app_task(env: dict[str, str], *args: str) -> dict:
    return json.loads(run_command([*TASKS, *args], env, f"app_tasks {args[0]}"))


def start_sandbox(
    env: dict[str, str],
    log_dir: Path,
    *,
    port: int = 0,
    latency_ms: int = SANDBOX_LATENCY_MS,
    name: str = "sandbox",
) -> tuple[Service, str]:
    """``manage.py runsandbox`` on ``port`` (0: a free one); returns once it listens."""
    argv = [PY, "manage.py", "runsandbox", "--port", str(port), "--latency-ms", str(latency_ms)]
    service = Service(name, argv, env, log_dir)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        found = re.search(r"listening on (http://[\d.]+:\d+)", service.log_tail(5))
        if found:
            return service, found.group(1)
        if not service.alive():
            break
        time.sleep(0.02)  # callers time the moment it listens (bench/soak.py)
    raise BenchError(f"the sandbox did not start:\n{service.log_tail()}")


def start_app(name: str, env: dict[str, str], log_dir: Path) -> tuple[Service, str]:
    port = free_port()
    argv = [PY, "-m", "gunicorn", "-c", "gunicorn.conf.py", "karla_sidebar.wsgi"]
    service = Service(name, [*argv, "--bind", f"{HOST}:{port}"], env, log_dir)
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if not service.alive():
            break
        with contextlib.suppress(requests.RequestException):
            ready = requests.get(f"{base}/api/v1/openapi.json", headers=PROXY_HEADERS, timeout=2)
            if ready.status_code == 200:
                warm_workers(service, base)
                return service, base
        time.sleep(0.2)
    raise BenchError(f"gunicorn ({name}) did not start:\n{service.log_tail()}")


WARM_CPU_SECONDS = 0.15


def warm_workers(service: Service, base: str) -> None:
    """Make every gunicorn worker import the URLconf and the views before anything is measured.

    The preloaded master never resolves a URL, so each forked worker imports every view module
    on its first request (≈ 0.3 s of CPU here). Concurrent requests reach every worker; we stop
    once each has spent that much CPU (or after a few rounds)."""

    def worker_cpu() -> list[float]:
        return [
            (int(stat[11]) + int(stat[12])) / CLOCK_TICKS
            for pid in group_members(service.pgid)
            if pid != service.pgid and (stat := _proc_stat(pid))
        ]

    def hit(_: int) -> None:
        with contextlib.suppress(requests.RequestException):
            requests.get(f"{base}/api/v1/openapi.json", headers=PROXY_HEADERS, timeout=10)

    for _ in range(5):
        threads = [threading.Thread(target=hit, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=15)
        if all(cpu >= WARM_CPU_SECONDS for cpu in worker_cpu()):
            return


# --- environment -----------------------------------------------------------------------------


def base_env() -> dict[str, str]:
    ignored = app_variables()
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ignored and not name.startswith("GUNICORN_")
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SANDBOX_ENABLED="1",
        KARLA_ENV_FILE="",  # never the developer's .env.local
        LOG_LEVEL="WARNING",
        API_RATE_LIMIT="1000000",  # the benchmark measures lookups, not the rate limit
        SIDEBAR_GOKARLA_CALLS_PER_AGENT="1000000",  # nor the sidebar's budget
        SIDEBAR_GOKARLA_CALLS_PER_WORKSPACE="1000000",
        LOOKUP_REFRESH_REUSE_SECONDS="0",  # (b) measures Refresh, uncached, back to back
        DJANGO_SETTINGS_MODULE="karla_sidebar.settings",
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class Profile:
    key: str
    title: str
    env: dict[str, str] = field(default_factory=dict)
    skipped: str = ""


def postgres_and_redis() -> str:
    """Why the PostgreSQL profile cannot run, or "" when both services answer."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except Exception as error:
        return f"PostgreSQL at 127.0.0.1:5432 is not reachable ({type(error).__name__}: {error})"
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=3).ping()
    except Exception as error:
        return f"Redis at 127.0.0.1:6379 is not reachable ({type(error).__name__}: {error})"
    return ""


def _pg_admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, connect_timeout=3, autocommit=True) as connection:
        connection.execute(statement)


def pg_create(database: str = PG_DATABASE) -> None:
    _pg_admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    _pg_admin(f"CREATE DATABASE {database}")


def pg_drop(database: str = PG_DATABASE) -> None:
    with contextlib.suppress(Exception):
        _pg_admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def redis_flush(url: str = REDIS_URL) -> None:
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).flushdb()


# --- measuring -------------------------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        value = values[0] if values else float("nan")
        return {"p50": value, "p95": value, "p99": value, "n": len(values)}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50": cuts[49],
        "p95": cuts[94],
        "p99": cuts[98],
        "mean": statistics.fmean(values),
        "max": max(values),
        "n": len(values),
    }


def background_cores(seconds: float = 1.0) -> float:
    """How many cores the machine keeps busy with nothing of ours running."""
    busy, _ = machine_busy_seconds()
    time.sleep(seconds)
    return (machine_busy_seconds()[0] - busy) / seconds


def database_and_cache_cpu() -> dict[int, float]:
    """CPU seconds of the PostgreSQL backends serving the bench database and of redis-server:
    the app's work that runs outside its own processes in the PostgreSQL + Redis profile."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            command = Path(f"/proc/{entry.name}/cmdline").read_bytes()
        except OSError:
            continue
        postgres = command.startswith(b"postgres:") and f" {PG_DATABASE} ".encode() in command
        if postgres or command.split(b"\0", 1)[0].endswith(b"redis-server"):
            stat = _proc_stat(int(entry.name))
            if stat:
                found[int(entry.name)] = (int(stat[11]) + int(stat[12])) / CLOCK_TICKS
    return found


# Set per profile: the database and cache servers' CPU, or None when they run in the app.
_services_cpu = None


class CpuMeter:
    """CPU over a stretch of time: the app's process group (gunicorn master and workers), its
    database and cache servers (PostgreSQL profile), the sandbox's, this process's (the load
    generator) and the whole machine's."""

    def __init__(self, app: Service, sandbox: Service):
        self.app, self.sandbox = app, sandbox

    def __enter__(self) -> CpuMeter:
        self._services = _services_cpu() if _services_cpu else {}
        self._app, self._pids = self.app.cpu_seconds()
        self._sandbox = self.sandbox.cpu_seconds()[0]
        times = os.times()
        self._self = times.user + times.system
        self._busy = machine_busy_seconds()[0]
        self._wall = time.monotonic()
        return self

    def __exit__(self, *exc_info) -> None:
        app, pids = self.app.cpu_seconds()
        times = os.times()
        busy = machine_busy_seconds()[0]
        self.wall = time.monotonic() - self._wall
        self.app_seconds = app - self._app
        self.sandbox_seconds = self.sandbox.cpu_seconds()[0] - self._sandbox
        self.generator_seconds = times.user + times.system - self._self
        self.machine_busy_seconds = busy - self._busy
        self.workers_changed = pids != self._pids
        services = _services_cpu() if _services_cpu else {}
        self.services_seconds = sum(
            seconds - self._services.get(pid, 0.0) for pid, seconds in services.items()
        )

    def figures(self, lookups: int) -> dict:
        ours = (
            self.app_seconds + self.services_seconds + self.sandbox_seconds + self.generator_seconds
        )
        per_lookup = 1000 / lookups if lookups else math.nan
        return {
            "app_cpu_ms_per_lookup": self.app_seconds * per_lookup,
            "db_cache_cpu_ms_per_lookup": self.services_seconds * per_lookup,
            "db_cache_cores": self.services_seconds / self.wall,
            "app_cores": self.app_seconds / self.wall,
            "sandbox_cores": self.sandbox_seconds / self.wall,
            "generator_cores": self.generator_seconds / self.wall,
            "machine_busy_cores": self.machine_busy_seconds / self.wall,
            # Other people's work on the machine (tests, builds) in the same stretch of time.
            "other_cores": max(self.machine_busy_seconds - ours, 0) / self.wall,
            "workers_changed": self.workers_changed,
        }


def http_session() -> requests.Session:
    """A keep-alive client, as the load balancer in front of production would forward it."""
    session = requests.Session()
    session.headers.update(PROXY_HEADERS)
    session.trust_env = False  # only ever 127.0.0.1: no proxy from the environment
    return session


_META_TOKEN = re.compile(r'<meta name="karla-sidebar-token" content="([^"]*)"')


def meta_token(page: str) -> str | None:
    found = _META_TOKEN.search(page)
    return html.unescape(found.group(1)) if found else None


def classify(status: int, body: str) -> str:
    """What a sidebar lookup answered: found, not_found, or something that is an error."""
    if status >= 500:
        return "http_5xx"
    if status != 200:
        return f"http_{status}"
    if "error-card" in body:
        return "not_found" if ">Not found<" in body else "error_card"
    if "result-card" in body:
        return "found"
    return "unrecognised"


class SidebarAgent:
    """One agent on ``requests``: a launched sidebar session on one keep-alive connection."""

    def __init__(self, base: str, launch_token: str):
        self.base = base
        self.http = http_session()
        response = self.http.get(
            f"{base}/sidebar/", params={"token": launch_token}, timeout=REQUEST_TIMEOUT
        )
        self.token = meta_token(response.text)
        if response.status_code != 200 or not self.token:
            raise BenchError(f"sidebar launch answered {response.status_code} without a token")

    def post(self, path: str, data: dict[str, str]) -> requests.Response:
        response = self.http.post(
            self.base + path,
            data=data,
            headers={TOKEN_HEADER: self.token, "HX-Request": "true"},
            timeout=REQUEST_TIMEOUT,
        )
        self.token = response.headers.get(TOKEN_HEADER) or self.token
        return response

    def close(self) -> None:
        self.http.close()


class LightAgent:
    """One agent of the load phase on ``http.client``: a keep-alive connection of its own.

    The load generator shares the machine's cores with the app; ``http.client`` costs about a
    quarter of ``requests``' CPU per call, so more of the cores are left to the app.
    """

    def __init__(self, base: str, launch_token: str):
        address = urlsplit(base)
        self.host, self.port = address.hostname, address.port
        self.connection: http.client.HTTPConnection | None = None
        status, body, _ = self.request("GET", f"/sidebar/?token={launch_token}")
        self.token = meta_token(body)
        if status != 200 or not self.token:
            raise BenchError(f"sidebar launch answered {status} without a token")

    def request(self, method: str, path: str, data: dict[str, str] | None = None):
        if self.connection is None:
            self.connection = http.client.HTTPConnection(
                self.host, self.port, timeout=REQUEST_TIMEOUT
            )
        headers = {**PROXY_HEADERS, "Accept-Encoding": "identity"}
        body = None
        if data is not None:
            body = urlencode(data)
            headers.update(
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    TOKEN_HEADER: self.token,
                    "HX-Request": "true",
                }
            )
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            content = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            self.close()  # the next request opens a new connection
            raise
        if response.will_close:
            self.close()
        return response.status, content, response.headers

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str]:
        status, body, headers = self.request("POST", path, data)
        self.token = headers.get(TOKEN_HEADER) or self.token
        return status, body

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def sequential(call, lookups: int, warmup: int, pause: float = 0) -> dict:
    """``lookups`` sequential calls after ``warmup`` unmeasured ones: latency percentiles (ms),
    the measuring client's own CPU per call, and the outcomes ``call`` returns, counted.
    ``pause``: seconds to wait before each call (not part of its latency)."""
    for _ in range(warmup):
        time.sleep(pause)
        call()
    timings, outcomes = [], Counter()
    client_cpu = time.thread_time()
    for _ in range(lookups):
        time.sleep(pause)
        started = time.perf_counter()
        outcomes[call()] += 1
        timings.append((time.perf_counter() - started) * 1000)
    client_cpu = time.thread_time() - client_cpu
    return {
        **percentiles(timings),
        "client_cpu_ms_per_call": client_cpu * 1000 / lookups,
        "outcomes": dict(outcomes),
    }


def sidebar_phase(
    agent, app, sandbox, *, path: str, data: dict, expect: str, lookups: int, pause: float = 0
):
    def call() -> str:
        response = agent.post(path, data)
        if path.endswith("/renew/"):
            return "renewed" if response.status_code == 200 else f"http_{response.status_code}"
        outcome = classify(response.status_code, response.text)
        if outcome == "found":
            return "found, cached" if "(cached)" in response.text else "found, fresh"
        return outcome

    with CpuMeter(app, sandbox) as cpu:
        figures = sequential(call, lookups, WARMUP, pause)
    return {
        **figures,
        **cpu.figures(lookups + WARMUP),
        "unexpected": sum(n for outcome, n in figures["outcomes"].items() if outcome != expect),
    }


def api_phase(base: str, api_key: str, app, sandbox, *, lookups: int) -> dict:
    http_client = http_session()
    headers = {"Authorization": f"Bearer {api_key}"}

    def call() -> str:
        response = http_client.post(
            f"{base}/api/v1/actions/get-order",
            json={"reference": ORDER_REFERENCE},
            headers=headers,
            timeout=REQUEST_TIMEOUT,
        )
        if response.status_code != 200:
            return f"http_{response.status_code}"
        return "found, cached" if response.json().get("cached") else "found, fresh"

    try:
        with CpuMeter(app, sandbox) as cpu:
            figures = sequential(call, lookups, WARMUP)
    finally:
        http_client.close()
    return {
        **figures,
        **cpu.figures(lookups + WARMUP),
        "unexpected": sum(
            n for outcome, n in figures["outcomes"].items() if outcome != "found, fresh"
        ),
    }


_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception)): (.{1,160})")


def exceptions_logged(log: Path, offset: int) -> dict[str, int]:
    """The exceptions the app logged after ``offset`` (each traceback's last line), counted.
    Reads JSON log lines (their ``error`` field) and plain tracebacks alike."""
    with log.open("rb") as handle:
        handle.seek(offset)
        lines = handle.read().decode("utf-8", "replace").splitlines()
    found: Counter = Counter()
    for line in lines:
        if line.startswith("{"):
            with contextlib.suppress(ValueError, AttributeError):
                error = json.loads(line).get("error") or ""
                last = error.strip().splitlines()[-1:] or [""]
                if _EXCEPTION_LINE.match(last[0]):
                    found[last[0][:200]] += 1
        elif match := _EXCEPTION_LINE.match(line):
            found[match.group(0)] += 1
    return dict(found)


# The load's mix: (weight, kind, path, refresh, expected outcome). Not-found references are
# fresh random numbers, so GoKarla is asked every time (an order miss costs two calls).
MIX = (
    (35, "order", "/sidebar/order/", False, "found"),
    (15, "order, refresh", "/sidebar/order/", True, "found"),
    (20, "shipment", "/sidebar/shipment/", False, "found"),
    (10, "shipment, refresh", "/sidebar/shipment/", True, "found"),
    (12, "order, not found", "/sidebar/order/", False, "not_found"),
    (8, "shipment, not found", "/sidebar/shipment/", False, "not_found"),
)


def _reference(kind: str, rng: random.Random, orders: list[str], trackings: list[str]) -> str:
    if kind.endswith("not found"):
        if kind.startswith("order"):
            return f"9{rng.randrange(10**7):07d}"
        return f"NX{rng.randrange(10**9)}"
    return rng.choice(orders if kind.startswith("order") else trackings)


def load_phase(base, tokens, app, sandbox, env, seconds: int, catalog) -> dict:
    orders, trackings = catalog
    records_before = app_task(env, "count")["lookup_records"]
    # Launched before the clock starts; the launches also warm both gunicorn workers.
    agents = [LightAgent(base, token) for token in tokens]
    weights = [weight for weight, *_ in MIX]
    results: list[list[tuple[str, str, float]]] = [[] for _ in agents]
    go = threading.Event()
    stop_at = [0.0]

    def work(index: int, agent: LightAgent) -> None:
        rng = random.Random(index)
        go.wait()
        while time.monotonic() < stop_at[0]:
            _, kind, path, refresh, expected = rng.choices(MIX, weights)[0]
            data = {"reference": _reference(kind, rng, orders, trackings)}
            if refresh:
                data["refresh"] = "1"
            started = time.perf_counter()
            try:
                outcome = classify(*agent.post(path, data))
            except (OSError, http.client.HTTPException) as error:
                outcome = f"connection: {type(error).__name__}"
            elapsed = (time.perf_counter() - started) * 1000
            results[index].append((kind, "ok" if outcome == expected else outcome, elapsed))

    threads = [
        threading.Thread(target=work, args=(i, agent), daemon=True)
        for i, agent in enumerate(agents)
    ]
    log_offset = app.log_path.stat().st_size
    for thread in threads:
        thread.start()
    try:
        with CpuMeter(app, sandbox) as cpu:
            stop_at[0] = time.monotonic() + seconds
            go.set()
            for thread in threads:
                thread.join(timeout=max(stop_at[0] + REQUEST_TIMEOUT + 5 - time.monotonic(), 0))
    finally:
        stop_at[0] = 0.0
        go.set()
    stuck = sum(thread.is_alive() for thread in threads)
    for agent in agents:
        agent.close()
    server_errors = exceptions_logged(app.log_path, log_offset)
    records_after = app_task(env, "count")["lookup_records"]

    done = [item for agent_results in results for item in agent_results]
    errors = Counter(outcome for _, outcome, _ in done if outcome != "ok")
    connection_errors = sum(n for outcome, n in errors.items() if outcome.startswith("connection"))
    if stuck:
        errors["no answer by the end"] = stuck
    by_kind = {}
    for _, kind, *_ in MIX:
        timings = [ms for k, _, ms in done if k == kind]
        by_kind[kind] = {"count": len(timings), "p50": percentiles(timings)["p50"]}
    records = records_after - records_before
    return {
        "agents": len(agents),
        "seconds": cpu.wall,
        "lookups": len(done),
        "lookups_per_second": len(done) / cpu.wall,
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "records_added": records,
        # Exact only when every request got an answer: a connection error leaves it unknowable.
        "records_exact": records == len(done) and not connection_errors and not stuck,
        "latency": percentiles([ms for _, _, ms in done]),
        "by_kind": by_kind,
        "server_errors": server_errors,
        **cpu.figures(len(done)),
    }


class _Assets(HTMLParser):
    """What a browser fetches for a page: stylesheets, scripts, images, and htmx requests that
    fire on load (``hx-trigger="load"``)."""

    def __init__(self):
        super().__init__()
        self.fetches: list[tuple[str, str]] = []  # (method, url)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        rel = (attributes.get("rel") or "").lower().split()
        url = None
        if tag == "link" and {"stylesheet", "preload", "modulepreload", "icon"} & set(rel):
            url = attributes.get("href")
        elif tag in {"script", "img"}:
            url = attributes.get("src")
        if url and not url.startswith("data:"):
            self.fetches.append(("GET", url))
        if "load" in (attributes.get("hx-trigger") or "").split(","):
            for method in ("post", "get"):
                if attributes.get(f"hx-{method}"):
                    self.fetches.append((method.upper(), attributes[f"hx-{method}"]))


def _decoded(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli  # only when the server chose it, so only when it is installed

        return brotli.decompress(body)
    return body


def first_load(base: str, launch_token: str) -> dict:
    """Bytes on the wire (compressed, as served) and requests of the sidebar's first load."""
    http = http_session()
    http.headers["Accept-Encoding"] = ACCEPT_ENCODING
    fetched = []

    def fetch(method: str, url: str, headers=None) -> bytes:
        response = http.request(method, url, headers=headers, stream=True, timeout=REQUEST_TIMEOUT)
        raw = response.raw.read(decode_content=False)
        head = len(f"HTTP/1.1 {response.status_code} {response.reason}\r\n\r\n") + sum(
            len(f"{name}: {value}\r\n") for name, value in response.raw.headers.items()
        )
        encoding = response.headers.get("Content-Encoding", "")
        fetched.append(
            {
                "request": f"{method} {urlsplit(url).path}",
                "status": response.status_code,
                "encoding": encoding or "identity",
                "body_bytes": len(raw),
                "header_bytes": head,
            }
        )
        if response.status_code != 200:
            raise BenchError(
                f"first load: {method} {urlsplit(url).path} answered {response.status_code}"
            )
        return _decoded(raw, encoding)

    try:
        page_url = f"{base}/sidebar/?token={launch_token}"
        page = fetch("GET", page_url).decode()
        token = meta_token(page)
        parser = _Assets()
        parser.feed(page)
        for method, url in parser.fetches:
            headers = {}
            if method != "GET":  # an htmx request: the sidebar token and HX-Request headers
                headers = {TOKEN_HEADER: token, "HX-Request": "true"}
            fetch(method, urljoin(page_url, html.unescape(url)), headers)
    finally:
        http.close()
    body = sum(item["body_bytes"] for item in fetched)
    return {
        "requests": len(fetched),
        "body_bytes": body,
        "bytes_with_headers": body + sum(item["header_bytes"] for item in fetched),
        "resources": fetched,
    }


# --- one profile -----------------------------------------------------------------------------


# The mix draws from demo-shop's hand-made orders (1001-1012), as it always has: the
# sandbox's few hundred generated orders (5001 and up) would change the cache's hit rate and
# so make runs incomparable with earlier ones.
ANCHOR_ORDERS = range(1001, 1013)


def sandbox_catalog() -> tuple[list[str], list[str]]:
    """demo-shop's anchor order numbers and their tracking numbers, from the sandbox's data."""
    sys.path.insert(0, str(ROOT))
    from sandbox.catalog import build_catalog

    orders = [
        order
        for order in build_catalog().orders["demo-shop"]
        if int(order["order_number"]) in ANCHOR_ORDERS
    ]
    trackings = [t["carrier"]["tracking_number"] for o in orders for t in o["trackings"]]
    return [order["order_number"] for order in orders], sorted(trackings)


def say(text: str) -> None:
    print(text, flush=True)


def run_profile(profile: Profile, sandbox: Service, sandbox_url: str, options, log_dir: Path):
    env = {**profile.env, "SANDBOX_URL": sandbox_url}
    started = time.monotonic()
    figures: dict = {"background_cores": background_cores()}
    say(f"  other load on the machine before the start: {figures['background_cores']:.2f} cores")
    say("  migrating a fresh database…")
    run_command([PY, "manage.py", "migrate", "--noinput", "-v0"], env, "migrate")
    setup = app_task(
        env, "setup", "--sandbox-url", sandbox_url, "--agents", str(options.agents + 1)
    )
    tokens = setup["launch_tokens"]

    say(f"  (a) floor: GoKarla client → sandbox, {options.lookups} sequential lookups…")
    floor = app_task(env, "floor", "--sandbox-url", sandbox_url, "--lookups", str(options.lookups))
    figures["floor"] = {
        **percentiles(floor["ms"]),
        "client_cpu_ms_per_call": floor["client_cpu_ms_per_call"],
    }

    app, base = start_app(f"gunicorn-{profile.key}", env, log_dir)
    try:
        agent = SidebarAgent(base, tokens[0])
        order, cached = "/sidebar/order/", {"reference": ORDER_REFERENCE}
        pause = SANDBOX_LATENCY_MS / 1000
        # (key, what is said, path, form, the answer expected, pause before each request)
        phases = (
            ("sidebar_uncached", "(b) sidebar Get Order, uncached (Refresh)", order,
             {**cached, "refresh": "1"}, "found, fresh", 0),
            ("sidebar_cached", "(c) sidebar Get Order, cached", order, cached, "found, cached", 0),
            ("sidebar_cached_paused", f"(p) the same, cached, each after a {pause * 1000:.0f} ms "
             "pause", order, cached, "found, cached", pause),
            ("sidebar_renew", "(r) reference: the cheapest sidebar request (session renewal, no "
             "lookup)", "/sidebar/renew/", {}, "renewed", 0),
        )  # fmt: skip
        try:
            for key, what, path, data, expect, pause in phases:
                say(f"  {what}…")
                if data is cached:  # fill the cache (again: it lasts LOOKUP_CACHE_SECONDS)
                    agent.post(order, cached)
                figures[key] = sidebar_phase(
                    agent,
                    app,
                    sandbox,
                    path=path,
                    data=data,
                    expect=expect,
                    lookups=options.lookups,
                    pause=pause,
                )
        finally:
            agent.close()
        say("  (f) the sidebar's first load…")
        figures["first_load"] = first_load(base, setup["first_load_token"])
        say(f"  (e) {options.agents} agents for {options.seconds} s…")
        figures["load"] = load_phase(
            base, tokens[1:], app, sandbox, env, options.seconds, sandbox_catalog()
        )
    finally:
        app.stop()

    say("  (d) workflow API Get Order, uncached (app restarted with LOOKUP_CACHE_SECONDS=0)…")
    api_env = {**env, "LOOKUP_CACHE_SECONDS": "0"}
    app, base = start_app(f"gunicorn-{profile.key}-nocache", api_env, log_dir)
    try:
        figures["api_uncached"] = api_phase(
            base, setup["api_key"], app, sandbox, lookups=options.lookups
        )
    finally:
        app.stop()
    figures["seconds"] = time.monotonic() - started
    return figures


def stop_on_signals() -> None:
    """Ctrl-C stops the run and what it started, even when started with SIGINT ignored (`&`)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)


def each_profile(names: str, measure) -> dict:
    """``measure(key)`` for each of the comma-separated profile ``names``, by key."""
    return {key.strip(): measure(key.strip()) for key in names.split(",")}


def some_profile_failed(results: dict) -> bool:
    """Whether a profile's figures say it failed (then its servers' logs are kept)."""
    return any("failed" in figures for figures in results.values())


def in_work_folder(prefix: str, run, *, failed=lambda results: False) -> dict | None:
    """``run(work)`` in a temporary folder, every service it started stopped on the way out.
    The folder (the servers' logs) is kept when ``failed(results)`` or on an error, else
    removed. None when interrupted."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    keep = False
    try:
        results = run(work)
        keep = failed(results)
        return results
    except KeyboardInterrupt:
        say("\ninterrupted: stopping what the benchmark started")
        return None
    except BaseException:
        keep = True
        raise
    finally:
        stop_all()
        if keep:
            say(f"the servers' logs are kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def print_targets(results: dict, amount) -> None:
    """Each profile's targets, one line each: PASS or MISS, the figure and the limit."""
    say("")
    for figures in results.values():
        for check in figures.get("targets", []):
            sign = "≥" if check.get("kind") == "min" else "≤"
            say(
                f"{figures['title']}: {check['status']} {check['what']}: "
                f"{amount(check['value'], check['unit'])} ({sign} "
                f"{amount(check['limit'], check['unit'])})"
            )


def write_section(options, name: str, run: dict, markdown) -> None:
    """Write ``docs/performance-<name>.{json,md}`` (unless a quick run) and rebuild
    ``performance.md``, which includes every such section."""
    if not (options.output or not options.quick):
        return
    docs = options.output or ROOT / "docs"
    docs.mkdir(exist_ok=True)
    (docs / f"performance-{name}.json").write_text(json.dumps(run, indent=2) + "\n")
    (docs / f"performance-{name}.md").write_text(markdown(run))
    if (docs / "performance.json").exists():
        report.rewrite_markdown(docs)
    say(f"written: {docs / f'performance-{name}.md'} (included in {docs / 'performance.md'})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=LOOKUPS, help="per sequential phase")
    parser.add_argument("--agents", type=int, default=AGENTS)
    parser.add_argument("--seconds", type=int, default=LOAD_SECONDS, help="of the load phase")
    parser.add_argument(
        "--profiles", default="sqlite,postgres", help="comma-separated: sqlite, postgres"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: short phases, nothing written"
    )
    parser.add_argument(
        "--output", type=Path, help="where to write performance.{json,md} (default: docs/)"
    )
    parser.add_argument(
        "--settings",
        default="karla_sidebar.settings",
        help="Django settings module to benchmark (A/B of a settings change; on PYTHONPATH)",
    )
    options = parser.parse_args()
    if options.quick:
        options.lookups, options.agents, options.seconds = 20, 5, 3

    stop_on_signals()
    started = time.monotonic()
    machine = report.machine_info()
    say(
        f"Karla Sidebar benchmark · {machine['cpu_model']} · {machine['nproc']} cores · "
        f"Python {machine['python']} · commit {machine['commit']}"
    )

    def profiles(work: Path) -> dict:
        results: dict = {}
        env = {**base_env(), "DJANGO_SETTINGS_MODULE": options.settings}
        say("collecting static files (whitenoise, compressed) into staticfiles/…")
        run_command([PY, "manage.py", "collectstatic", "--noinput", "-v0"], env, "collectstatic")
        sandbox, sandbox_url = start_sandbox(env, work)
        say(f"sandbox on {sandbox_url}, {SANDBOX_LATENCY_MS} ms latency per answer")
        try:
            for key in options.profiles.split(","):
                results[key] = run_one(key.strip(), env, sandbox, sandbox_url, options, work)
        finally:
            sandbox.stop()
        return results

    results = in_work_folder(
        "karla-bench-",
        profiles,
        failed=lambda found: any(
            "failed" in r or r.get("load", {}).get("errors") for r in found.values()
        ),
    )
    if results is None:
        return 130

    run = {
        "date": report.now_iso(),
        "machine": machine,
        "settings": {
            "django_settings": options.settings,
            "sandbox_latency_ms": SANDBOX_LATENCY_MS,
            "lookups": options.lookups,
            "warmup": WARMUP,
            "agents": options.agents,
            "load_seconds": options.seconds,
            "mix": [{"weight": w, "kind": k} for w, k, *_ in MIX],
        },
        "profiles": results,
        "seconds": time.monotonic() - started,
    }
    report.evaluate(run)
    print("\n" + report.text(run), flush=True)
    missed = report.misses(run)
    if missed:
        print("\nmissed targets, by how much and why:\n" + missed, flush=True)
    if options.output or not options.quick:
        output = options.output or ROOT / "docs"
        report.write(run, output)
        say(f"written: {output / 'performance.json'}, {output / 'performance.md'}")
    say(f"benchmark finished in {run['seconds']:.0f} s")
    return 0


def run_one(key: str, env: dict, sandbox: Service, sandbox_url: str, options, work: Path) -> dict:
    if key == "sqlite":
        profile = Profile(
            "sqlite",
            "SQLite + local-memory cache",
            {**env, "SQLITE_PATH": str(work / "bench.sqlite3")},
        )
    elif key == "postgres":
        profile = Profile(
            "postgres",
            "PostgreSQL + Redis",
            {**env, "DATABASE_URL": PG_APP_URL, "REDIS_URL": REDIS_URL},
        )
        profile.skipped = postgres_and_redis()
    else:
        raise BenchError(f"unknown profile {key!r} (sqlite, postgres)")
    say(f"\n== {profile.title}")
    if profile.skipped:
        say(f"  SKIPPED: {profile.skipped}")
        return {"title": profile.title, "skipped": profile.skipped}
    global _services_cpu
    _services_cpu = database_and_cache_cpu if key == "postgres" else None
    try:
        if key == "postgres":
            pg_create()
            redis_flush()
        figures = run_profile(profile, sandbox, sandbox_url, options, work)
    except BenchError as error:
        say(f"  FAILED: {error}")
        return {"title": profile.title, "failed": str(error)}
    finally:
        if key == "postgres":
            pg_drop()
            with contextlib.suppress(Exception):
                redis_flush()
    return {"title": profile.title, **figures}


if __name__ == "__main__":
    sys.exit(main())

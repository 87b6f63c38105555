"""``bench/webhooks.py``: how many signed GoKarla webhook deliveries the app takes in per second.

One run, on this machine, only against 127.0.0.1, stopping by itself:

1. starts the GoKarla sandbox (``manage.py runsandbox``, no latency: it only answers Connect
   and the webhook registration here);
2. for each profile, SQLite and PostgreSQL with Redis (skipped, saying so, when they do not
   answer): migrates a fresh database, connects the sandbox's demo-shop through the real
   Connect use case with ``PUBLIC_BASE_URL`` set, so the webhook and its secret are made as in
   production (``bench/webhook_tasks.py``), starts the app under gunicorn with
   ``gunicorn.conf.py`` and production settings (``bench/run.py``'s ``start_app``), and for
   ``--seconds`` (20) sends deliveries from ``--senders`` (16) threads, each over its own
   kept-alive connection, as fast as they are answered: GoKarla's payload
   (``sandbox.deliveries.payload``) for one of the sandbox's orders, each with an order and a
   tracking of its own, signed at sending time with ``Karla-Signature`` as GoKarla signs it;
   one send in ten (``--duplicates``) repeats a delivery already answered, byte for byte;
3. checks that every delivery answered 200 is in the index exactly once (its tracking
   number), that every repeat was answered 409, that no answer was a 5xx and that the app
   logged no exception; prints the figures and each target with PASS or MISS, writes
   ``docs/performance-webhooks.{json,md}`` and rebuilds ``docs/performance.md`` from
   ``docs/performance.json`` (``bench/report.py`` includes this section).

``--quick`` (5 s, SQLite only unless ``--profiles`` says otherwise; nothing written unless
``--output`` says where) is a smoke run. A figure, not a test: missing a target does not fail
the run.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import random
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import report  # bench/report.py: the script's folder is first on sys.path
import run  # bench/run.py: processes, profiles, CPU and latency measures
from run import (
    HOST,
    PROXY_HEADERS,
    PY,
    REDIS_URL,
    ROOT,
    BenchError,
    CpuMeter,
    base_env,
    each_profile,
    exceptions_logged,
    in_work_folder,
    percentiles,
    pg_create,
    pg_drop,
    postgres_and_redis,
    print_targets,
    redis_flush,
    run_command,
    say,
    some_profile_failed,
    start_app,
    start_sandbox,
    stop_on_signals,
    write_section,
)

sys.path.insert(0, str(ROOT))
from sandbox.catalog import build_catalog
from sandbox.deliveries import payload, signature

TASKS = [PY, str(ROOT / "bench" / "webhook_tasks.py")]
SECONDS = 20
SENDERS = 16
DUPLICATES = 0.1  # the share of sends that repeat an answered delivery
REQUEST_TIMEOUT = 15
PG_DATABASE = "karla_bench_webhooks"
PG_APP_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DATABASE}"
EVENTS = ("DEPARTURE_FROM_TRANSPORT_HUB", "OUT_FOR_DELIVERY", "SUCCESSFULLY_DELIVERED")

# (key, what, limit, unit, "max" when the value must stay at or under the limit, else "min")
TARGETS = (
    ("per_second", "signed deliveries taken in per second", 300, "/s", "min"),
    ("not_indexed_once", "deliveries answered 200 but not in the index exactly once", 0, "", "max"),
    ("duplicates_not_refused", "repeated deliveries not answered 409", 0, "", "max"),
    ("server_errors", "5xx answers and exceptions logged", 0, "", "max"),
)


# --- deliveries ------------------------------------------------------------------------------


class Deliveries:
    """GoKarla's payloads for the sandbox's demo-shop orders that have exactly one tracking,
    made into templates: each new delivery gets an order uuid, a shipment id and a tracking
    number of its own (so it adds exactly one index entry), and its own delivery uuid."""

    _FIELDS = (b"@@ORDER@@", b"@@SHIPMENT@@", b"@@TRACKING@@", b"@@DELIVERY@@")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self.templates = []
        rng = random.Random(0)
        for order in build_catalog().orders["demo-shop"]:
            if len(order["trackings"]) != 1 or not order["trackings"][0]["carrier"]:
                continue
            tracking = order["trackings"][0]
            body = payload("demo-shop", rng.choice(EVENTS), order, tracking)
            raw = json.dumps(body).encode()
            number = tracking["carrier"]["tracking_number"]
            values = (order["uuid"], tracking["id"], number, body["uuid"])
            for value, field in zip(values, self._FIELDS, strict=True):
                raw = raw.replace(value.encode(), field)
            self.templates.append(raw)
        if not self.templates:
            raise BenchError("the sandbox has no order with exactly one tracking")

    def new(self) -> tuple[str, bytes]:
        """A new delivery: its tracking number and its body."""
        with self._lock:
            number = next(self._numbers)
        tracking = f"{self.prefix}{number:09d}"
        values = (str(uuid.uuid4()), str(uuid.uuid4()), tracking, str(uuid.uuid4()))
        body = self.templates[number % len(self.templates)]
        for field, value in zip(self._FIELDS, values, strict=True):
            body = body.replace(field, value.encode())
        return tracking, body


class Sender:
    """One kept-alive connection to the app, as GoKarla's delivery worker would hold it."""

    def __init__(self, port: int, path: str) -> None:
        self.port, self.path = port, path
        self.connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)

    def post(self, body: bytes, header: str) -> int:
        headers = {
            **PROXY_HEADERS,
            "Content-Type": "application/json",
            "Karla-Signature": header,
            "User-Agent": "KarlaBench-Webhooks/1.0",
        }
        try:
            self.connection.request("POST", self.path, body=body, headers=headers)
            response = self.connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT)
            raise


def load_phase(base: str, setup: dict, app, sandbox, options) -> dict:
    port = int(base.rsplit(":", 1)[1])
    path = f"/webhooks/gokarla/{setup['webhook_id']}/"
    deliveries = Deliveries(prefix=f"KB{uuid.uuid4().hex[:6].upper()}")
    secret = setup["secret"]
    senders = [Sender(port, path) for _ in range(options.senders)]
    answered: list[tuple[bytes, str]] = []  # deliveries answered 200: what a repeat re-sends
    accepted: list[str] = []
    statuses: Counter = Counter()
    repeats: Counter = Counter()
    latencies: list[float] = []
    lock = threading.Lock()
    go, stop_at = threading.Event(), [0.0]

    def work(index: int, sender: Sender) -> None:
        rng = random.Random(index)
        go.wait()
        while time.monotonic() < stop_at[0]:
            with lock:
                repeat = answered and rng.random() < options.duplicates
                previous = rng.choice(answered) if repeat else None
            if previous is None:
                tracking, body = deliveries.new()
                header = signature(secret, int(time.time()), body)
            else:
                tracking, (body, header) = None, previous
            started = time.perf_counter()
            try:
                status = sender.post(body, header)
            except (OSError, http.client.HTTPException) as error:
                status = f"connection: {type(error).__name__}"
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if previous is not None:
                    repeats[status] += 1
                    continue
                statuses[status] += 1
                if status == 200:
                    accepted.append(tracking)
                    answered.append((body, header))

    threads = [
        threading.Thread(target=work, args=(i, sender), daemon=True)
        for i, sender in enumerate(senders)
    ]
    log_offset = app.log_path.stat().st_size
    for thread in threads:
        thread.start()
    try:
        with CpuMeter(app, sandbox) as cpu:
            stop_at[0] = time.monotonic() + options.seconds
            go.set()
            for thread in threads:
                thread.join(timeout=max(stop_at[0] + REQUEST_TIMEOUT + 5 - time.monotonic(), 0))
    finally:
        stop_at[0] = 0.0
        go.set()
    stuck = sum(thread.is_alive() for thread in threads)
    for sender in senders:
        sender.connection.close()
    exceptions = exceptions_logged(app.log_path, log_offset)

    counted = task(app.env, "count", "--account", str(setup["account_id"]))
    in_index = Counter(counted["tracking_numbers"])
    new_sent = sum(statuses.values())
    repeat_sent = sum(repeats.values())
    fives = sum(
        n for status, n in (statuses + repeats).items() if isinstance(status, int) and status >= 500
    )
    return {
        "senders": options.senders,
        "seconds": cpu.wall,
        "sent": new_sent + repeat_sent,
        "new": new_sent,
        "repeats": repeat_sent,
        "per_second": (new_sent + repeat_sent) / cpu.wall,
        "new_per_second": new_sent / cpu.wall,
        "statuses": {str(status): n for status, n in statuses.items()},
        "repeat_statuses": {str(status): n for status, n in repeats.items()},
        "accepted": len(accepted),
        "indexed_once": sum(1 for tracking in accepted if in_index[tracking] == 1),
        "indexed_not_accepted": len(set(in_index) - set(accepted)),
        "deliveries_recorded": counted["deliveries"],
        "not_indexed_once": sum(1 for tracking in accepted if in_index[tracking] != 1),
        "duplicates_not_refused": repeat_sent - repeats.get(409, 0),
        "server_errors": fives + sum(exceptions.values()),
        "exceptions": exceptions,
        "stuck": stuck,
        "latency": percentiles(latencies),
        **cpu.figures(new_sent + repeat_sent),
    }


def task(env: dict[str, str], *args: str) -> dict:
    return json.loads(run_command([*TASKS, *args], env, f"webhook_tasks {args[0]}"))


# --- profiles --------------------------------------------------------------------------------


def run_profile(key: str, env: dict, sandbox, sandbox_url: str, work: Path, options) -> dict:
    if key == "sqlite":
        title = "SQLite"
        profile_env = {**env, "SQLITE_PATH": str(work / "webhooks.sqlite3")}
        run._services_cpu = None
    elif key == "postgres":
        title = "PostgreSQL + Redis"
        profile_env = {**env, "DATABASE_URL": PG_APP_URL, "REDIS_URL": REDIS_URL}
        # The PostgreSQL backends of this benchmark's database, and redis-server.
        run.PG_DATABASE = PG_DATABASE
        run._services_cpu = run.database_and_cache_cpu
    else:
        raise BenchError(f"unknown profile {key!r} (sqlite, postgres)")
    say(f"\n== {title}")
    if key == "postgres":
        skipped = postgres_and_redis()
        if skipped:
            say(f"  SKIPPED: {skipped}")
            return {"title": title, "skipped": skipped}
        pg_create(PG_DATABASE)
        redis_flush()
    try:
        run_command([PY, "manage.py", "migrate", "--noinput", "-v0"], profile_env, "migrate")
        setup = task(profile_env, "setup", "--sandbox-url", sandbox_url)
        app, base = start_app(f"gunicorn-webhooks-{key}", profile_env, work)
        app.env = profile_env
        try:
            say(f"  {options.senders} senders for {options.seconds} s…")
            figures = load_phase(base, setup, app, sandbox, options)
        finally:
            app.stop()
    except BenchError as error:
        say(f"  FAILED: {error}")
        return {"title": title, "failed": str(error)}
    finally:
        if key == "postgres":
            pg_drop(PG_DATABASE)
            with contextlib.suppress(Exception):
                redis_flush()
    say(
        f"  {figures['sent']} deliveries in {figures['seconds']:.1f} s: "
        f"{figures['per_second']:.0f}/s ({figures['new']} new, {figures['repeats']} repeats); "
        f"answers {figures['statuses']}, repeats {figures['repeat_statuses']}; "
        f"{figures['indexed_once']} of {figures['accepted']} accepted indexed exactly once; "
        f"latency p50 {figures['latency']['p50']:.1f} / p99 {figures['latency']['p99']:.1f} ms; "
        f"app {figures['app_cores']:.2f} cores, {figures['app_cpu_ms_per_lookup']:.2f} ms CPU "
        "per delivery"
    )
    figures["targets"] = evaluate(figures)
    return {"title": title, **figures}


def evaluate(figures: dict) -> list[dict]:
    checks = []
    for key, what, limit, unit, kind in TARGETS:
        value = figures[key]
        passed = value >= limit if kind == "min" else value <= limit
        checks.append(
            {
                "key": key,
                "what": what,
                "value": value,
                "limit": limit,
                "unit": unit,
                "kind": kind,
                "status": "PASS" if passed else "MISS",
            }
        )
    return checks


# --- report ----------------------------------------------------------------------------------


def _amount(value: float, unit: str) -> str:
    return f"{value:.0f}{unit}" if unit else f"{value:g}"


def markdown(result: dict) -> str:
    m, profiles = result["machine"], list(result["profiles"].values())

    def row(title: str, render) -> str:
        cells = [
            render(p) if "sent" in p else (p.get("skipped") or p.get("failed")) for p in profiles
        ]
        return f"| {title} | " + " | ".join(cells) + " |"

    def cpu(p: dict) -> str:
        text = f"{p['app_cpu_ms_per_lookup']:.2f}"
        if p.get("db_cache_cpu_ms_per_lookup"):
            text += f" (+ {p['db_cache_cpu_ms_per_lookup']:.2f} PostgreSQL/Redis)"
        return text

    out = [
        "## Webhooks: signed deliveries taken in",
        "",
        f"Measured by `bench/webhooks.py` ({result['date']}, commit `{m['commit']}`, "
        f"{m['nproc']} cores, Python {m['python']}), kept in `docs/performance-webhooks.md` and "
        "included here by `bench/report.py`. The app runs under gunicorn with production "
        f"settings; {result['senders']} senders on kept-alive connections post GoKarla's "
        f"payloads (a real sandbox order each, about {result['body_kb']:.0f} KB) as fast as they "
        f"are answered for {result['load_seconds']} s, each delivery with an order and tracking "
        "of its own, signed at sending time; one send in ten repeats a delivery already "
        "answered.",
        "",
        "| | " + " | ".join(p["title"] for p in profiles) + " |",
        "|---|" + "---|" * len(profiles),
        row("deliveries per second (new and repeated)", lambda p: f"{p['per_second']:.0f}"),
        row(
            "sent: new / repeated",
            lambda p: f"{p['new']} / {p['repeats']} in {p['seconds']:.0f} s",
        ),
        row(
            "answers to new deliveries",
            lambda p: ", ".join(f"{s}: {n}" for s, n in sorted(p["statuses"].items())),
        ),
        row(
            "answers to repeats",
            lambda p: ", ".join(f"{s}: {n}" for s, n in sorted(p["repeat_statuses"].items())),
        ),
        row(
            "accepted deliveries in the index exactly once",
            lambda p: f"{p['indexed_once']} of {p['accepted']}",
        ),
        row(
            "latency p50 / p95 / p99 ms",
            lambda p: " / ".join(f"{p['latency'][q]:.1f}" for q in ("p50", "p95", "p99")),
        ),
        row("app CPU per delivery, ms", cpu),
        row(
            "cores used",
            lambda p: (
                f"app {p['app_cores']:.2f}, "
                + (f"PostgreSQL/Redis {p['db_cache_cores']:.2f}, " if p["db_cache_cores"] else "")
                + f"load generator {p['generator_cores']:.2f}, other work {p['other_cores']:.2f}"
            ),
        ),
        "",
        "| target | " + " | ".join(p["title"] for p in profiles) + " |",
        "|---|" + "---|" * len(profiles),
    ]
    for key, what, limit, unit, kind in TARGETS:
        cells = []
        for p in profiles:
            check = next((c for c in p.get("targets", []) if c["key"] == key), None)
            cells.append(
                f"**{check['status']}** {_amount(check['value'], unit)}" if check else "skipped"
            )
        sign = "≥" if kind == "min" else "≤"
        out.append(f"| {what} {sign} {_amount(limit, unit)} | " + " | ".join(cells) + " |")
    out += [
        "",
        "A delivery is answered once it is verified, recorded (replay protection) and its "
        "shipment is in the index, in one transaction: no GoKarla call. The load generator "
        "shares the 2 cores with the app (and, in the second profile, with PostgreSQL and "
        "Redis), so the figures are what one such machine takes in, not the app alone. On "
        "SQLite every delivery's transaction takes the database's single write lock: "
        "deliveries queue for it, so the app does not use both cores and the slowest answers "
        "are those that waited longest (p99).",
    ]
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--profiles", default="sqlite,postgres", help="comma-separated: sqlite, postgres"
    )
    parser.add_argument("--seconds", type=int, default=SECONDS)
    parser.add_argument("--senders", type=int, default=SENDERS)
    parser.add_argument("--duplicates", type=float, default=DUPLICATES)
    parser.add_argument("--quick", action="store_true", help="5 s per profile, nothing written")
    parser.add_argument(
        "--output", type=Path, help="where to write performance-webhooks.{json,md} (docs/)"
    )
    options = parser.parse_args()
    if options.quick:
        options.seconds = 5

    stop_on_signals()
    started = time.monotonic()
    machine = report.machine_info()
    say(f"Karla Sidebar webhook benchmark · {machine['nproc']} cores · commit {machine['commit']}")

    def profiles(work: Path) -> dict:
        env = base_env()
        sandbox, sandbox_url = start_sandbox(env, work, latency_ms=0)
        env["SANDBOX_URL"] = sandbox_url
        return each_profile(
            options.profiles,
            lambda key: run_profile(key, env, sandbox, sandbox_url, work, options),
        )

    results = in_work_folder("karla-bench-webhooks-", profiles, failed=some_profile_failed)
    if results is None:
        return 130
    templates = Deliveries(prefix="X").templates
    result = {
        "date": report.now_iso(),
        "machine": machine,
        "senders": options.senders,
        "load_seconds": options.seconds,
        "duplicates": options.duplicates,
        "body_kb": sum(map(len, templates)) / len(templates) / 1024,
        "profiles": results,
        "seconds": time.monotonic() - started,
    }
    print_targets(results, _amount)
    write_section(options, "webhooks", result, markdown)
    say(f"webhook benchmark finished in {result['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

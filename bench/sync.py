"""``bench/sync.py``: how fast ``sync_gokarla`` indexes 10 000 orders, in how much memory, and
what a run with nothing to do costs.

One run, on this machine, only against 127.0.0.1, stopping by itself:

1. starts the GoKarla sandbox with 10 000 generated demo-shop orders and 50 ms latency
   (``manage.py runsandbox --latency-ms 50 --generated-orders 10000 --verbose``: it logs every
   request it answers, so GoKarla calls are counted where GoKarla would see them);
2. for each profile, SQLite and PostgreSQL (skipped, saying so, when PostgreSQL does not
   answer): migrates a fresh database, connects the sandbox's shops through the real Connect
   use case (``bench/sync_tasks.py setup``) and measures

   (a) the first run of demo-shop, ``manage.py sync_gokarla --account ID --backfill-days 61``
       started as cron starts it: wall time (process start included), orders and shipments
       indexed, GoKarla calls, the process's peak resident memory;
   (b) the same first run for a second demo-shop account, through the sync service in a
       process with ``tracemalloc`` on (slower; not timed against the target): per page, the
       peak of Python allocations during the page and what stays allocated after it;
   (c) a second run of each account with nothing changed: GoKarla calls per account, and
       whether the index changed;

3. prints every figure and each target with PASS or MISS, writes
   ``docs/performance-sync.{json,md}`` and rebuilds ``docs/performance.md`` from
   ``docs/performance.json`` (``bench/report.py`` includes the sync's section, so it survives
   ``make bench`` too).

``--quick`` (1 000 orders, nothing written unless ``--output`` says where) is a smoke run. A
figure, not a test: missing a target does not fail the run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import report  # bench/report.py: the script's folder is first on sys.path
import requests
from run import (
    PG_ADMIN_URL,
    PY,
    ROOT,
    BenchError,
    Service,
    base_env,
    each_profile,
    in_work_folder,
    pg_create,
    pg_drop,
    print_targets,
    run_command,
    say,
    some_profile_failed,
    stop_on_signals,
    write_section,
)

TASKS = [PY, str(ROOT / "bench" / "sync_tasks.py")]
ORDERS = 10_000
LATENCY_MS = 50
BACKFILL_DAYS = 61  # the sandbox's orders span 60 days: every one of them
PG_DATABASE = "karla_bench_sync"
PER_PAGE = 100
DEMO_SHOP = ("demo-shop", "karla-demo-token")  # the sandbox's documented demo key
RUN_TIMEOUT = 600
START_TIMEOUT = 120  # building 10 000 orders takes the sandbox a few seconds

# (key, what, limit, unit, "max" when the value must stay at or under the limit)
TARGETS = (
    ("first_run_seconds", "first run of 10 000 orders, wall time", 60, "s", "max"),
    ("orders_missing", "orders the first run did not index", 0, "", "max"),
    ("second_run_calls", "second run, nothing changed: GoKarla calls per account", 2, "", "max"),
    ("held_mb", "Python memory held between pages (tracemalloc)", 5, "MB", "max"),
    ("page_peak_mb", "Python memory peak within a page (tracemalloc)", 10, "MB", "max"),
)


def start_sandbox(env: dict[str, str], work: Path, orders: int) -> tuple[Service, str]:
    argv = [PY, "manage.py", "runsandbox", "--port", "0", "--latency-ms", str(LATENCY_MS)]
    argv += ["--generated-orders", str(orders), "--verbose"]
    service = Service("sandbox", argv, env, work)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        found = re.search(r"listening on (http://[\d.]+:\d+)", service.log_tail(5))
        if found:
            return service, found.group(1)
        if not service.alive():
            break
        time.sleep(0.1)
    raise BenchError(f"the sandbox did not start:\n{service.log_tail()}")


def gokarla_calls(sandbox: Service) -> int:
    """Order searches the sandbox has answered so far (its request log)."""
    time.sleep(0.2)  # it logs a request just after answering it
    text = sandbox.log_path.read_text(errors="replace")
    return len(re.findall(r'"GET [^"]*/orders\?', text))


def timed_sync(env: dict[str, str], work: Path, *args: str) -> dict:
    """``manage.py sync_gokarla ARGS`` as cron starts it: its output, wall time and the
    process's peak resident memory (from ``wait4``)."""
    output = work / "sync-output.txt"
    started = time.monotonic()
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [PY, "manage.py", "sync_gokarla", *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            while True:
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    process.returncode = os.waitstatus_to_exitcode(status)
                    break
                if time.monotonic() - started > RUN_TIMEOUT:
                    raise BenchError(f"sync_gokarla {' '.join(args)} took over {RUN_TIMEOUT} s")
                time.sleep(0.02)
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    seconds = time.monotonic() - started
    text = output.read_text(errors="replace")
    if process.returncode != 0:
        raise BenchError(f"sync_gokarla {' '.join(args)} exited {process.returncode}:\n{text}")
    return {"seconds": seconds, "peak_rss_mb": usage.ru_maxrss / 1024, "output": text}


def orders_served(url: str, generated: int) -> int:
    """How many orders the sandbox's demo-shop serves: its last pages, counted over HTTP."""
    page = max(1, generated // PER_PAGE)
    while True:
        found = requests.get(
            f"{url}/api/v1/shops/demo-shop/orders",
            params={"page": page, "per_page": PER_PAGE},
            auth=DEMO_SHOP,
            timeout=30,
        ).json()
        if len(found) < PER_PAGE:
            return (page - 1) * PER_PAGE + len(found)
        page += 1


def task(env: dict[str, str], *args: str) -> dict:
    return json.loads(run_command([*TASKS, *args], env, f"sync_tasks {args[0]}", RUN_TIMEOUT))


def summary(output: str) -> dict:
    """Orders, shipments and pages from the run's summary line."""
    found = re.search(r"synced (\d+) orders?, (\d+) shipments? indexed in (\d+) pages?", output)
    if not found:
        raise BenchError(f"no summary line in the sync's output:\n{output[-2000:]}")
    orders, shipments, pages = (int(value) for value in found.groups())
    return {"orders": orders, "shipments": shipments, "pages": pages}


def measure(env: dict[str, str], sandbox: Service, url: str, work: Path, orders: int) -> dict:
    run_command([PY, "manage.py", "migrate", "--noinput", "-v0"], env, "migrate", RUN_TIMEOUT)
    accounts = task(env, "setup", "--sandbox-url", url)
    shop, outlet = accounts["timed"]["demo-shop"], accounts["timed"]["demo-outlet"]

    say(f"  (a) first run of demo-shop ({orders} generated orders + the anchors)…")
    calls = gokarla_calls(sandbox)
    first = timed_sync(env, work, "--account", str(shop), "--backfill-days", str(BACKFILL_DAYS))
    first.update(summary(first.pop("output")), gokarla_calls=gokarla_calls(sandbox) - calls)
    first["orders_served"] = orders_served(url, orders)
    first["orders_per_second"] = first["orders"] / first["seconds"]
    say(
        f"      {first['orders']} orders, {first['shipments']} shipments in {first['pages']} "
        f"pages, {first['seconds']:.1f} s, GoKarla calls {first['gokarla_calls']}, peak RSS "
        f"{first['peak_rss_mb']:.0f} MB"
    )
    timed_sync(env, work, "--account", str(outlet))

    say("  (b) the same first run with tracemalloc, per page…")
    traced = task(
        env, "trace", "--account", str(accounts["traced"]), "--backfill-days", str(BACKFILL_DAYS)
    )
    pages = traced.pop("pages")
    memory = {
        "pages": len(pages),
        "held_mb": [page["traced_current_kb"] / 1024 for page in pages],
        "page_peak_mb": [page["traced_peak_kb"] / 1024 for page in pages],
        "rss_mb": [page["rss_kb"] / 1024 for page in pages],
    }
    say(
        f"      held between pages {min(memory['held_mb']):.1f}–{max(memory['held_mb']):.1f} "
        f"MB, peak within a page {statistics.median(memory['page_peak_mb']):.1f} (median) / "
        f"{max(memory['page_peak_mb']):.1f} (max) MB, RSS {memory['rss_mb'][0]:.0f} → "
        f"{memory['rss_mb'][-1]:.0f} MB"
    )

    say("  (c) a second run of each account, nothing changed…")
    second = {}
    for name, account in {
        "demo-shop": shop,
        "demo-outlet": outlet,
        "traced": accounts["traced"],
    }.items():
        before = task(env, "count", "--account", str(account))["entries"]
        calls = gokarla_calls(sandbox)
        done = timed_sync(env, work, "--account", str(account))
        second[name] = {
            "gokarla_calls": gokarla_calls(sandbox) - calls,
            "seconds": done["seconds"],
            "entries_before": before,
            "entries_after": task(env, "count", "--account", str(account))["entries"],
            **summary(done["output"]),
        }
        say(
            f"      {name}: GoKarla calls {second[name]['gokarla_calls']}, "
            f"{second[name]['orders']} orders in the overlap, index "
            f"{before} → {second[name]['entries_after']} entries, {done['seconds']:.1f} s"
        )
    return {"first_run": first, "traced": {**traced, **memory}, "second_run": second}


def evaluate(figures: dict, orders: int) -> list[dict]:
    values = {
        "first_run_seconds": figures["first_run"]["seconds"],
        "orders_missing": figures["first_run"]["orders_served"] - figures["first_run"]["orders"],
        "second_run_calls": max(r["gokarla_calls"] for r in figures["second_run"].values()),
        "held_mb": max(figures["traced"]["held_mb"]),
        "page_peak_mb": max(figures["traced"]["page_peak_mb"]),
    }
    checks = []
    for key, what, limit, unit, _ in TARGETS:
        value = values[key]
        checks.append(
            {
                "key": key,
                "what": what,
                "value": value,
                "limit": limit,
                "unit": unit,
                "status": "PASS" if value <= limit else "MISS",
            }
        )
    return checks


def _amount(value: float, unit: str) -> str:
    return f"{value:.1f} {unit}" if unit else f"{value:g}"


def markdown(run: dict) -> str:
    m, profiles = run["machine"], list(run["profiles"].values())

    def row(title: str, render) -> str:
        cells = []
        for p in profiles:
            cells.append(render(p) if "first_run" in p else p.get("skipped") or p.get("failed"))
        return f"| {title} | " + " | ".join(cells) + " |"

    out = [
        "## Sync: `sync_gokarla` over 10 000 orders",
        "",
        f"Measured by `bench/sync.py` ({run['date']}, commit `{m['commit']}`, {m['nproc']} "
        f"cores, Python {m['python']}), kept in `docs/performance-sync.md` and included here by "
        "`bench/report.py`. The sandbox serves "
        f"{run['orders']:,} generated demo-shop orders (plus the anchors) over the last 60 days "
        f"and answers every call after {LATENCY_MS} ms.",
        "",
        "| | " + " | ".join(p["title"] for p in profiles) + " |",
        "|---|" + "---|" * len(profiles),
        row(
            "(a) first run, `sync_gokarla --backfill-days 61`: wall time",
            lambda p: f"{p['first_run']['seconds']:.1f} s",
        ),
        row(
            "(a) orders / shipments indexed / pages",
            lambda p: (
                f"{p['first_run']['orders']} / {p['first_run']['shipments']} / "
                f"{p['first_run']['pages']}"
            ),
        ),
        row(
            "(a) orders per second; GoKarla calls",
            lambda p: (
                f"{p['first_run']['orders_per_second']:.0f}/s; {p['first_run']['gokarla_calls']}"
            ),
        ),
        row("(a) peak RSS of the process", lambda p: f"{p['first_run']['peak_rss_mb']:.0f} MB"),
        row(
            "(b) Python memory held between pages, min–max",
            lambda p: f"{min(p['traced']['held_mb']):.1f}–{max(p['traced']['held_mb']):.1f} MB",
        ),
        row(
            "(b) Python memory peak within a page, median / max",
            lambda p: (
                f"{statistics.median(p['traced']['page_peak_mb']):.1f} / "
                f"{max(p['traced']['page_peak_mb']):.1f} MB"
            ),
        ),
        row(
            "(b) RSS after page 1 / the middle page / the last page",
            lambda p: (
                " / ".join(
                    f"{p['traced']['rss_mb'][i]:.0f}"
                    for i in (0, len(p["traced"]["rss_mb"]) // 2, -1)
                )
                + " MB"
            ),
        ),
        row(
            "(c) second run, nothing changed: GoKarla calls per account",
            lambda p: ", ".join(
                f"{name} {r['gokarla_calls']}" for name, r in p["second_run"].items()
            ),
        ),
        row(
            "(c) orders in the 2-minute overlap; index entries changed",
            lambda p: (
                f"{sum(r['orders'] for r in p['second_run'].values())}; "
                f"{sum(r['entries_after'] - r['entries_before'] for r in p['second_run'].values())}"
            ),
        ),
        "",
        "| target | " + " | ".join(p["title"] for p in profiles) + " |",
        "|---|" + "---|" * len(profiles),
    ]
    for key, what, limit, unit, _ in TARGETS:
        cells = []
        for p in profiles:
            check = next((c for c in p.get("targets", []) if c["key"] == key), None)
            cells.append(
                f"**{check['status']}** {_amount(check['value'], unit)}" if check else "skipped"
            )
        out.append(f"| {what} ≤ {_amount(limit, unit)} | " + " | ".join(cells) + " |")
    out += [
        "",
        "(a) is `manage.py sync_gokarla` as cron starts it, process start included; its peak "
        "RSS is the whole Django process's. (b) runs the same first run through the sync "
        "service with `tracemalloc` on, for a second account: what Python holds between pages "
        "stays put while 10 000 orders pass, so memory does not grow with the orders. (c) "
        "counts the order searches the sandbox answered for each account's second run; the "
        "orders in the overlap are those whose shipments GoKarla updated in the two minutes "
        "before the first run started (asked again on purpose, for clock differences), "
        "written again unchanged.",
    ]
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--profiles", default="sqlite,postgres", help="comma-separated: sqlite, postgres"
    )
    parser.add_argument("--quick", action="store_true", help="1 000 orders, nothing written")
    parser.add_argument(
        "--output", type=Path, help="where to write performance-sync.{json,md} (default: docs/)"
    )
    options = parser.parse_args()
    orders = 1000 if options.quick else ORDERS

    stop_on_signals()
    started = time.monotonic()
    machine = report.machine_info()
    say(f"Karla Sidebar sync benchmark · {machine['nproc']} cores · commit {machine['commit']}")

    def profiles(work: Path) -> dict:
        env = base_env()
        sandbox, url = start_sandbox(env, work, orders)
        say(f"sandbox on {url}: {orders} generated orders, {LATENCY_MS} ms latency per answer")
        env["SANDBOX_URL"] = url
        return each_profile(
            options.profiles, lambda key: run_profile(key, env, sandbox, url, work, orders)
        )

    results = in_work_folder("karla-bench-sync-", profiles, failed=some_profile_failed)
    if results is None:
        return 130
    run = {
        "date": report.now_iso(),
        "machine": machine,
        "orders": orders,
        "latency_ms": LATENCY_MS,
        "profiles": results,
        "seconds": time.monotonic() - started,
    }
    print_targets(results, _amount)
    write_section(options, "sync", run, markdown)
    say(f"sync benchmark finished in {run['seconds']:.0f} s")
    return 0


def run_profile(key: str, env: dict, sandbox: Service, url: str, work: Path, orders: int):
    if key == "sqlite":
        title, profile_env = "SQLite", {**env, "SQLITE_PATH": str(work / "sync.sqlite3")}
    elif key == "postgres":
        database = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_DATABASE}"
        title, profile_env = "PostgreSQL", {**env, "DATABASE_URL": database}
    else:
        raise BenchError(f"unknown profile {key!r} (sqlite, postgres)")
    say(f"\n== {title}")
    if key == "postgres":
        try:
            pg_create(PG_DATABASE)
        except Exception as error:
            say(f"  SKIPPED: PostgreSQL at 127.0.0.1:5432 is not reachable ({error})")
            return {"title": title, "skipped": "PostgreSQL is not reachable"}
    try:
        figures = measure(profile_env, sandbox, url, work, orders)
    except BenchError as error:
        say(f"  FAILED: {error}")
        return {"title": title, "failed": str(error)}
    finally:
        if key == "postgres":
            with contextlib.suppress(Exception):
                pg_drop(PG_DATABASE)
    figures["targets"] = evaluate(figures, orders)
    return {"title": title, **figures}


if __name__ == "__main__":
    sys.exit(main())

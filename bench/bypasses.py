"""``bench/bypasses.py``: does a bypass of the framework save at least 10 % of a lookup's CPU?

The rule (docs/performance.md, "Bypasses of the framework"): the app does things the
framework's way (the ORM, Django's cache backend, its libraries as they come) unless a
benchmark shows that going around it saves at least 10 % of a lookup's CPU. This is that
benchmark. One run, on this machine, only against 127.0.0.1, stopping by itself:

1. starts the GoKarla sandbox answering at once (``--latency-ms 0``: the app's CPU is
   measured, not GoKarla's time, and no wait cools the CPU's caches between calls, so a
   bypass's share of a lookup is, if anything, overstated);
2. for each profile, SQLite with the local-memory cache and PostgreSQL with Redis (skipped,
   saying so, when they do not answer): migrates a fresh database (and a Redis key prefix of
   its own), then ``bench/bypass_tasks.py ab`` calls the app's WSGI application in one
   thread, arm after arm, round after round: the sidebar's Get Order uncached and cached and
   the workflow API's Get Order uncached, measuring this thread's CPU per lookup;
3. prints, per profile, arm and phase, the median CPU per lookup over the rounds with its
   range, and what each bypass saves against the framework's way, round by round; writes
   ``docs/performance-bypasses.{json,md}`` and rebuilds ``docs/performance.md`` (which
   includes every ``docs/performance-*.md``, so the section survives ``make bench``).

``--quick`` (2 rounds of 20 lookups, nothing written unless ``--output`` says where) is a
smoke run. A figure, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

import report  # bench/report.py: the script's folder is first on sys.path
from bypass_tasks import BLOCK
from run import (
    PG_ADMIN_URL,
    PY,
    ROOT,
    BenchError,
    base_env,
    each_profile,
    in_work_folder,
    pg_create,
    pg_drop,
    postgres_and_redis,
    run_command,
    say,
    some_profile_failed,
    start_sandbox,
    stop_on_signals,
    write_section,
)

TASKS = [PY, str(ROOT / "bench" / "bypass_tasks.py")]
PG_DATABASE = "karla_bench_bypasses"
REDIS_URL = "redis://127.0.0.1:6379/2"
ROUNDS, LOOKUPS, WARMUP = 7, 150, 20
THRESHOLD = 10.0  # % of a lookup's CPU a bypass must save to stay
RUN_TIMEOUT = 1800

PHASES = {
    "sidebar_uncached": "sidebar Get Order, uncached",
    "sidebar_cached": "sidebar Get Order, cached",
    "api_uncached": "workflow API Get Order, uncached",
}
ARMS = {
    "framework": "no bypass: the framework's way everywhere",
    "selectors": "+ raw reads (the app now)",
    "insert": "+ hand-built history `INSERT`",
    "environment": "+ `requests`' environment read once",
    "cache": "+ Redis client per pool, Lua `incr`",
    "all": "+ all four (the app before)",
}
BYPASSES = {
    "selectors": "raw `SELECT`s built once (`accounts/selectors.py`)",
    "insert": "history row by a hand-built `INSERT` (`lookup_records.py`)",
    "environment": "`requests`' environment read once per host, not per call (`client.py`)",
    "cache": "Redis backend: one client per pool, `incr` in Lua (`cache.py`)",
    "all": "all of them together (the app before)",
}


def _redis_forget(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=3)
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)


def measure(key: str, env: dict, sandbox_url: str, options, work: Path) -> dict:
    if key == "sqlite":
        title, profile = "SQLite + local-memory cache", {"SQLITE_PATH": str(work / "ab.sqlite3")}
    elif key == "postgres":
        title = "PostgreSQL + Redis"
        prefix = f"bench-bypasses-{uuid.uuid4().hex[:8]}"
        database = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_DATABASE}"
        profile = {"DATABASE_URL": database, "REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": prefix}
    else:
        raise BenchError(f"unknown profile {key!r} (sqlite, postgres)")
    say(f"\n== {title}")
    if key == "postgres" and (why := postgres_and_redis()):
        say(f"  SKIPPED: {why}")
        return {"title": title, "skipped": why}
    env = {**env, **profile}
    try:
        if key == "postgres":
            pg_create(PG_DATABASE)
        run_command([PY, "manage.py", "migrate", "--noinput", "-v0"], env, "migrate", RUN_TIMEOUT)
        argv = [*TASKS, "ab", "--sandbox-url", sandbox_url, "--rounds", str(options.rounds)]
        argv += ["--lookups", str(options.lookups), "--warmup", str(options.warmup)]
        figures = json.loads(run_command(argv, env, "bypass_tasks ab", RUN_TIMEOUT))
    except BenchError as error:
        say(f"  FAILED: {error}")
        return {"title": title, "failed": str(error)}
    finally:
        if key == "postgres":
            pg_drop(PG_DATABASE)
            with contextlib.suppress(Exception):
                _redis_forget(prefix)
    figures["savings"] = savings(figures)
    for line in summary_lines(figures):
        say(f"  {line}")
    return {"title": title, **figures}


def savings(figures: dict) -> dict:
    """Per bypass arm and phase: what it saves against ``framework`` in the same round, in %
    of the framework's CPU (negative: it costs more)."""
    cpu = figures["cpu_ms_per_lookup"]
    framework = cpu["framework"]
    out = {}
    for arm in figures["arms"]:
        if arm == "framework":
            continue
        out[arm] = {
            phase: [
                (base - mine) / base * 100
                for base, mine in zip(framework[phase], cpu[arm][phase], strict=True)
            ]
            for phase in PHASES
        }
    return out


def together(figures: dict) -> dict:
    """What the bypasses other than the kept ``selectors`` save together, per round: the
    ``all`` arm against the ``selectors`` arm, in % of the framework's CPU."""
    cpu = figures["cpu_ms_per_lookup"]
    return {
        phase: [
            (reads - every) / base * 100
            for base, reads, every in zip(
                cpu["framework"][phase], cpu["selectors"][phase], cpu["all"][phase], strict=True
            )
        ]
        for phase in PHASES
    }


def _spread(values: list[float], digits: int = 2) -> str:
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}–{max(values):.{digits}f})"
    )


def summary_lines(figures: dict) -> list[str]:
    cpu = figures["cpu_ms_per_lookup"]
    lines = []
    for arm in figures["arms"]:
        cells = [f"{phase} {_spread(cpu[arm][phase])} ms" for phase in PHASES]
        if arm != "framework":
            cells += [
                f"saves {phase} {_spread(figures['savings'][arm][phase], 1)} %" for phase in PHASES
            ]
        lines.append(f"{arm}: " + "; ".join(cells))
    return lines


def verdict(saved: dict) -> str:
    best = max(statistics.median(values) for values in saved.values())
    return f"**≥ {THRESHOLD:g} %**" if best >= THRESHOLD else f"< {THRESHOLD:g} %"


def markdown(run: dict) -> str:
    m = run["machine"]
    out = [
        "## Bypasses of the framework",
        "",
        f"Measured by `bench/bypasses.py` ({run['date']}, commit `{m['commit']}`, {m['nproc']} "
        f"cores, Python {m['python']}), kept in `docs/performance-bypasses.md` and included "
        "here by `bench/report.py`. The rule: the app uses the ORM, Django's cache backend and "
        f"its libraries as they come, unless going around them saves at least {THRESHOLD:g} % "
        "of a lookup's CPU here. Each bypass the app had is compared on its own with the "
        "framework's way, in one process (`bench/bypass_tasks.py` holds whichever of the two "
        "the app does not use; the cache's where the cache is Redis): in each of "
        f"{run['rounds']} rounds and for each phase, every arm makes {run['warmup']} unmeasured "
        f"lookups, then the arms take turns in blocks of {BLOCK} lookups, in a new random order "
        f"for each block, until each has made {run['lookups']}. CPU is this thread's "
        "(`time.thread_time`) per "
        "lookup, the app called through its WSGI application, the sandbox answering at once: "
        "warm, with no wait on GoKarla to cool the CPU's caches, so a bypass's share is if "
        "anything overstated. Figures: the median over the rounds (min–max).",
    ]
    for figures in run["profiles"].values():
        out += ["", f"### {figures['title']}", ""]
        if "cpu_ms_per_lookup" not in figures:
            out.append(f"Not measured: {figures.get('skipped') or figures.get('failed')}")
            continue
        cpu = figures["cpu_ms_per_lookup"]
        out += [
            "| arm | " + " | ".join(f"{title}, ms CPU" for title in PHASES.values()) + " |",
            "|---|" + "---|" * len(PHASES),
        ]
        for arm in figures["arms"]:
            name = ARMS.get(arm, arm)
            out.append(
                f"| {name} | " + " | ".join(_spread(cpu[arm][phase]) for phase in PHASES) + " |"
            )
        out += [
            "",
            "| bypass | "
            + " | ".join(f"saves, {title}" for title in PHASES.values())
            + f" | ≥ {THRESHOLD:g} %? |",
            "|---|" + "---|" * (len(PHASES) + 1),
        ]
        for arm, saved in figures["savings"].items():
            out.append(
                f"| {BYPASSES.get(arm, arm)} | "
                + " | ".join(f"{_spread(saved[phase], 1)} %" for phase in PHASES)
                + f" | {verdict(saved) if arm != 'all' else '—'} |"
            )
        removed = together(figures)
        out.append(
            "| the bypasses removed, together (all, against the reads alone) | "
            + " | ".join(f"{_spread(removed[phase], 1)} %" for phase in PHASES)
            + " | — |"
        )
    out += ["", DECISIONS]
    return "\n".join(out) + "\n"


DECISIONS = """\
Savings are per round, against the framework's way measured in the same round (negative: the
bypass cost more). A bypass stays only if its median saving reaches the threshold on some
lookup path. What was decided (2026-12-02):

- **Kept: the reads on every lookup** (`accounts/selectors.py`: the sidebar token's
  workspace, the lookup's account, the API key with its workspace). Building a queryset's SQL
  costs the ORM several times what running the statement costs here, on every request; the
  statements are built once from the models' metadata and run with `Model.objects.raw` (model
  instances all the same). `account_get`, the lookup's account when the agent or the
  automation names one, is the same read and stays with them.
- **Removed: the history row's `INSERT`** (`karla_sidebar/lookup_records.py` now calls
  `save()`). With it went what it forced: `stale` and `resolved_by` have `db_default` (app
  servers on the previous release keep writing rows during a deploy), and the SQLite-only
  partial index and PostgreSQL's trigram indexes are in `LookupRecord.Meta.indexes`
  (`VendorIndex`, `VendorGinIndex`: an index on one database only). Migration 0010 records
  them in the model state without touching the database; `makemigrations --check` stays
  clean, and a later SQLite table rebuild keeps them.
- **Removed: the GoKarla client's cached environment** (`karla_sidebar/gokarla/client.py`):
  `requests` reads proxies and the CA bundle from the environment on every call, as it comes.
- **Removed: the cache backend** (`karla_sidebar/cache.py`): Django's Redis backend as it
  comes (no private `_get_connection_pool` or `_class`) and no Lua, so a Redis that refuses
  scripting (managed Redis with ACLs) works. Django's `incr` asks `EXISTS`, then `INCRBY`: a
  counter that expires between the two is started again without an expiry, which
  `core.ratelimit.cache_count` notices (only then does `incr` answer 1) and gives it
  its expiry back. A test runs the counters as a Redis user that may not run scripts.

The rule is per bypass, and each removed one stays well under it. Together they are worth
more (the last row of each table), most on PostgreSQL + Redis, where two of them save round
trips' worth of client work: that is the price of the framework's way here, paid for code
that needs no private API, no script permission and no hand-kept column list."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--profiles", default="sqlite,postgres", help="comma-separated: sqlite, postgres"
    )
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--lookups", type=int, default=LOOKUPS, help="per arm, phase and round")
    parser.add_argument("--warmup", type=int, default=WARMUP)
    parser.add_argument("--quick", action="store_true", help="2 rounds of 20, nothing written")
    parser.add_argument(
        "--output", type=Path, help="where to write performance-bypasses.{json,md} (docs/)"
    )
    options = parser.parse_args()
    if options.quick:
        options.rounds, options.lookups, options.warmup = 2, 20, 5

    stop_on_signals()
    started = time.monotonic()
    machine = report.machine_info()
    say(f"Karla Sidebar bypass A/B · {machine['nproc']} cores · commit {machine['commit']}")

    def profiles(work: Path) -> dict:
        env = base_env()
        _, url = start_sandbox(env, work, latency_ms=0)
        env["SANDBOX_URL"] = url
        say(f"sandbox on {url}, answering at once")
        return each_profile(options.profiles, lambda key: measure(key, env, url, options, work))

    results = in_work_folder("karla-bench-bypasses-", profiles, failed=some_profile_failed)
    if results is None:
        return 130
    run = {
        "date": report.now_iso(),
        "machine": machine,
        "rounds": options.rounds,
        "lookups": options.lookups,
        "warmup": options.warmup,
        "profiles": results,
        "seconds": time.monotonic() - started,
    }
    write_section(options, "bypasses", run, markdown)
    say(f"bypass A/B finished in {run['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``make soak``: 50 agents for 60 s while GoKarla (the sandbox) dies for 15 s and comes back.

One run per profile (default SQLite with the local-memory cache; ``--profiles sqlite,postgres``
adds PostgreSQL with Redis, skipped with the reason when either does not answer), on this
machine, only against 127.0.0.1, stopping by itself. Built on ``bench/run.py`` (processes in
their own groups, production settings, ``X-Forwarded-Proto: https``, the sidebar agents on
``http.client``) and ``bench/app_tasks.py`` (setup and history counts in a subprocess):

1. starts the sandbox (``runsandbox --latency-ms 30``) on a free port outside the kernel's
   ephemeral range (so that no outgoing connection takes it while the sandbox is down),
   migrates a fresh database, connects the demo shop, mints launch tokens, and starts the app
   under gunicorn with ``gunicorn.conf.py`` and production settings;
2. launches 50 agents (each its own sidebar session from a launch token, the header token
   renewed from every answer's headers, and its own keep-alive connection), then for 60 s each
   sends lookups without pause, the mix of ``make bench``: Get Order and Get Shipment, cached
   and with Refresh (``refresh=1``), references that exist and ones that do not;
3. at t = 15 s kills the sandbox's process group (SIGKILL: a crash, not a shutdown), at
   t = 30 s starts it again on the same port, and notes the moment it listens again (its
   *return*);
4. samples the resident memory (``VmRSS`` in ``/proc/<pid>/status``) of every gunicorn worker
   once a second;
5. prints the figures and one PASS/FAIL line per criterion, and exits 1 if any failed:

   - no 5xx reaches an agent (GoKarla's failures are error cards answered with 200), every
     answer is a card the sidebar knows, and the outage was really seen (error cards or stale
     answers while the sandbox was down: the run cannot pass without exercising the failure);
   - no connection error between the agents and the app, and no request left unanswered;
   - recovery: from the sandbox's return, the first fresh answer from GoKarla an agent
     receives (a card found just now, not cached or stale, or a not-found, which is never
     cached) and the first 1-s window in which at least 95 % of the lookups sent succeed both
     come within 5 s, and every later 1-s window stays at or above 95 %. A lookup *succeeds*
     when it gets what it would get with GoKarla up: the record (fresh or cached, not stale)
     or the not-found card;
   - history: the ``LookupRecord`` rows created during the soak equal the lookups made, in all
     and for each agent, and their outcomes match the answers (found, not found, unavailable).
     Only ``POST /sidebar/order/`` and ``/sidebar/shipment/`` are sent (``/sidebar/
     customer-orders/`` would write one too; a launch without ``customer_email`` never calls
     it); launches happen before the first count and renewals are not requests of their own;
   - memory stays flat: the threshold is explained where it is printed. (In a 300-s run on
     2 cores, 2026-11-27, each worker's RSS went 60 → 73 MiB in the first 10 s, → 77 MiB by
     60 s, then levelled off at 79 MiB from about 150 s to the end: warm-up, not a leak.)

Recovery is bounded by the breaker: a probe that fails just before the sandbox returns keeps
the account paused for ``BREAKER_COOLDOWN_SECONDS`` (5 s) more, so the worst case is the
cool-down plus one round trip and the wait for a worker thread, at the edge of the 5-s target.

``--answers FILE`` writes every lookup (profile, agent, kind, answer, status, sent and answered
in seconds since the start) as CSV, for a closer look. Everything it starts is stopped in
``finally`` (errors, Ctrl-C and SIGTERM included); the servers' logs (the sandboxes', gunicorn's
stderr) are kept in a temporary folder, printed, when something failed.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import html
import http.client
import json
import random
import re
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import report  # bench/report.py (the script's folder is first on sys.path)
import run as bench  # bench/run.py: processes, settings, agents, the lookup mix

AGENTS = 50
SECONDS = 60
SANDBOX_STOP_AT = 15
SANDBOX_START_AT = 30
SANDBOX_LATENCY_MS = 30
RECOVERY_TARGET_SECONDS = 5.0
WINDOW_SECONDS = 1.0
WINDOW_SUCCESS = 0.95
WINDOW_MIN_LOOKUPS = 10  # a window with fewer lookups says nothing
WARMUP_SECONDS = 10  # memory: imports, thread stacks, templates, caches and pools are in by then
RSS_GROWTH_LIMIT = 0.10

PG_DATABASE = "karla_soak"  # not make bench's, so the two can run side by side
PG_APP_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DATABASE}"
REDIS_URL = "redis://127.0.0.1:6379/3"

# What a lookup that gets what it would get with GoKarla up looks like, by expected outcome.
SUCCESS = {"found": {"found, fresh", "found, cached"}, "not_found": {"not found"}}
FRESH = {"found, fresh", "not found"}  # answers GoKarla gave just now (a not-found is not cached)
# Error cards by what their message says (karla_sidebar/gokarla/errors.py, breaker.py).
CARD_KINDS = (
    ("pausing calls", "paused"),  # CircuitOpen: the breaker fails fast
    ("not available right now", "unavailable"),  # Unavailable: connection refused, 5xx
    ("did not answer in time", "timeout"),
    ("limiting requests", "rate limited"),
    ("could not understand", "unexpected response"),
)
# The history's outcome for each kind of answer.
RECORD_OUTCOME = {
    "found, fresh": "found",
    "found, cached": "found",
    "found, stale": "found",
    "not found": "not_found",
    "paused": "unavailable",
    "unavailable": "unavailable",
    "timeout": "timeout",
    "rate limited": "rate_limited",
    "unexpected response": "unexpected_response",
}
COLUMNS = ("found, fresh", "found, cached", "found, stale", "not found", "paused", "unavailable")
COLUMN_LABELS = ("fresh", "cached", "stale", "not found", "paused", "unavail.")

say = bench.say


# --- answers ---------------------------------------------------------------------------------

_CARD_MESSAGE = re.compile(r'<p class="mt-2">(.*?)</p>', re.S)


def answer_kind(status: int, body: str) -> str:
    """What the agent saw: a result (fresh, cached, stale), an error card by kind, or a status."""
    if status != 200:
        return f"HTTP {status}"
    if "error-card" in body:
        if ">Not found<" in body:
            return "not found"
        found = _CARD_MESSAGE.search(body)
        message = html.unescape(found.group(1)).strip() if found else ""
        for needle, kind in CARD_KINDS:
            if needle in message:
                return kind
        return f"other card: {message[:80]}"
    if "result-card" in body:
        if "(stale)" in body:
            return "found, stale"
        return "found, cached" if "(cached)" in body else "found, fresh"
    return "unrecognised"


@dataclass(slots=True)
class Answer:
    agent: int
    kind: str  # of the mix: "order, refresh", "shipment, not found", ...
    outcome: str  # answer_kind(), or "connection: <error>"
    status: int | None
    started: float  # seconds since the soak's start
    ended: float

    @property
    def ok(self) -> bool:
        expected = "not_found" if self.kind.endswith("not found") else "found"
        return self.outcome in SUCCESS[expected]


# --- the sandbox's port, memory ----------------------------------------------------------------


def sandbox_port() -> int:
    """A free port below the kernel's ephemeral range: while the sandbox is down, no outgoing
    connection on the machine (nor a server asking for port 0) can take it."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(max(low - 12000, 10000), low)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((bench.HOST, port))
            except OSError:
                continue
        return port
    return bench.free_port()


def port_refuses(port: int) -> bool:
    try:
        socket.create_connection((bench.HOST, port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


class RssSampler(threading.Thread):
    """Every second: the RSS of each gunicorn worker (the group's members but its master)."""

    def __init__(self, app: bench.Service, t0: float, stop: threading.Event):
        super().__init__(daemon=True, name="rss-sampler")
        self.app, self.t0, self.stop = app, t0, stop
        self.samples: list[tuple[float, dict[int, float]]] = []

    def sample(self) -> None:
        workers = {}
        for pid in bench.group_members(self.app.pgid):
            if pid != self.app.pgid and (rss := rss_mib(pid)) is not None:
                workers[pid] = rss
        self.samples.append((time.monotonic() - self.t0, workers))

    def run(self) -> None:
        due = self.t0
        while not self.stop.is_set():
            self.sample()
            due += 1.0
            self.stop.wait(max(due - time.monotonic(), 0))


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB), in MiB per minute."""
    if len(points) < 2:
        return float("nan")
    xs, ys = zip(*points, strict=True)
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if not spread:
        return float("nan")
    return 60 * sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


# --- the soak ----------------------------------------------------------------------------------


@dataclass
class Soak:
    answers: list[Answer]
    events: dict[str, float]  # seconds since the start: stopped, start issued, returned
    restart_error: str
    stuck: int  # agent threads still waiting for an answer at the end
    sampler: RssSampler
    seconds: float


def soak(base: str, tokens: list[str], app, sandbox, port: int, env, log_dir, key, options):
    """Run the agents; kill and restart the sandbox on schedule. Returns (Soak, sandbox)."""
    orders, trackings = bench.sandbox_catalog()
    agents = [bench.LightAgent(base, token) for token in tokens]  # launched before the clock
    weights = [weight for weight, *_ in bench.MIX]
    per_agent: list[list[Answer]] = [[] for _ in agents]
    go, stop_sampling = threading.Event(), threading.Event()
    clock = {"t0": 0.0, "stop_at": 0.0}

    def work(index: int, agent: bench.LightAgent) -> None:
        rng = random.Random(index)
        answers = per_agent[index]
        go.wait()
        t0 = clock["t0"]
        while time.monotonic() < clock["stop_at"]:
            _, kind, path, refresh, _ = rng.choices(bench.MIX, weights)[0]
            data = {"reference": bench._reference(kind, rng, orders, trackings)}
            if refresh:
                data["refresh"] = "1"
            started = time.monotonic() - t0
            try:
                status, body = agent.post(path, data)
                outcome = answer_kind(status, body)
            except (OSError, http.client.HTTPException) as error:
                status, outcome = None, f"connection: {type(error).__name__}"
            answers.append(Answer(index, kind, outcome, status, started, time.monotonic() - t0))

    threads = [
        threading.Thread(target=work, args=(i, agent), daemon=True, name=f"agent-{i}")
        for i, agent in enumerate(agents)
    ]
    for thread in threads:
        thread.start()
    events: dict[str, float] = {}
    restart_error = ""
    t0 = time.monotonic()
    clock.update(t0=t0, stop_at=t0 + options.seconds)
    sampler = RssSampler(app, t0, stop_sampling)

    def at(moment: float) -> None:
        time.sleep(max(t0 + moment - time.monotonic(), 0))

    try:
        sampler.start()
        go.set()
        at(options.stop_at)
        sandbox.kill()
        events["stopped"] = time.monotonic() - t0
        events["refused"] = float(port_refuses(port))
        at(options.start_at)
        events["start issued"] = time.monotonic() - t0
        try:
            sandbox, _ = bench.start_sandbox(
                env,
                log_dir,
                port=port,
                latency_ms=options.latency_ms,
                name=f"sandbox-{key}-restarted",
            )
            events["returned"] = time.monotonic() - t0
        except bench.BenchError as error:
            restart_error = str(error)
        at(options.seconds)
        for thread in threads:
            thread.join(
                timeout=max(clock["stop_at"] + bench.REQUEST_TIMEOUT + 5 - time.monotonic(), 0)
            )
    finally:
        clock["stop_at"] = 0.0  # agents stop after their current request (Ctrl-C included)
        go.set()
        stop_sampling.set()
        sampler.join(timeout=5)
    stuck = sum(thread.is_alive() for thread in threads)
    for agent in agents:
        agent.close()
    answers = sorted(
        (a for agent_answers in per_agent for a in agent_answers), key=lambda a: a.ended
    )
    return Soak(answers, events, restart_error, stuck, sampler, time.monotonic() - t0), sandbox


# --- figures -----------------------------------------------------------------------------------


def _share(answers: list[Answer]) -> float:
    return sum(a.ok for a in answers) / len(answers) if answers else float("nan")


def _sent_in(answers: list[Answer], start: float, length: float = WINDOW_SECONDS) -> list[Answer]:
    """The lookups sent in [start, start + length)."""
    return [a for a in answers if start <= a.started < start + length]


def recovery(run: Soak, seconds: float) -> dict:
    """From the sandbox's return (the moment it listens again):

    - the first fresh answer an agent received (its answer time), and when it was sent;
    - the first 1-s window (windows start every 0.1 s) in which ≥ 95 % of the lookups *sent*
      succeed: an agent who clicks from then on gets an answer, however long it then takes
      (latency is shown apart); and the worst of the following 1-s windows.
    """
    returned = run.events.get("returned")
    if returned is None:
        return {"returned": None}
    after = [a for a in run.answers if a.ended >= returned]
    fresh = next((a for a in after if a.outcome in FRESH), None)
    figures = {
        "returned": returned,
        "first_fresh": fresh.ended - returned if fresh else None,
        "first_fresh_sent": fresh.started - returned if fresh else None,
        "window": None,
        "worst_later_window": None,
    }
    sent_after = [a for a in run.answers if a.started >= returned]
    step = 0
    while returned + step / 10 + WINDOW_SECONDS <= seconds:
        start = returned + step / 10
        window = _sent_in(sent_after, start)
        if len(window) >= WINDOW_MIN_LOOKUPS and _share(window) >= WINDOW_SUCCESS:
            figures["window"] = start - returned
            later = []
            following = start + WINDOW_SECONDS
            while following + WINDOW_SECONDS <= seconds:
                window = _sent_in(sent_after, following)
                if window:
                    later.append((_share(window), following - returned, len(window)))
                following += WINDOW_SECONDS
            figures["worst_later_window"] = min(later) if later else None
            break
        step += 1
    figures["per_second"] = [
        (s, _share(w), len(w))
        for s in range(-2, 9)
        if (w := _sent_in(run.answers, returned + s)) and returned + s + 1 <= seconds
    ]
    return figures


def memory(run: Soak, seconds: float) -> dict:
    """Per worker: RSS at the start, after warm-up, peak, at the end, and the slope over the
    last 30 s."""
    samples = run.sampler.samples
    pids = sorted({pid for _, workers in samples for pid in workers})
    first = set(samples[0][1]) if samples else set()
    last = set(samples[-1][1]) if samples else set()
    workers = {}
    for pid in pids:
        series = [(t, workers[pid]) for t, workers in samples if pid in workers]
        warm = [rss for t, rss in series if WARMUP_SECONDS - 2 <= t <= WARMUP_SECONDS + 2]
        tail = [rss for _, rss in series[-5:]]
        baseline = statistics.median(warm) if warm else float("nan")
        end = statistics.median(tail) if tail else float("nan")
        workers[pid] = {
            "start": series[0][1],
            "warm": baseline,
            "peak": max(rss for _, rss in series),
            "end": end,
            "growth": (end - baseline) / baseline if warm else float("nan"),
            "slope_last_30s": slope_per_minute([(t, r) for t, r in series if t >= seconds - 30]),
        }
    return {"workers": workers, "changed": first != last or len(pids) != len(first)}


def history(before: dict, after: dict, run: Soak) -> dict:
    added = after["lookup_records"] - before["lookup_records"]

    def diff(column: str) -> Counter:
        return Counter(
            {
                name: count - before[column].get(name, 0)
                for name, count in after[column].items()
                if count - before[column].get(name, 0)
            }
        )

    made = Counter(f"bench-{a.agent}" for a in run.answers)
    by_actor = diff("by_actor")
    expected_outcomes = Counter(RECORD_OUTCOME.get(a.outcome, a.outcome) for a in run.answers)
    return {
        "records": added,
        "requests": len(run.answers),
        "agents_off": sorted(
            (actor, by_actor.get(actor, 0), made.get(actor, 0))
            for actor in set(made) | set(by_actor)
            if by_actor.get(actor, 0) != made.get(actor, 0)
        ),
        "outcomes_recorded": dict(diff("by_outcome")),
        "outcomes_answered": dict(expected_outcomes),
    }


_GUNICORN_LINE = re.compile(r"^\[[^\]]+\] \[\d+\] \[([A-Z]+)\] (.*)")


def log_summary(path: Path, offset: int) -> Counter:
    """The app's log lines at WARNING and above since ``offset``, counted by level and message
    (numbers masked so that one message counts as one)."""
    with path.open("rb") as handle:
        handle.seek(offset)
        lines = handle.read().decode("utf-8", "replace").splitlines()
    found: Counter = Counter()
    for line in lines:
        level, message = "", ""
        if line.startswith("{"):
            with contextlib.suppress(ValueError, AttributeError):
                entry = json.loads(line)
                level = entry.get("level", "")
                message = f"{entry.get('logger', '')}: {entry.get('message', '')}"
                error = (entry.get("error") or "").strip().splitlines()
                if error:
                    message += f" ({error[-1][:120]})"
        elif match := _GUNICORN_LINE.match(line):
            level, message = match.groups()
        elif line.strip():
            level, message = "OTHER", line
        if level in {"WARNING", "ERROR", "CRITICAL", "OTHER"}:
            found[f"{level} {re.sub(r'[0-9]+', 'N', message)[:200]}"] += 1
    return found


@dataclass
class Check:
    what: str
    passed: bool
    detail: str


def evaluate(run: Soak, rec: dict, mem: dict, hist: dict, seconds: float) -> list[Check]:
    outcomes = Counter(a.outcome for a in run.answers)
    statuses = Counter(a.status for a in run.answers if a.status is not None)
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    strange = {
        o: n
        for o, n in outcomes.items()
        if o.startswith(("HTTP", "other card", "unrecognised")) and not o.startswith("HTTP 5")
    }
    stopped = run.events.get("stopped", seconds)
    returned = run.events.get("returned", seconds)
    outage = [a for a in run.answers if stopped <= a.started and a.ended < returned]
    degraded = sum(not a.ok for a in outage)
    connection = sum(n for o, n in outcomes.items() if o.startswith("connection"))
    checks = [
        Check(
            "no 5xx reached an agent (GoKarla's failures are error cards, answered 200)",
            server_errors == 0,
            f"{server_errors} 5xx in {len(run.answers)} lookups",
        ),
        Check(
            "every answer is a card the sidebar knows (result, not-found or error card)",
            not strange,
            "all are" if not strange else f"others: {strange}",
        ),
        Check(
            "the outage was seen (error cards or stale answers while the sandbox was down)",
            degraded > 0 and run.events.get("refused") == 1.0,
            f"{degraded} of {len(outage)} lookups during the outage; the port "
            + ("refused connections" if run.events.get("refused") == 1.0 else "did NOT refuse"),
        ),
        Check(
            "no connection error to the app, no request left unanswered",
            connection == 0 and run.stuck == 0,
            f"{connection} connection errors, {run.stuck} unanswered",
        ),
    ]
    if run.restart_error or rec.get("returned") is None:
        checks.append(Check("recovery", False, f"the sandbox did not return: {run.restart_error}"))
    else:
        first, window, worst = rec["first_fresh"], rec["window"], rec["worst_later_window"]
        limit = RECOVERY_TARGET_SECONDS
        checks.append(
            Check(
                f"first fresh answer within {limit:.0f} s of the sandbox's return",
                first is not None and first <= limit,
                f"{first:.2f} s" if first is not None else "none",
            )
        )
        stays = worst is None or worst[0] >= WINDOW_SUCCESS
        checks.append(
            Check(
                f"≥ {WINDOW_SUCCESS:.0%} of the lookups sent in a 1-s window succeed within "
                f"{limit:.0f} s of the return, and in every later 1-s window",
                window is not None and window <= limit and stays,
                (f"from {window:.1f} s after the return" if window is not None else "never")
                + (
                    f"; worst later window {worst[0]:.1%} ({worst[2]} lookups at +{worst[1]:.0f} s)"
                    if worst
                    else ""
                ),
            )
        )
    exact = (
        hist["records"] == hist["requests"]
        and not hist["agents_off"]
        and connection == 0
        and run.stuck == 0
    )
    checks.append(
        Check(
            "history: exactly one record per lookup (in all and for each agent)",
            exact,
            f"{hist['records']} records for {hist['requests']} lookups"
            + (
                f"; agents off (actor, records, lookups): {hist['agents_off'][:5]}"
                if hist["agents_off"]
                else ""
            )
            + ("; a connection error makes it unknowable" if connection else ""),
        )
    )
    checks.append(
        Check(
            "history: the records' outcomes match the answers",
            hist["outcomes_recorded"] == hist["outcomes_answered"],
            _outcomes(hist["outcomes_recorded"])
            + (
                ""
                if hist["outcomes_recorded"] == hist["outcomes_answered"]
                else f" recorded, answered {_outcomes(hist['outcomes_answered'])}"
            ),
        )
    )
    growths = [w["growth"] for w in mem["workers"].values()]
    flat = bool(growths) and all(g < RSS_GROWTH_LIMIT for g in growths) and not mem["changed"]
    checks.append(
        Check(
            f"memory stays flat (each worker < {RSS_GROWTH_LIMIT:.0%} above its RSS after "
            f"warm-up, same workers throughout)",
            flat,
            ", ".join(f"{g:+.1%}" for g in growths)
            + ("; gunicorn's workers changed during the soak" if mem["changed"] else ""),
        )
    )
    return checks


def _outcomes(counts: dict) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items(), key=lambda x: -x[1]))


# --- printing ----------------------------------------------------------------------------------


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def print_profile(fig: dict) -> None:
    run: Soak = fig["soak"]
    rec, mem, hist = fig["recovery"], fig["memory"], fig["history"]
    answers = run.answers
    outcomes = Counter(a.outcome for a in answers)
    statuses = Counter(
        "connection error" if a.status is None else f"{a.status // 100}xx" for a in answers
    )
    ev = run.events
    say(
        f"  timeline: sandbox killed at {ev.get('stopped', float('nan')):.1f} s, restart issued at "
        f"{ev.get('start issued', float('nan')):.1f} s, listening again (its return) at "
        + (f"{ev['returned']:.2f} s" if "returned" in ev else f"— ({run.restart_error})")
    )
    say(
        f"  requests: {len(answers)} lookups in {run.seconds:.1f} s "
        f"({len(answers) / run.seconds:.0f}/s) by {fig['agents']} agents; plus {fig['agents']} "
        "launches before the clock; token renewals ride on the answers' headers (no requests)"
    )
    say(
        "  responses by status class: " + ", ".join(f"{k} {n}" for k, n in sorted(statuses.items()))
    )
    say("  answers by kind: " + _outcomes(outcomes))
    cards = {k: n for k, n in outcomes.items() if k in {c for _, c in CARD_KINDS}}
    say(
        f"  error cards by kind: {_outcomes(cards) or 'none'}; stale answers shown: "
        f"{outcomes.get('found, stale', 0)}; not-found cards: {outcomes.get('not found', 0)}"
    )
    stopped, returned = ev.get("stopped", 0), ev.get("returned", run.seconds)
    phases = (
        ("before the kill", 0, stopped),
        ("sandbox down", stopped, returned),
        ("after its return", returned, run.seconds + 1),
    )
    for name, start, end in phases:
        part = [a for a in answers if start <= a.ended < end]
        if part:
            ms = sorted((a.ended - a.started) * 1000 for a in part)
            say(
                f"    {name:<17} {len(part):>5} lookups, {_share(part):6.1%} succeed, latency "
                f"p50 {ms[len(ms) // 2]:.0f} ms, p95 {ms[int(len(ms) * 0.95)]:.0f} ms"
            )
    say("  every 5 s (by answer time; RSS of each worker at the end of the 5 s):")
    say(
        "    t (s)   lookups/s  succeed"
        + "".join(f"{label:>10}" for label in COLUMN_LABELS)
        + "     other   worker RSS (MiB)"
    )
    samples = run.sampler.samples
    seconds = fig["seconds"]
    for start in range(0, seconds, 5):
        part = [a for a in answers if start <= a.ended < start + 5]
        counts = Counter(a.outcome for a in part)
        other = len(part) - sum(counts[c] for c in COLUMNS)
        rss = next((w for t, w in reversed(samples) if t < start + 5), {})
        marks = ""
        if start <= stopped < start + 5:
            marks += " ← killed"
        if start <= returned < start + 5:
            marks += " ← back"
        say(
            f"    {start:>2}–{start + 5:<3}  {len(part) / 5:>9.0f}  {_share(part):7.1%}"
            + "".join(f"{counts[c]:>10}" for c in COLUMNS)
            + f"{other:>10}   {' / '.join(f'{v:.0f}' for v in rss.values()):<12}{marks}"
        )
    late = [a for a in answers if a.ended >= seconds]
    if late:
        say(
            f"    in flight when the clock stopped, answered after {seconds} s: {len(late)} "
            f"({_share(late):.0%} succeed)"
        )
    if rec.get("returned") is not None:
        say(
            f"  recovery from the return: first fresh answer received after "
            f"{_seconds(rec['first_fresh'])} (sent at {_seconds(rec['first_fresh_sent'])}); "
            f"≥ {WINDOW_SUCCESS:.0%} of the lookups sent in a 1-s window succeed from "
            f"{_seconds(rec['window'])}"
        )
        say(
            "    lookups sent in each second around the return (succeed, lookups): "
            + " · ".join(f"{s:+d} {share:.0%} ({n})" for s, share, n in rec["per_second"])
        )
        say(
            f"    (the breaker's cool-down is {fig['cooldown']:.0f} s: a probe that fails just "
            "before the return closes the door for that long, so the worst case is about the "
            "cool-down plus one GoKarla round trip)"
        )
    say(
        f"  history: {hist['records']} records created during the soak for {hist['requests']} "
        f"lookup requests; by outcome: {_outcomes(hist['outcomes_recorded'])}"
    )
    say("  memory, RSS of each gunicorn worker (sampled every second from /proc/<pid>/status):")
    for pid, w in mem["workers"].items():
        say(
            f"    pid {pid}: start {w['start']:.1f}, after warm-up ({WARMUP_SECONDS} s) "
            f"{w['warm']:.1f}, peak {w['peak']:.1f}, end {w['end']:.1f} MiB; growth after "
            f"warm-up {w['growth']:+.1%}; slope over the last 30 s {w['slope_last_30s']:+.2f} "
            "MiB/min"
        )
    per_worker = len(answers) / max(len(mem["workers"]), 1)
    warm = statistics.fmean(w["warm"] for w in mem["workers"].values()) if mem["workers"] else 0
    say(
        f"    threshold: {RSS_GROWTH_LIMIT:.0%} above the RSS after warm-up. A worker holds "
        f"~{warm:.0f} MiB; without any leak it still moves by a few MiB as the allocator's "
        "arenas, the per-thread SQLite or PostgreSQL connections and their page caches fill. "
        f"Each worker served ~{per_worker:.0f} lookups in this run, so a leak of "
        f"{RSS_GROWTH_LIMIT * warm * 1024 / max(per_worker, 1):.1f} KiB or more per lookup "
        "crosses it; the slope shows a smaller one (a leak keeps rising, warm-up levels off)."
    )
    if fig["log"]:
        say("  app log, lines at WARNING and above (numbers masked):")
        for line, count in fig["log"].most_common(8):
            say(f"    {count:>5}× {line}")
    else:
        say("  app log: nothing at WARNING or above")
    say("  criteria:")
    for check in fig["checks"]:
        say(f"    {'PASS' if check.passed else 'FAIL'}  {check.what}: {check.detail}")


def write_answers(path: Path, profile: str, answers: list[Answer]) -> None:
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", newline="") as handle:
        out = csv.writer(handle)
        if new:
            out.writerow(["profile", "agent", "kind", "answer", "status", "sent", "answered"])
        for a in answers:
            out.writerow(
                [
                    profile,
                    a.agent,
                    a.kind,
                    a.outcome,
                    a.status,
                    f"{a.started:.3f}",
                    f"{a.ended:.3f}",
                ]
            )
    say(f"  every lookup written to {path}")


# --- one profile -------------------------------------------------------------------------------


def run_profile(key: str, env: dict, work: Path, options) -> dict:
    port = sandbox_port()
    sandbox, sandbox_url = bench.start_sandbox(
        env, work, port=port, latency_ms=options.latency_ms, name=f"sandbox-{key}"
    )
    app = None
    try:
        env = {**env, "SANDBOX_URL": sandbox_url}
        say(
            f"  sandbox on {sandbox_url}, {options.latency_ms} ms latency; "
            "migrating a fresh database…"
        )
        bench.run_command([bench.PY, "manage.py", "migrate", "--noinput", "-v0"], env, "migrate")
        setup = bench.app_task(
            env, "setup", "--sandbox-url", sandbox_url, "--agents", str(options.agents)
        )
        tokens = setup["launch_tokens"][: options.agents]
        app, base = bench.start_app(f"gunicorn-{key}-soak", env, work)
        say(f"  app under gunicorn on {base}; launching {options.agents} agents…")
        before = bench.app_task(env, "count")
        offset = app.log_path.stat().st_size
        say(
            f"  soak: {options.seconds} s; sandbox killed at {options.stop_at} s, started again "
            f"at {options.start_at} s…"
        )
        run, sandbox = soak(base, tokens, app, sandbox, port, env, work, key, options)
        after = bench.app_task(env, "count")
        log = log_summary(app.log_path, offset)
    finally:
        if app is not None:
            app.stop()
        sandbox.stop()
    rec = recovery(run, options.seconds)
    mem = memory(run, options.seconds)
    hist = history(before, after, run)
    return {
        "agents": options.agents,
        "seconds": options.seconds,
        "soak": run,
        "recovery": rec,
        "memory": mem,
        "history": hist,
        "log": log,
        "cooldown": setup["breaker_cooldown_seconds"],
        "checks": evaluate(run, rec, mem, hist, options.seconds),
    }


def profile_env(key: str, env: dict, work: Path) -> tuple[str, dict, str]:
    """(title, environment, why it is skipped or "")."""
    if key == "sqlite":
        return "SQLite + local-memory cache", {**env, "SQLITE_PATH": str(work / "soak.sqlite3")}, ""
    if key == "postgres":
        env = {**env, "DATABASE_URL": PG_APP_URL, "REDIS_URL": REDIS_URL}
        return "PostgreSQL + Redis", env, bench.postgres_and_redis()
    raise bench.BenchError(f"unknown profile {key!r} (sqlite, postgres)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default="sqlite", help="comma-separated: sqlite, postgres")
    parser.add_argument("--agents", type=int, default=AGENTS)
    parser.add_argument("--seconds", type=int, default=SECONDS)
    parser.add_argument("--stop-at", type=int, default=SANDBOX_STOP_AT, help="kill the sandbox")
    parser.add_argument("--start-at", type=int, default=SANDBOX_START_AT, help="start it again")
    parser.add_argument("--latency-ms", type=int, default=SANDBOX_LATENCY_MS)
    parser.add_argument("--answers", type=Path, help="write every lookup to this CSV file")
    options = parser.parse_args()
    if not 0 < options.stop_at < options.start_at < options.seconds:
        parser.error("need 0 < --stop-at < --start-at < --seconds")
    if options.stop_at <= WARMUP_SECONDS + 2:
        parser.error(f"--stop-at must leave the {WARMUP_SECONDS} s memory warm-up undisturbed")

    # Ctrl-C stops the run and what it started, even when started with SIGINT ignored (`&`).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, bench._terminate)
    signal.signal(signal.SIGHUP, bench._terminate)
    started = time.monotonic()
    machine = report.machine_info()
    say(
        f"Karla Sidebar soak · {report.now_iso()} · {machine['cpu_model']} · {machine['nproc']} "
        f"cores · Python {machine['python']} · commit {machine['commit']}"
    )
    work = Path(tempfile.mkdtemp(prefix="karla-soak-"))
    verdicts: dict[str, str] = {}
    keep = False
    try:
        env = bench.base_env()
        say("collecting static files (whitenoise, compressed) into staticfiles/…")
        bench.run_command(
            [bench.PY, "manage.py", "collectstatic", "--noinput", "-v0"], env, "collectstatic"
        )
        for key in (k.strip() for k in options.profiles.split(",")):
            title, profile, skipped = profile_env(key, env, work)
            say(f"\n== {title}")
            if skipped:
                say(f"  SKIPPED: {skipped}")
                verdicts[title] = "SKIPPED"
                continue
            profile_started = time.monotonic()
            try:
                if key == "postgres":
                    bench.pg_create(PG_DATABASE)
                    bench.redis_flush(REDIS_URL)
                figures = run_profile(key, profile, work, options)
            except bench.BenchError as error:
                say(f"  FAIL: {error}")
                verdicts[title] = "FAIL (did not run)"
                keep = True
                continue
            finally:
                if key == "postgres":
                    bench.pg_drop(PG_DATABASE)
                    with contextlib.suppress(Exception):
                        bench.redis_flush(REDIS_URL)
            print_profile(figures)
            if options.answers:
                write_answers(options.answers, key, figures["soak"].answers)
            failed = [c for c in figures["checks"] if not c.passed]
            verdicts[title] = "FAIL" if failed else "PASS"
            keep = keep or bool(failed)
            say(f"  profile took {time.monotonic() - profile_started:.0f} s")
    except KeyboardInterrupt:
        say("\ninterrupted: stopping what the soak started")
        return 130
    except BaseException:
        keep = True
        raise
    finally:
        bench.stop_all()
        if keep:
            say(f"the servers' logs are kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    say("")
    for title, verdict in verdicts.items():
        say(f"{verdict}  {title}")
    say(f"soak finished in {time.monotonic() - started:.0f} s")
    return 1 if any(v.startswith("FAIL") for v in verdicts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

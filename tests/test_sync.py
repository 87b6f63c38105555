"""``sync_gokarla``: GoKarla's changed orders pulled into the shipment index, page by page,
one runner per account, resumable, against a sandbox of each test's own (some change its data).
"""

import re
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import GoKarlaAccount
from karla_sidebar import lookups
from karla_sidebar.gokarla import ShipmentNotFound
from karla_sidebar.models import ShipmentIndexEntry, ShipmentSync
from karla_sidebar.sync import (
    LEASE,
    PageSynced,
    SyncOutcome,
    shipment_sync_run,
    sync_runner_name,
)
from sandbox.server import SandboxServer, make_server
from sandbox.shipments import draft_ids
from tests.conftest import connect

SHIPMENT_1001 = "e0e3e61a-1d53-4c56-a79c-39b10b40942f"  # documented in sandbox.data
PLACED = "GET /api/v1/shops/demo-shop/orders params=order_placed_from,per_page"
UPDATED = "GET /api/v1/shops/demo-shop/orders params=per_page,shipment_updated_since"


@pytest.fixture
def server(settings) -> Iterator[SandboxServer]:
    """A sandbox of this test's own, which the app accepts as a GoKarla URL."""
    with make_server().start() as own:
        settings.SANDBOX_ENABLED = True
        settings.SANDBOX_URL = own.url
        yield own


@pytest.fixture
def shop(workspace, server) -> GoKarlaAccount:
    return connect(workspace, "demo-shop", "karla-demo-token", "Demo Shop", server.url)


@pytest.fixture
def outlet(workspace, shop, server) -> GoKarlaAccount:
    return connect(workspace, "demo-outlet", "karla-outlet-token", "Demo Outlet", server.url)


def sync(*args: str) -> str:
    """Run ``sync_gokarla``; its output (a CommandError propagates)."""
    out = StringIO()
    call_command("sync_gokarla", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def sync_failing(*args: str) -> tuple[CommandError, str]:
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("sync_gokarla", *args, stdout=out, stderr=StringIO())
    return caught.value, out.getvalue()


def indexed(account: GoKarlaAccount) -> dict[str, tuple]:
    """The account's index: shipment id → what it says of the shipment."""
    return {
        entry.shipment_id: (entry.order_uuid, entry.tracking_number, entry.phase, entry.updated_at)
        for entry in ShipmentIndexEntry.objects.filter(account=account)
    }


def shipments_placed_since(server: SandboxServer, slug: str, since: datetime) -> set[str]:
    """Every shipment id (tracked or draft) of the sandbox's orders placed since ``since``."""
    return {
        shipment_id
        for order in server.api.catalog.orders[slug]
        if datetime.fromisoformat(order["order_placed_at"]) >= since
        for shipment_id in [t["id"] for t in order["trackings"]] + draft_ids(order)
    }


def state(account: GoKarlaAccount) -> ShipmentSync:
    return ShipmentSync.objects.get(account=account)


def test_the_first_run_backfills_the_orders_placed_in_the_last_30_days(
    workspace, shop, outlet, server, gokarla_calls
):
    output = sync()
    sync_state = state(shop)
    since = sync_state.synced_until.replace(microsecond=0) - timedelta(days=30)
    expected = shipments_placed_since(server, "demo-shop", since)
    assert set(indexed(shop)) == expected and len(expected) > 200
    assert set(indexed(outlet)) == shipments_placed_since(server, "demo-outlet", since)
    assert set(ShipmentIndexEntry.objects.values_list("source", flat=True)) == {"sync"}
    # Pages of 100 until a short one, each with a progress line.
    shop_calls = [call for call in gokarla_calls() if "demo-shop" in call]
    assert shop_calls[0] == PLACED and len(shop_calls) == 3
    assert all(
        call.startswith(PLACED.replace(",per_page", ",page,per_page")) for call in shop_calls[1:]
    )
    assert f"Demo Shop (account {shop.pk}, workspace acme): page 1: 100 orders, " in output
    assert "page 3: " in output
    assert f"Demo Shop (account {shop.pk}, workspace acme): synced " in output
    assert "(orders placed since " in output
    assert output.rstrip().splitlines()[-1].startswith("Sync done: 2 synced, 0 skipped, 0 failed;")
    # The run is over: its watermark is its start, nothing left to resume, the lease is free.
    assert (sync_state.run_filter, sync_state.run_since, sync_state.next_page) == ("", None, 1)
    assert (sync_state.locked_by, sync_state.locked_until, sync_state.last_error) == ("", None, "")
    assert sync_state.last_shipments == len(expected)


def test_backfill_days_reach_further_back(workspace, shop, server):
    sync("--backfill-days", "61")
    assert set(indexed(shop)) == shipments_placed_since(
        server, "demo-shop", state(shop).synced_until - timedelta(days=61)
    )
    assert len(indexed(shop)) > 300


def test_a_second_run_with_nothing_changed_asks_once_per_account_and_writes_nothing(
    workspace, shop, outlet, gokarla_calls
):
    sync()
    before = {account.pk: indexed(account) for account in (shop, outlet)}
    watermark = state(shop).synced_until
    calls = len(gokarla_calls())
    output = sync()
    second = gokarla_calls()[calls:]
    assert second == [UPDATED, UPDATED.replace("demo-shop", "demo-outlet")]
    assert {account.pk: indexed(account) for account in (shop, outlet)} == before
    assert "0 orders, 0 shipments indexed in 1 page (orders with shipments changed since" in output
    assert state(shop).synced_until > watermark


def test_a_shipment_that_moves_is_picked_up_by_the_next_run(workspace, shop, server):
    sync()
    assert indexed(shop)[SHIPMENT_1001][2] == "in_transit"
    server.api.add_shipment_event("demo-shop", SHIPMENT_1001, "OUT_FOR_DELIVERY")
    output = sync()
    assert indexed(shop)[SHIPMENT_1001][2] == "in_delivery"
    assert "synced 1 order, 1 shipment indexed in 1 page" in output


def test_since_asks_for_the_changes_since_that_moment(workspace, shop, gokarla_calls):
    output = sync("--since", "2026-01-01")
    assert gokarla_calls()[0] == UPDATED
    assert "(orders with shipments changed since 2026-01-01 00:00:00 UTC)" in output
    assert indexed(shop)


def test_an_interrupted_run_resumes_at_the_page_it_reached(workspace, shop, server, settings):
    port = server.server_address[1]

    def stop_after_page_one(page: PageSynced) -> None:
        if page.page == 1:
            server.stop()

    report = shipment_sync_run(account=shop, runner="cron-1", on_page=stop_after_page_one)
    assert report.outcome == SyncOutcome.FAILED
    assert report.message == "GoKarla is not available right now. Try again in a moment."
    stopped = state(shop)
    assert (stopped.next_page, stopped.run_filter, stopped.locked_by) == (
        2,
        "order_placed_from",
        "",
    )
    assert stopped.last_error == report.message and stopped.synced_until is None
    assert len(indexed(shop)) == stopped.last_shipments > 0

    lines: list[str] = []
    with make_server(port=port, log=lines.append).start():
        output = sync()
    assert re.findall(r"[?&]page=(\d+)", " ".join(lines)) == ["2", "3"]
    assert ", resumed at page 2)" in output
    assert set(indexed(shop)) == shipments_placed_since(server, "demo-shop", stopped.run_since)
    done = state(shop)
    assert done.synced_until == stopped.run_started_at  # changes since then: asked next time
    assert (done.next_page, done.run_since, done.last_error) == (1, None, "")


def test_the_failed_run_says_where_it_stopped_and_exits_non_zero(workspace, shop, server):
    def stop(page: PageSynced) -> None:
        server.stop()

    shipment_sync_run(account=shop, runner="cron-1", on_page=stop)
    error, output = sync_failing()
    assert error.returncode == 1
    assert str(error) == (
        "Sync failed for 1 account. Demo Shop: GoKarla is not available right now. Try again "
        "in a moment."
    )
    assert (
        f"Demo Shop (account {shop.pk}, workspace acme): failed at page 2: GoKarla is not "
        "available right now. Try again in a moment. The next run resumes at page 2.\n"
    ) in output


class TestLease:
    def test_a_second_runner_skips_an_account_the_first_is_syncing(self, workspace, shop):
        seen = []

        def second_runner_meanwhile(page: PageSynced) -> None:
            if page.page == 1:
                held = state(shop)
                seen.append((held.locked_by, held.locked_until - timezone.now()))
                seen.append(sync())

        report = shipment_sync_run(
            account=shop, runner="host-a:1:first", on_page=second_runner_meanwhile
        )
        assert report.outcome == SyncOutcome.SYNCED and report.pages == 3
        (holder, remaining), output = seen
        assert holder == "host-a:1:first" and LEASE - timedelta(seconds=5) < remaining <= LEASE
        assert (
            f"Demo Shop (account {shop.pk}, workspace acme): skipped: another runner "
            "(host-a:1:first) is syncing this account; its lease runs until "
        ) in output
        assert "Sync done: 0 synced, 1 skipped, 0 failed; 0 orders, 0 shipments" in output
        assert state(shop).locked_by == ""

    def test_an_expired_lease_is_taken_over(self, workspace, shop):
        sync_state = ShipmentSync.objects.create(
            workspace=workspace,
            account=shop,
            locked_by="crashed-host:7:dead",
            locked_until=timezone.now() - timedelta(seconds=1),
        )
        assert "synced " in sync()
        sync_state.refresh_from_db()
        assert sync_state.synced_until is not None and sync_state.locked_by == ""

    def test_a_live_lease_of_a_runner_elsewhere_is_respected(self, workspace, shop):
        ShipmentSync.objects.create(
            workspace=workspace,
            account=shop,
            locked_by="other-host:7:busy",
            locked_until=timezone.now() + timedelta(seconds=60),
        )
        assert "skipped: another runner (other-host:7:busy)" in sync()
        assert indexed(shop) == {}

    def test_a_runner_that_lost_its_lease_stops(self, workspace, shop):
        def taken_over(page: PageSynced) -> None:
            ShipmentSync.objects.filter(account=shop).update(locked_by="host-b:2:late")

        report = shipment_sync_run(account=shop, runner=sync_runner_name(), on_page=taken_over)
        assert report.outcome == SyncOutcome.SKIPPED and report.pages == 1
        assert "another runner took the account over" in report.message
        assert state(shop).locked_by == "host-b:2:late"  # not released by the loser


class TestAccounts:
    def test_account_syncs_only_that_account(self, workspace, shop, outlet):
        output = sync("--account", str(outlet.pk))
        assert "Demo Outlet" in output and "Demo Shop" not in output
        assert indexed(outlet) and not indexed(shop)

    def test_an_unknown_account_is_a_clear_error(self, workspace, shop, other_workspace):
        error, _ = sync_failing("--account", "987654")
        assert error.returncode == 2
        assert str(error).startswith("No GoKarla account with id 987654.")
        assert f"Accounts: {shop.pk} Demo Shop (acme)." in str(error)  # what to pick from
        assert not ShipmentSync.objects.exists()

    def test_every_workspace_is_synced_each_in_its_own_index(
        self, workspace, other_workspace, shop, server
    ):
        globex = connect(other_workspace, "demo-shop", "karla-demo-token", "Globex", server.url)
        output = sync()
        assert "workspace acme" in output and "workspace globex" in output
        assert set(indexed(globex)) == set(indexed(shop))
        assert ShipmentIndexEntry.objects.filter(account=globex, workspace=workspace).count() == 0

    @pytest.mark.parametrize(
        ("since", "says"),
        [
            ("yesterday", "expected an ISO 8601 date or date-time"),
            ("2026-13-45", "expected an ISO 8601 date or date-time"),
            ("2999-01-01", "is in the future"),
        ],
    )
    def test_a_bad_since_is_refused_before_anything_happens(self, workspace, shop, since, says):
        error, _ = sync_failing("--since", since)
        assert says in str(error)
        assert not ShipmentSync.objects.exists()

    def test_no_accounts_nothing_to_do(self, db):
        assert sync() == "No GoKarla accounts to sync.\n"


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (
            {"api_token": "karla-revoked-token"},
            "GoKarla says this API token was revoked or has expired",
        ),
        ({"username": "no-api-access"}, "GoKarla refused access"),
    ],
)
def test_a_refused_key_fails_that_account_and_the_others_are_synced(
    workspace, shop, outlet, break_it, message
):
    for field, value in break_it.items():
        setattr(shop, field, value)
    shop.save()
    error, output = sync_failing()
    assert error.returncode == 1
    assert f"Demo Shop: {message}" in str(error)
    assert f"Demo Shop (account {shop.pk}, workspace acme): failed at page 1: {message}" in output
    assert "karla-revoked-token" not in str(error) + output
    assert indexed(outlet) and not indexed(shop)
    assert "Sync done: 1 synced, 0 skipped, 1 failed;" in output
    shop.refresh_from_db()
    assert shop.status == "failing" and state(shop).last_error.startswith(message)


class _NoSuchRoute(BaseHTTPRequestHandler):
    """Some other FastAPI service: every path is a route it does not have."""

    def do_GET(self) -> None:
        body = b'{"detail":"Not Found"}'
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        pass


def test_an_address_that_is_not_gokarla_fails_with_gokarla_s_reason(workspace, shop, server):
    port = server.server_address[1]
    server.stop()
    other = ThreadingHTTPServer(("127.0.0.1", port), _NoSuchRoute)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        error, output = sync_failing()
    finally:
        other.shutdown()
        other.server_close()
    assert error.returncode == 1
    assert str(error) == (
        "Sync failed for 1 account. Demo Shop: This address does not serve GoKarla's API (it "
        "has no such endpoint). Check the account's GoKarla URL."
    )
    assert "failed at page 1: This address does not serve GoKarla's API" in output
    assert state(shop).last_error.startswith("This address does not serve GoKarla's API")


class TestNotFoundSaysWhenTheIndexWasSynced:
    ADA = lookups.Actor(source="sidebar", actor_id="a-1", actor_name="Ada Agent")

    def message(self, workspace) -> str:
        with pytest.raises(ShipmentNotFound) as caught:
            lookups.shipment_lookup(workspace=workspace, reference="NOPE-123", actor=self.ADA)
        return caught.value.message

    def test_never_synced(self, workspace, shop):
        assert "knows of in Demo Shop (never synced). " in self.message(workspace)

    def test_last_synced_five_minutes_ago(self, workspace, shop):
        sync()
        size = ShipmentIndexEntry.objects.filter(account=shop).count()
        ShipmentSync.objects.filter(account=shop).update(
            last_finished_at=timezone.now() - timedelta(minutes=5, seconds=10)
        )
        assert (
            f"among the {size} shipments Karla Sidebar knows of in Demo Shop "
            "(last synced 5 minutes ago). "
        ) in self.message(workspace)

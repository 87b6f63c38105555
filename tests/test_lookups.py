"""The lookups service: account choice, cache, and exactly one history record per lookup."""

import pytest

from karla_sidebar import lookups
from karla_sidebar.errors import NoAccountConnected
from karla_sidebar.gokarla import (
    GoKarlaClient,
    InvalidInput,
    OrderNotFound,
    ShipmentNotFound,
    TokenRevoked,
)
from karla_sidebar.lookup_records import record_new, record_save
from karla_sidebar.models import LookupRecord

ADA = lookups.Actor(source="sidebar", actor_id="a-1", actor_name="Ada Agent", conversation="c-9")


def test_found_order_leaves_one_record_without_customer_data(workspace, shop_account):
    result = lookups.order_lookup(workspace=workspace, reference=" 1001 ", actor=ADA)
    assert result.first.record.order_number == "1001"
    record = LookupRecord.objects.get()
    assert (record.outcome, record.reference, record.account_label) == (
        "found",
        "1001",
        "Demo Shop",
    )
    assert (record.actor_id, record.actor_name, record.conversation) == ("a-1", "Ada Agent", "c-9")
    assert record.summary == "#1001 · Fulfilled"
    assert "Jane" not in record.summary and "@" not in record.summary
    assert record.cached is False


def test_repeat_is_served_from_cache_and_refresh_bypasses_it(workspace, shop_account):
    lookups.order_lookup(workspace=workspace, reference="1001", actor=ADA)
    again = lookups.order_lookup(workspace=workspace, reference="1001", actor=ADA)
    assert again.first.cached
    fresh = lookups.order_lookup(workspace=workspace, reference="1001", actor=ADA, use_cache=False)
    assert not fresh.first.cached
    assert [r.cached for r in LookupRecord.objects.order_by("id")] == [False, True, False]


def test_a_tracking_number_typed_in_groups_is_the_same_cached_question(workspace, shop_account):
    lookups.order_lookup(workspace=workspace, reference="1006", actor=ADA)  # indexes its parcel
    first = lookups.shipment_lookup(workspace=workspace, reference="1Z999AA10123456784", actor=ADA)
    again = lookups.shipment_lookup(
        workspace=workspace, reference=" 1Z999 AA1 0123456784 ", actor=ADA
    )
    assert again.first.cached and again.first.record == first.first.record


def test_cache_is_scoped_to_the_workspace(workspace, other_workspace, shop_account, globex_account):
    lookups.order_lookup(workspace=workspace, reference="1001", actor=ADA)
    other = lookups.order_lookup(workspace=other_workspace, reference="1001", actor=ADA)
    assert not other.first.cached
    assert other.first.account_label == "Globex Shop"


def test_not_found_is_recorded(workspace, shop_account):
    with pytest.raises(OrderNotFound):
        lookups.order_lookup(workspace=workspace, reference="9999", actor=ADA)
    record = LookupRecord.objects.get()
    assert record.outcome == "not_found" and record.account_label == "Demo Shop"


def test_all_accounts_searches_each_and_says_so(workspace, outlet_account):
    result = lookups.order_lookup(workspace=workspace, reference="2001", account="all", actor=ADA)
    assert result.first.account_label == "Demo Outlet"
    with pytest.raises(OrderNotFound, match="any connected GoKarla account"):
        lookups.order_lookup(workspace=workspace, reference="9999", account="all", actor=ADA)
    assert LookupRecord.objects.count() == 2


def test_shipment_by_tracking_number_and_not_found(workspace, shop_account):
    lookups.order_lookup(workspace=workspace, reference="1006", actor=ADA)
    result = lookups.shipment_lookup(workspace=workspace, reference="1Z999AA10123456784", actor=ADA)
    assert result.first.record.carrier_name == "UPS"
    assert result.first.resolved_by == "index"
    with pytest.raises(ShipmentNotFound):
        lookups.shipment_lookup(workspace=workspace, reference="NOPE123", actor=ADA)
    outcomes = list(LookupRecord.objects.order_by("id").values_list("action", "outcome"))
    assert outcomes == [("order", "found"), ("shipment", "found"), ("shipment", "not_found")]


def test_customer_orders_newest_first(workspace, shop_account):
    result = lookups.customer_orders_lookup(
        workspace=workspace, email="jane@example.com", actor=ADA
    )
    numbers = [hit.record.order_number for hit in result.hits]
    assert sorted(numbers) == ["1001", "1005"]
    dates = [hit.record.placed_at for hit in result.hits]
    assert dates == sorted(dates, reverse=True)


def test_no_account_is_a_clear_error_and_recorded(workspace):
    with pytest.raises(NoAccountConnected, match="No GoKarla account is connected"):
        lookups.order_lookup(workspace=workspace, reference="1001", actor=ADA)
    assert LookupRecord.objects.get().outcome == "no_account"


def test_invalid_input_is_recorded_too(workspace, shop_account):
    with pytest.raises(InvalidInput, match="Enter an order number"):
        lookups.order_lookup(workspace=workspace, reference="   ", actor=ADA)
    assert LookupRecord.objects.get().outcome == "invalid_input"


def test_rejected_credentials_mark_the_account(workspace, shop_account):
    type(shop_account).objects.filter(pk=shop_account.pk).update(api_token="karla-revoked-token")
    with pytest.raises(TokenRevoked, match="revoked"):
        lookups.order_lookup(workspace=workspace, reference="1001", actor=ADA)
    shop_account.refresh_from_db()
    assert shop_account.status == "failing" and "revoked" in shop_account.last_error


def test_stale_result_is_shown_when_gokarla_fails(workspace, shop_account, settings, monkeypatch):
    from karla_sidebar.gokarla import GoKarlaClient, TimedOut

    settings.LOOKUP_CACHE_SECONDS = 0  # every lookup goes to GoKarla
    first = lookups.order_lookup(workspace=workspace, reference="1001", actor=ADA)

    def timing_out(self, reference):
        raise TimedOut()

    monkeypatch.setattr(GoKarlaClient, "order_find", timing_out)
    again = lookups.order_lookup(workspace=workspace, reference="1001", actor=ADA)
    assert again.first.stale and again.first.fetched_at == first.first.fetched_at
    assert again.first.record.order_number == "1001"

    settings.LOOKUP_STALE_SECONDS = 0  # too old now: the error it is
    with pytest.raises(TimedOut):
        lookups.order_lookup(workspace=workspace, reference="1001", actor=ADA)
    history = LookupRecord.objects.order_by("id").values_list("outcome", "cached", "stale")
    assert list(history) == [
        ("found", False, False),
        ("found", True, True),
        ("timeout", False, False),
    ]


def test_not_found_never_falls_back_to_stale(workspace, shop_account, settings, monkeypatch):
    from karla_sidebar.gokarla import GoKarlaClient

    settings.LOOKUP_CACHE_SECONDS = 0
    lookups.order_lookup(workspace=workspace, reference="1001", actor=ADA)

    def gone(self, reference):
        raise OrderNotFound()

    monkeypatch.setattr(GoKarlaClient, "order_find", gone)
    with pytest.raises(OrderNotFound):
        lookups.order_lookup(workspace=workspace, reference="1001", actor=ADA)


def test_control_characters_are_stored_visibly_never_lost(workspace, shop_account):
    with pytest.raises(InvalidInput):
        lookups.order_lookup(workspace=workspace, reference="10\x0001", actor=ADA)
    record = LookupRecord.objects.get()
    assert record.reference == "10\ufffd01" and record.outcome == "invalid_input"


def test_without_an_account_the_default_is_asked_else_the_first_by_label(
    workspace, shop_account, outlet_account
):
    """The default account wins over the alphabet ("Demo Outlet" sorts before "Demo Shop");
    with no default, the first in the Accounts tab's order is asked."""
    from accounts.models import GoKarlaAccount
    from accounts.services import account_make_default

    def asked(reference: str) -> str:
        lookups.order_lookup(workspace=workspace, reference=reference, actor=ADA)
        return LookupRecord.objects.latest("id").account_label

    assert shop_account.is_default and not outlet_account.is_default
    assert asked("1001") == "Demo Shop"
    account_make_default(account=outlet_account)
    assert asked("2001") == "Demo Outlet"
    GoKarlaAccount.objects.filter(workspace=workspace).update(is_default=False)
    assert asked("2001") == "Demo Outlet"
    GoKarlaAccount.objects.filter(pk=outlet_account.pk).update(label="Zed Outlet")
    assert asked("1001") == "Demo Shop"


def test_an_account_removed_during_the_lookup_keeps_the_record(
    transactional_db, workspace, shop_account, monkeypatch
):
    """An admin may remove the account while GoKarla is still answering (up to the deadline):
    the agent still gets the answer, and the history row keeps the account's label. (In
    autocommit, as in production, where the row's foreign key is checked as it is written.)"""
    from accounts.services import account_remove

    answer = GoKarlaClient.order_find

    def answer_then_remove(client, reference):
        orders = answer(client, reference)
        account_remove(account=type(shop_account).objects.get(pk=shop_account.pk))
        return orders

    monkeypatch.setattr(GoKarlaClient, "order_find", answer_then_remove)
    result = lookups.order_lookup(workspace=workspace, reference="1001", actor=ADA)
    assert result.first.record.order_number == "1001"
    record = LookupRecord.objects.get()
    assert (record.outcome, record.account_id, record.account_label) == ("found", None, "Demo Shop")


def test_an_account_removed_while_gokarla_refuses_it_answers_with_the_refusal(
    transactional_db, workspace, shop_account, monkeypatch
):
    """GoKarla refuses the token (the account would be marked failing) after the admin removed
    the account: the agent sees the refusal, no 500, and the row is kept."""
    from accounts.services import account_remove

    def refuse_after_removal(client, reference):
        client.calls += 1  # GoKarla answered (with a refusal)
        account_remove(account=type(shop_account).objects.get(pk=shop_account.pk))
        raise TokenRevoked(status_code=401)

    monkeypatch.setattr(GoKarlaClient, "order_find", refuse_after_removal)
    with pytest.raises(TokenRevoked):
        lookups.order_lookup(workspace=workspace, reference="1001", actor=ADA)
    record = LookupRecord.objects.get()
    assert (record.outcome, record.account_id, record.account_label) == (
        "credentials_rejected",
        None,
        "Demo Shop",
    )


def test_the_history_row_holds_what_save_would_have_written(workspace, shop_account):
    """The lookup writes its row with an INSERT of its own: every column reads back as the
    same record written with the ORM's save() would, and it is stamped with the time."""
    from django.forms.models import model_to_dict
    from django.utils import timezone

    def record(**extra):
        row = record_new(workspace=workspace, action="order", reference="ref\x00 1", actor=ADA)
        row.outcome, row.upstream_status, row.summary = "found", 200, "#1 · Fulfilled"
        row.latency_ms, row.cached, row.account, row.account_label = 57, True, shop_account, "Shop"
        return row

    before = timezone.now()
    record_save(record())
    record().save()
    after = timezone.now()
    ours, orms = LookupRecord.objects.order_by("pk")
    assert model_to_dict(ours, exclude=["id"]) == model_to_dict(orms, exclude=["id"])
    assert before <= ours.created_at <= orms.created_at <= after
    assert ours.reference == "ref\ufffd 1"  # NUL, which PostgreSQL refuses, made visible


def test_a_nul_in_gokarlas_answer_does_not_lose_the_record(workspace, shop_account, monkeypatch):
    """GoKarla's text ends up in the row's summary: a NUL in it (PostgreSQL refuses NUL in
    text) must neither fail the lookup nor lose its history row."""
    from dataclasses import replace

    answer = GoKarlaClient.order_find

    def odd_order_number(client, reference):
        return [replace(order, order_number="10\x0001") for order in answer(client, reference)]

    monkeypatch.setattr(GoKarlaClient, "order_find", odd_order_number)
    result = lookups.order_lookup(workspace=workspace, reference="1001", actor=ADA)
    assert result.first.record.order_number == "10\x0001"
    assert LookupRecord.objects.get().summary.startswith("#10\ufffd01 · ")


def test_two_accounts_of_one_shop_list_the_customer_s_orders_once(
    workspace, shop_account, sandbox_settings
):
    """A second API key of demo-shop (the viewer key) connected beside the first."""
    from accounts.services import account_connect

    account_connect(
        workspace=workspace,
        url=sandbox_settings.url,
        username="demo-shop-viewer",
        token="karla-viewer-token",
        shop_slug="demo-shop",
        label="Demo Shop (viewer)",
    )
    result = lookups.customer_orders_lookup(
        workspace=workspace, email="jane@example.com", actor=ADA
    )
    numbers = [hit.record.order_number for hit in result.hits]
    assert sorted(numbers) == ["1001", "1005"]

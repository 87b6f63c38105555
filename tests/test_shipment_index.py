"""The shipment index: GoKarla cannot look a shipment up, so Get Shipment finds its order
through what the app has seen, asks GoKarla for that order, and says honestly when it cannot."""

import pytest

from karla_sidebar import lookups
from karla_sidebar.gokarla import NoTrackingYet, ShipmentNotFound
from karla_sidebar.models import ShipmentIndexEntry

ADA = lookups.Actor(source="sidebar", actor_id="a-1", actor_name="Ada Agent")
JANE = lookups.Actor(
    source="sidebar", actor_id="a-1", actor_name="Ada Agent", customer_email="jane@example.com"
)
DHL_1001 = "00340434161094042557"
DRAFT_1002 = "5c76cf4e-f62f-47c2-bcd4-722953d5582a"


def get_order(workspace, reference, actor=ADA):
    return lookups.order_lookup(workspace=workspace, reference=reference, actor=actor)


def get_shipment(workspace, reference, actor=ADA, **options):
    return lookups.shipment_lookup(workspace=workspace, reference=reference, actor=actor, **options)


def test_get_order_indexes_its_shipments(workspace, shop_account):
    order = get_order(workspace, "1001").first.record
    entry = ShipmentIndexEntry.objects.get(workspace=workspace, tracking_number=DHL_1001)
    assert (entry.account_id, entry.order_uuid, entry.order_number) == (
        shop_account.pk,
        order.uuid,
        "1001",
    )
    assert (entry.shipment_id, entry.carrier_reference, entry.phase, entry.source) == (
        order.shipments[0].id,
        "dhl",
        "in_transit",
        "lookup",
    )
    assert entry.tracking_key == DHL_1001 and entry.last_event_at is not None


@pytest.mark.parametrize(
    "typed",
    [DHL_1001, "0034 0434 1610 9404 2557", "00340434-161094-042557", " 00340434161094042557 "],
)
def test_an_indexed_tracking_number_costs_one_order_search_by_uuid(
    workspace, shop_account, gokarla_calls, typed
):
    order = get_order(workspace, "1001").first.record
    before = len(gokarla_calls())
    result = get_shipment(workspace, typed)
    assert result.first.record.tracking_number == DHL_1001
    assert result.first.record.order_uuid == order.uuid
    assert result.first.resolved_by == "index"
    assert gokarla_calls()[before:] == ["GET /api/v1/shops/demo-shop/orders params=uuid"]


def test_a_shipment_id_in_any_case_is_found_too(workspace, shop_account):
    shipment_id = get_order(workspace, "1001").first.record.shipments[0].id
    assert get_shipment(workspace, shipment_id.upper()).first.record.tracking_number == DHL_1001


def test_an_unknown_tracking_number_without_a_customer_asks_gokarla_nothing(
    workspace, shop_account, gokarla_calls
):
    with pytest.raises(ShipmentNotFound) as caught:
        get_shipment(workspace, DHL_1001)
    assert gokarla_calls() == []
    assert caught.value.message == (
        "No shipment with that tracking number or ID among the 0 shipments Karla Sidebar knows "
        "of in Demo Shop (never synced). GoKarla cannot look up tracking numbers directly: Get "
        "Order with the order number shows its shipments."
    )


def test_the_conversation_customer_s_orders_are_searched_and_indexed(
    workspace, shop_account, gokarla_calls
):
    result = get_shipment(workspace, DHL_1001, actor=JANE)
    assert result.first.resolved_by == "customer"
    assert gokarla_calls() == ["GET /api/v1/shops/demo-shop/orders params=email_id,per_page"]
    # Jane's other order (1005, Hermes) is now known too.
    assert ShipmentIndexEntry.objects.filter(workspace=workspace, order_number="1005").exists()


def test_a_miss_in_the_customer_s_orders_says_what_was_searched(workspace, shop_account):
    with pytest.raises(ShipmentNotFound, match=r"or in the orders of jane@example\.com"):
        get_shipment(workspace, "1Z999AA10123456784", actor=JANE)
    assert ShipmentIndexEntry.objects.filter(order_number="1001").exists()  # learnt anyway


def test_the_index_never_answers_across_workspaces(
    workspace, other_workspace, shop_account, globex_account
):
    get_order(other_workspace, "1001")  # Globex's account knows DHL_1001 now
    with pytest.raises(ShipmentNotFound):
        get_shipment(workspace, DHL_1001)
    assert get_shipment(other_workspace, DHL_1001).first.account_label == "Globex Shop"


def test_an_entry_gokarla_contradicts_is_forgotten(workspace, shop_account):
    get_order(workspace, "1001")
    other_order = get_order(workspace, "1002").first.record
    ShipmentIndexEntry.objects.filter(tracking_number=DHL_1001).update(order_uuid=other_order.uuid)
    with pytest.raises(ShipmentNotFound):
        get_shipment(workspace, DHL_1001)
    assert not ShipmentIndexEntry.objects.filter(tracking_number=DHL_1001).exists()


def test_a_draft_shipment_has_no_tracking_yet(workspace, shop_account):
    get_order(workspace, "1002")
    assert ShipmentIndexEntry.objects.get(shipment_id=DRAFT_1002).tracking_number == ""
    with pytest.raises(NoTrackingYet):
        get_shipment(workspace, DRAFT_1002)


def test_an_unchanged_answer_is_not_written_again(workspace, shop_account):
    get_order(workspace, "1001")
    first = ShipmentIndexEntry.objects.get(tracking_number=DHL_1001).indexed_at
    lookups.order_lookup(workspace=workspace, reference="1001", actor=ADA, use_cache=False)
    assert ShipmentIndexEntry.objects.get(tracking_number=DHL_1001).indexed_at == first


def test_customer_orders_feed_the_index(workspace, shop_account):
    lookups.customer_orders_lookup(workspace=workspace, email="jane@example.com", actor=ADA)
    numbers = set(ShipmentIndexEntry.objects.values_list("order_number", flat=True))
    assert {"1001", "1005"} <= numbers


def test_all_accounts_find_the_shipment_in_the_account_that_has_it(workspace, outlet_account):
    lookups.order_lookup(workspace=workspace, reference="2001", account="all", actor=ADA)
    result = get_shipment(workspace, "RR123456785DE", account="all")
    assert (result.first.account_label, result.first.record.carrier_name) == (
        "Demo Outlet",
        "Deutsche Post",
    )

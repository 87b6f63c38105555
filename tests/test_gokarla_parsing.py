"""GoKarla JSON becomes typed records: leniently, and with one error for nonsense."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from karla_sidebar.gokarla import (
    Address,
    Eta,
    OrderStatus,
    ShipmentNotFound,
    ShipmentStatus,
    UnexpectedResponse,
)
from karla_sidebar.gokarla.parsing import (
    carrier_name,
    parse_order,
    parse_orders,
    parse_shipment,
    parse_shop,
)


def event(key, time, phase="", **extra):
    return {"event_key": key, "time": time, "phase": phase, **extra}


def tracking(**overrides):
    body = {
        "id": "8f0c1f4e-3b7a-4c1e-9a55-2f1d8c6b7a10",
        "order_number": "1001",
        "carrier": {
            "tracking_number": "00340434161094042557",
            "carrier_reference": "dhl",
            "tracking_url": "https://www.dhl.de/track?piececode=00340434161094042557",
        },
        "state": "transit",
        "flag": "normal",
        "estimated_arrival": {"time_prediction": "2024-02-02T12:00:00+00:00", "language": "en"},
        "events": [
            event("ORDER_CREATED", "2024-01-29T10:00:00+00:00", "order_created"),
            event(
                "DEPARTURE_FROM_TRANSPORT_HUB",
                "2024-01-31T08:30:00+01:00",
                "in_transit",
                event_strings={"list_label": "Left the hub", "event_status": "In transit"},
                location="Leipzig, DE",
            ),
            event("ORDER_IN_PROCESSING", "2024-01-30T09:00:00+00:00", "order_processed"),
        ],
        "updated_at": "2024-01-31T08:30:00+01:00",
        "products": [{"title": "Blue Hoodie", "quantity": 1, "price": "49.90"}],
    }
    body.update(overrides)
    return body


def order(**overrides):
    body = {
        "uuid": "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d",
        "order_number": "1001",
        "order_name": "#1001",
        "external_id": "shopify-555",
        "order_placed_at": "2024-01-29T09:58:00+00:00",
        "total_order_price": 104.8,
        "sub_total_price": "99.80",
        "shipping_price": 5,
        "discount_price": "0.00",
        "currency": "eur",
        "email_id": "jane@example.com",
        "address": {"name": "Jane Doe", "city": "Berlin", "zip_code": "10115", "country": "DE"},
        "products": [
            {
                "title": "Blue Hoodie",
                "quantity": 1,
                "price": "49.90",
                "sku": "HD-BLU-M",
                "size": "M",
                "images": [{"src": "https://cdn.example.com/hoodie.jpg", "alt": ""}],
                "shipment_id": "8f0c1f4e-3b7a-4c1e-9a55-2f1d8c6b7a10",
            },
            {"title": "Socks", "quantity": "2", "price": 24.95},
        ],
        "discounts": [{"code": "WELCOME", "amount": "5.00", "type": "fixed_amount"}],
        "trackings": [tracking()],
    }
    body.update(overrides)
    return body


class TestEnvelopeAndLeniency:
    def test_bare_body_and_data_envelope_give_the_same_order(self):
        assert parse_order({"data": order(), "metadata": {}}) == parse_order(order())

    def test_order_list_in_an_envelope(self):
        orders = parse_orders({"data": [order(), order(order_number="1002", trackings=[])]})
        assert [o.order_number for o in orders] == ["1001", "1002"]

    def test_empty_order_list_is_empty(self):
        assert parse_orders([]) == []
        assert parse_orders({"data": []}) == []

    def test_key_fields_of_an_order(self):
        result = parse_order(order())
        assert result.uuid == "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
        assert (result.order_number, result.order_name) == ("1001", "#1001")
        assert result.placed_at == datetime(2024, 1, 29, 9, 58, tzinfo=UTC)
        assert result.currency == "EUR"
        assert result.total == Decimal("104.8")
        assert result.subtotal == Decimal("99.80")
        assert result.shipping == Decimal("5")
        assert result.email == "jane@example.com"
        assert result.customer_name == "Jane Doe"
        assert result.address == Address(
            name="Jane Doe", city="Berlin", zip_code="10115", country="DE"
        )
        assert result.discounts[0].amount == Decimal("5.00")

    def test_line_items(self):
        hoodie, socks = parse_order(order()).line_items
        assert hoodie.title == "Blue Hoodie"
        assert hoodie.price == Decimal("49.90")
        assert (hoodie.sku, hoodie.size) == ("HD-BLU-M", "M")
        assert hoodie.image_url == "https://cdn.example.com/hoodie.jpg"
        assert hoodie.shipment_id == "8f0c1f4e-3b7a-4c1e-9a55-2f1d8c6b7a10"
        assert (socks.quantity, socks.price, socks.image_url) == (2, Decimal("24.95"), "")

    def test_unknown_fields_are_ignored(self):
        body = order(segments=["vip"], brand_new_field={"x": 1})
        body["trackings"][0]["pickup"] = {"type": "locker"}
        body["products"][0]["bundled_products"] = [{"title": "?"}]
        assert parse_order(body) == parse_order(order())

    def test_missing_optional_fields_are_fine(self):
        result = parse_order({"order_number": 1002})
        assert result.order_number == "1002"
        assert result.status is OrderStatus.PLACED
        assert (result.address, result.total, result.line_items) == (None, None, ())
        assert result.expected_shipments == 0

    def test_nulls_and_wrong_types_become_unknown(self):
        result = parse_order(
            {
                "uuid": None,
                "order_number": "1001",
                "order_name": None,
                "total_order_price": "not a number",
                "shipping_price": True,
                "discount_price": "NaN",
                "currency": None,
                "email_id": None,
                "address": "Berlin",
                "order_placed_at": "yesterday",
                "products": [None, {"title": None, "quantity": "lots", "price": None}],
                "discounts": None,
                "trackings": [
                    {
                        "id": "s1",
                        "carrier": None,
                        "events": [None, {"time": None, "event_key": None}],
                        "estimated_arrival": None,
                        "state": None,
                        "flag": 3,
                    }
                ],
            }
        )
        assert (result.total, result.shipping, result.discount_total) == (None, None, None)
        assert (result.currency, result.email, result.address, result.placed_at) == (
            "",
            "",
            None,
            None,
        )
        assert result.line_items[0].quantity == 1
        assert result.line_items[0].price is None
        shipment = result.shipments[0]
        assert (shipment.tracking_number, shipment.carrier_name, shipment.eta) == ("", "", None)
        assert shipment.status is ShipmentStatus.UNKNOWN
        assert shipment.events[0].time is None

    def test_numbers_as_strings_become_decimals(self):
        result = parse_order(order(total_order_price=" 104.80 "))
        assert result.total == Decimal("104.80")

    def test_payment_status_is_reported_only_when_present(self):
        assert parse_order(order()).payment_status_reported is False
        assert "Paid" in parse_order(order()).payment_label
        reported = parse_order(order(financial_status="partially_refunded"))
        assert reported.payment_status == "partially_refunded"
        assert reported.payment_status_reported is True
        assert parse_order(order(payment_status="paid")).payment_status == "paid"

    def test_shop(self):
        assert (
            parse_shop({"slug": "demo-shop", "name": "Demo Shop", "extra": 1}).name == "Demo Shop"
        )
        assert parse_shop({"data": {"slug": "demo-shop", "name": None}}).name == "demo-shop"


class TestShipments:
    def test_key_fields(self):
        result = parse_shipment(tracking())
        assert result.id == "8f0c1f4e-3b7a-4c1e-9a55-2f1d8c6b7a10"
        assert result.tracking_number == "00340434161094042557"
        assert (result.carrier_reference, result.carrier_name) == ("dhl", "DHL")
        assert result.tracking_url.startswith("https://www.dhl.de/")
        assert result.order_number == "1001"
        assert result.line_items[0].title == "Blue Hoodie"

    def test_events_are_stored_newest_first_whatever_the_input_order(self):
        result = parse_shipment(tracking())
        assert [e.event_key for e in result.events] == [
            "DEPARTURE_FROM_TRANSPORT_HUB",
            "ORDER_IN_PROCESSING",
            "ORDER_CREATED",
        ]
        assert result.last_event.location == "Leipzig, DE"

    def test_event_sort_is_stable_and_undated_events_come_last(self):
        same = "2024-01-30T09:00:00+00:00"
        result = parse_shipment(
            tracking(events=[event("A", same), event("UNDATED", None), event("B", same)])
        )
        assert [e.event_key for e in result.events] == ["A", "B", "UNDATED"]

    def test_event_labels(self):
        labels = [
            e.label
            for e in parse_shipment(
                tracking(
                    events=[
                        event("X", "2024-01-03", event_strings={"list_label": "Listed"}),
                        event("Y", "2024-01-02", event_strings={"event_status": "Status"}),
                        event("OUT_FOR_DELIVERY", "2024-01-01", event_strings=None),
                    ]
                )
            ).events
        ]
        assert labels == ["Listed", "Status", "Out for delivery"]

    def test_location_object_is_joined(self):
        result = parse_shipment(
            tracking(
                events=[event("X", "2024-01-01", location={"city": "Berlin", "country": "DE"})]
            )
        )
        assert result.events[0].location == "Berlin, DE"

    def test_phase_from_the_top_level(self):
        result = parse_shipment(tracking(phase="in_delivery"))
        assert result.phase == "in_delivery"
        assert result.status is ShipmentStatus.OUT_FOR_DELIVERY

    def test_phase_from_the_newest_event(self):
        result = parse_shipment(tracking())
        assert result.phase == "in_transit"
        assert result.status is ShipmentStatus.IN_TRANSIT

    def test_eta_from_time_prediction(self):
        assert parse_shipment(tracking()).eta == Eta(start=date(2024, 2, 2))

    def test_eta_from_a_from_to_window(self):
        body = tracking(estimated_arrival={"from": "2024-02-02", "to": "2024-02-04T18:00:00Z"})
        eta = parse_shipment(body).eta
        assert eta == Eta(start=date(2024, 2, 2), end=date(2024, 2, 4))
        assert eta.is_window

    @pytest.mark.parametrize(
        "shape",
        [
            {
                "estimated_arrival": {
                    "time_prediction_from": "2024-02-02",
                    "time_prediction_to": "2024-02-04",
                }
            },
            {"estimated_arrival": {"start": "2024-02-02", "end": "2024-02-04"}},
            {
                "estimated_arrival": None,
                "estimated_arrival_from": "2024-02-02",
                "estimated_arrival_to": "2024-02-04",
            },
        ],
    )
    def test_eta_window_in_every_known_shape(self, shape):
        assert parse_shipment(tracking(**shape)).eta == Eta(date(2024, 2, 2), date(2024, 2, 4))

    @pytest.mark.parametrize(
        "shape",
        [
            {"estimated_arrival": None, "eta": "2024-02-02"},
            {"estimated_arrival": None, "estimated_delivery_date": "2024-02-02T10:00:00+01:00"},
            {"estimated_arrival": {"from": "2024-02-02T08:00:00Z", "to": "2024-02-02T18:00:00Z"}},
        ],
    )
    def test_eta_single_date_in_every_known_shape(self, shape):
        eta = parse_shipment(tracking(**shape)).eta
        assert eta == Eta(start=date(2024, 2, 2))
        assert not eta.is_window

    def test_unparseable_eta_is_none(self):
        assert parse_shipment(tracking(estimated_arrival={"time_prediction": "soon"})).eta is None

    @pytest.mark.parametrize(
        ("fields", "expected"),
        [
            ({"phase": "delivered", "flag": "delay"}, ShipmentStatus.DELIVERED),
            ({"phase": "delivery_failed"}, ShipmentStatus.DELIVERY_FAILED),
            ({"phase": "return_failed"}, ShipmentStatus.DELIVERY_FAILED),
            ({"phase": "return_created"}, ShipmentStatus.RETURN_IN_TRANSIT),
            ({"phase": "return_transit"}, ShipmentStatus.RETURN_IN_TRANSIT),
            ({"phase": "return_received"}, ShipmentStatus.RETURNED),
            ({"phase": "returned"}, ShipmentStatus.RETURNED),
            ({"phase": "", "state": "returned"}, ShipmentStatus.RETURNED),
            ({"phase": "in_transit", "flag": "delay"}, ShipmentStatus.DELAYED),
            ({"phase": "in_transit", "flag": "error"}, ShipmentStatus.EXCEPTION),
            ({"phase": "in_delivery"}, ShipmentStatus.OUT_FOR_DELIVERY),
            ({"phase": "collect"}, ShipmentStatus.READY_FOR_PICKUP),
            ({"phase": "", "state": "collect"}, ShipmentStatus.READY_FOR_PICKUP),
            ({"phase": "in_transit"}, ShipmentStatus.IN_TRANSIT),
            ({"phase": "", "state": "transit"}, ShipmentStatus.IN_TRANSIT),
            ({"phase": "order_created"}, ShipmentStatus.PRE_TRANSIT),
            ({"phase": "order_processed"}, ShipmentStatus.PRE_TRANSIT),
            ({"phase": "", "state": "pending"}, ShipmentStatus.PRE_TRANSIT),
            ({"phase": "", "state": "delivered"}, ShipmentStatus.DELIVERED),
            ({"phase": "teleported", "state": "archived"}, ShipmentStatus.UNKNOWN),
        ],
    )
    def test_each_shipment_status(self, fields, expected):
        body = tracking(**{"events": [], "flag": "normal", "state": "", **fields})
        assert parse_shipment(body).status is expected

    @pytest.mark.parametrize(
        ("reference", "name"),
        [
            ("dhl", "DHL"),
            ("dhlexp", "DHL Express"),
            ("DPD", "DPD"),
            ("postnl_inter", "PostNL International"),
            ("royalmail", "Royal Mail"),
            ("fedex", "FedEx"),
            ("tnt", "TNT"),
            ("canada_post", "Canada Post"),
            ("", ""),
        ],
    )
    def test_carrier_names(self, reference, name):
        assert carrier_name(reference) == name

    def test_search_result_list_gives_its_shipment_and_empty_means_not_found(self):
        assert parse_shipment({"data": [tracking()]}).tracking_number == "00340434161094042557"
        with pytest.raises(ShipmentNotFound):
            parse_shipment([])


def delivered_tracking(shipment_id, number):
    return tracking(id=shipment_id, carrier={"tracking_number": number}, phase="delivered")


class TestOrderStatus:
    def test_in_transit_order_is_fulfilled(self):
        result = parse_order(order())
        assert result.status is OrderStatus.FULFILLED
        assert result.expected_shipments == 1

    def test_no_tracking_yet_is_placed(self):
        result = parse_order(order(trackings=[]))
        assert result.status is OrderStatus.PLACED
        assert result.expected_shipments == 1

    def test_tracking_without_a_number_is_placed(self):
        result = parse_order(order(trackings=[tracking(carrier={"carrier_reference": "dhl"})]))
        assert result.status is OrderStatus.PLACED

    def test_fewer_tracked_than_expected_shipments_is_partially_fulfilled(self):
        body = order(trackings=[delivered_tracking("s1", "T1")])
        body["products"][0]["shipment_id"] = "s1"
        body["products"][1]["shipment_id"] = "s2"
        result = parse_order(body)
        assert result.status is OrderStatus.PARTIALLY_FULFILLED
        assert result.expected_shipments == 2
        assert result.fulfilled_shipments == 1

    def test_all_shipments_delivered_is_delivered(self):
        body = order(trackings=[delivered_tracking("s1", "T1"), delivered_tracking("s2", "T2")])
        body["products"][0]["shipment_id"] = "s1"
        result = parse_order(body)
        assert result.status is OrderStatus.DELIVERED
        assert result.expected_shipments == 2

    def test_a_shipment_id_on_a_product_without_tracking_counts_as_expected(self):
        body = order(trackings=[delivered_tracking("s1", "T1"), delivered_tracking("s2", "T2")])
        result = parse_order(body)  # the hoodie names a third shipment, not yet tracked
        assert result.expected_shipments == 3
        assert result.status is OrderStatus.PARTIALLY_FULFILLED

    def test_all_tracked_but_one_not_delivered_is_fulfilled(self):
        body = order(trackings=[delivered_tracking("s1", "T1"), tracking(id="s2")])
        for product in body["products"]:
            product["shipment_id"] = "s1"
        assert parse_order(body).status is OrderStatus.FULFILLED

    @pytest.mark.parametrize(
        "fields",
        [
            {"cancelled_at": "2024-01-30T10:00:00Z"},
            {"status": "cancelled"},
            {"state": "Canceled"},
            {"financial_status": "cancelled"},
            {
                "trackings": [
                    tracking(
                        carrier={},
                        events=[event("ORDER_CANCELLED", "2024-01-30T10:00:00Z", "order_created")],
                    )
                ]
            },
        ],
    )
    def test_cancelled(self, fields):
        assert parse_order(order(**fields)).status is OrderStatus.CANCELLED


class TestStructuralGarbage:
    @pytest.mark.parametrize(
        "body",
        [None, "orders", 42, {"data": {"order_number": "1"}}, {"orders": []}, [[]], ["1001"]],
    )
    def test_order_list_that_is_not_a_list_of_orders(self, body):
        with pytest.raises(UnexpectedResponse):
            parse_orders(body)

    @pytest.mark.parametrize("body", [None, [], "x", {"total_order_price": "1.00"}])
    def test_order_without_any_identifier(self, body):
        with pytest.raises(UnexpectedResponse):
            parse_order(body)

    def test_orders_with_one_bad_order_are_unexpected(self):
        with pytest.raises(UnexpectedResponse):
            parse_orders([order(), {"email_id": "jane@example.com"}])

    @pytest.mark.parametrize("body", [None, "x", {"state": "transit"}, ["x"]])
    def test_shipment_without_an_identifier(self, body):
        with pytest.raises(UnexpectedResponse):
            parse_shipment(body)

    @pytest.mark.parametrize("body", [None, [], {"uuid": "x"}])
    def test_shop_without_name_or_slug(self, body):
        with pytest.raises(UnexpectedResponse):
            parse_shop(body)


def test_address_lines_skip_a_province_named_like_the_city():
    from karla_sidebar.gokarla import Address

    berlin = Address(
        name="Jane Doe",
        street="Torstraße 12",
        zip_code="10119",
        city="Berlin",
        province="Berlin",
        country="Germany",
    )
    assert berlin.lines == ["Jane Doe", "Torstraße 12", "10119 Berlin", "Germany"]
    munich = Address(name="Lukas", city="München", zip_code="80802", province="Bayern")
    assert munich.lines == ["Lukas", "80802 München", "Bayern"]

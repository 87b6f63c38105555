"""GoKarla JSON becomes typed records: leniently, and with one error for nonsense."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from karla_sidebar.gokarla import (
    Address,
    Eta,
    OrderStatus,
    ShipmentStatus,
    UnexpectedResponse,
)
from karla_sidebar.gokarla.parsing import (
    CARRIER_NAMES,
    carrier_name,
    parse_order,
    parse_orders,
    parse_shop,
    parse_tracking,
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
            "EUR",  # GoKarla's documented default
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

    def test_undocumented_fields_are_not_read(self):
        """Nothing shown depends on a field GoKarla does not document."""
        plain = parse_order(order())
        assert parse_order(order(financial_status="refunded", payment_status="x")) == plain
        assert parse_order(order(created_at="2020-01-01T00:00:00Z", email="x@y.z")) == plain
        assert parse_order(order(cancelled_at="2024-01-30T10:00:00Z", status="cancelled")) == plain
        assert "Paid" in plain.payment_label
        undocumented = tracking(phase="delivered", tracking_number="X1", uuid="u")
        assert parse_tracking(undocumented) == parse_tracking(tracking())

    def test_shop(self):
        assert (
            parse_shop({"slug": "demo-shop", "name": "Demo Shop", "extra": 1}).name == "Demo Shop"
        )
        assert parse_shop({"data": {"slug": "demo-shop", "name": None}}).name == "demo-shop"


class TestShipments:
    def test_key_fields(self):
        result = parse_tracking(tracking())
        assert result.id == "8f0c1f4e-3b7a-4c1e-9a55-2f1d8c6b7a10"
        assert result.tracking_number == "00340434161094042557"
        assert (result.carrier_reference, result.carrier_name) == ("dhl", "DHL")
        assert result.tracking_url.startswith("https://www.dhl.de/")
        assert result.order_number == "1001"
        assert result.line_items[0].title == "Blue Hoodie"

    def test_events_are_stored_newest_first_whatever_the_input_order(self):
        result = parse_tracking(tracking())
        assert [e.event_key for e in result.events] == [
            "DEPARTURE_FROM_TRANSPORT_HUB",
            "ORDER_IN_PROCESSING",
            "ORDER_CREATED",
        ]
        assert result.last_event.location == "Leipzig, DE"

    def test_an_untimed_event_keeps_its_place_in_gokarla_s_list(self):
        result = parse_tracking(
            tracking(
                events=[
                    event("FIRST", "2024-01-30T09:00:00+00:00"),
                    event("UNTIMED", None),
                    event("LAST", "2024-01-31T09:00:00+00:00"),
                ]
            )
        )
        assert [e.event_key for e in result.events] == ["LAST", "UNTIMED", "FIRST"]

    def test_a_list_that_is_newest_first_is_read_the_same(self):
        events = [
            event("FIRST", "2024-01-30T09:00:00+00:00"),
            event("UNTIMED", None),
            event("LAST", "2024-01-31T09:00:00+00:00"),
        ]
        forwards = parse_tracking(tracking(events=events))
        backwards = parse_tracking(tracking(events=events[::-1]))
        assert [e.event_key for e in backwards.events] == ["LAST", "UNTIMED", "FIRST"]
        assert backwards.phase == forwards.phase

    def test_untimed_events_never_decide_the_phase_over_a_timed_one(self):
        result = parse_tracking(
            tracking(
                events=[
                    event("HANDED_OVER", "2024-01-30T09:00:00+00:00", "in_transit"),
                    event("ORDER_CREATED", None, "order_created"),
                ]
            )
        )
        assert result.phase == "in_transit"
        assert result.status is ShipmentStatus.IN_TRANSIT

    def test_without_any_time_the_last_listed_event_decides(self):
        result = parse_tracking(
            tracking(
                events=[
                    event("ORDER_CREATED", None, "order_created"),
                    event("OUT_FOR_DELIVERY", None, "in_delivery"),
                ]
            )
        )
        assert result.status is ShipmentStatus.OUT_FOR_DELIVERY

    def test_event_labels(self):
        labels = [
            e.label
            for e in parse_tracking(
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

    @pytest.mark.parametrize(
        ("location", "line"),
        [
            ({"city": "Leipzig", "zip_code": "04109", "country_code": "DE"}, "Leipzig, 04109, DE"),
            ({"country_code": "DE", "zip_code": "04109", "city": "Leipzig"}, "Leipzig, 04109, DE"),
            ({"city": "Berlin", "country": "DE"}, "Berlin, DE"),
            ({"name": "Hub", "city": "Köln", "lat": 50.9, "lng": 6.9}, "Hub, Köln"),
            ({"address": {"city": "Wien", "postal_code": "1070"}}, "Wien, 1070"),
            ({"region": "Bavaria", "city": "München"}, "München, Bavaria"),
            ({"city": None, "zip_code": 4109}, "4109"),
            ("Leipzig, DE", "Leipzig, DE"),
            (None, ""),
            ({}, ""),
        ],
    )
    def test_a_location_of_any_shape_reads_as_one_line(self, location, line):
        result = parse_tracking(tracking(events=[event("X", "2024-01-01", location=location)]))
        assert result.events[0].location == line

    def test_additional_info_is_kept_as_gokarla_documents_it(self):
        info = {
            "pickup_point": "Kiosk am Markt",
            "pickup_point_url": "https://example.com/kiosk",
            "pickup_time": "2024-02-01T10:00:00+00:00",
            "pickup_opening_hours": {"Mo-Fr": "08:00-18:00", "Sa": "09:00-13:00"},
            "mail_message": "Left with the neighbour",
            "merchant_name": "Acme",
            "surprise": [1, 2],
        }
        result = parse_tracking(tracking(events=[event("X", "2024-01-01", additional_info=info)]))
        parsed = result.events[0].additional_info
        assert parsed.pickup_point == "Kiosk am Markt"
        assert parsed.pickup_time == datetime(2024, 2, 1, 10, tzinfo=UTC)
        assert parsed.pickup_opening_hours == (("Mo-Fr", "08:00-18:00"), ("Sa", "09:00-13:00"))
        assert parsed.mail_message == "Left with the neighbour"
        assert result.pickup.name == "Kiosk am Markt"
        assert result.pickup.opening_hours == "Mo-Fr 08:00-18:00; Sa 09:00-13:00"

    @pytest.mark.parametrize("info", [None, {}, "text", {"unknown": 1}])
    def test_empty_or_odd_additional_info_is_none(self, info):
        result = parse_tracking(tracking(events=[event("X", "2024-01-01", additional_info=info)]))
        assert result.events[0].additional_info is None
        assert result.pickup is None

    def test_pickup_with_a_text_address(self):
        body = tracking(pickup={"name": "Kiosk", "address": "Hauptstr. 1, Wien", "type": "SHOP"})
        pickup = parse_tracking(body).pickup
        assert (pickup.name, pickup.type, pickup.address_line) == (
            "Kiosk",
            "shop",
            "Hauptstr. 1, Wien",
        )

    def test_phase_from_the_newest_event(self):
        result = parse_tracking(tracking())
        assert result.phase == "in_transit"
        assert result.status is ShipmentStatus.IN_TRANSIT

    def test_an_iso_time_prediction_is_a_moment(self):
        assert parse_tracking(tracking()).eta == Eta(
            start=datetime(2024, 2, 2, 12, tzinfo=UTC), language="en"
        )

    def test_an_iso_date_prediction_is_a_day(self):
        body = tracking(estimated_arrival={"time_prediction": "2024-02-02", "language": "en"})
        assert parse_tracking(body).eta == Eta(start=date(2024, 2, 2), language="en")

    @pytest.mark.parametrize(
        "text", ["Donnerstag, 3. Dezember", "Mittwoch", "soon", "2-3 Werktage", "3.12.2026"]
    )
    def test_any_other_prediction_is_gokarla_s_text_as_it_is(self, text):
        body = tracking(estimated_arrival={"time_prediction": text, "language": "de"})
        assert parse_tracking(body).eta == Eta(text=text, language="de")

    def test_an_expected_delivery_window(self):
        body = tracking(expected_delivery={"from": "2024-02-02", "to": "2024-02-04T18:00:00Z"})
        eta = parse_tracking(body).eta
        assert (eta.start, eta.end) == (date(2024, 2, 2), datetime(2024, 2, 4, 18, tzinfo=UTC))
        assert eta.is_window

    def test_a_window_inside_estimated_arrival_with_text(self):
        arrival = {
            "time_prediction": "Morgen",
            "language": "de",
            "expected_delivery": {"from": "2024-02-02", "to": "2024-02-03"},
        }
        eta = parse_tracking(tracking(estimated_arrival=arrival)).eta
        assert eta == Eta(date(2024, 2, 2), date(2024, 2, 3), text="Morgen", language="de")

    def test_a_window_with_one_end_is_that_day(self):
        eta = parse_tracking(tracking(expected_delivery={"to": "2024-02-04"})).eta
        assert (eta.start, eta.end, eta.is_window) == (date(2024, 2, 4), date(2024, 2, 4), False)

    @pytest.mark.parametrize(
        "arrival", [None, {}, {"time_prediction": ""}, {"time_prediction": None}, "Friday"]
    )
    def test_no_eta(self, arrival):
        assert parse_tracking(tracking(estimated_arrival=arrival)).eta is None

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
        """The phase is the newest timed event's (GoKarla has no top-level phase)."""
        phase = fields.pop("phase")
        events = [event("X", "2024-01-01T10:00:00Z", phase)] if phase else []
        body = tracking(**{"events": events, "flag": "normal", "state": "", **fields})
        assert parse_tracking(body).status is expected

    @pytest.mark.parametrize(
        ("reference", "name"),
        [
            ("dhl", "DHL"),
            ("dhlexp", "DHL Express"),
            ("DPD", "DPD"),
            ("postnl_inter", "PostNL"),
            ("royalmail", "Royal Mail"),
            ("fedex", "FedEx"),
            ("hrs", "Hermes"),
            ("depost", "Deutsche Post"),
            ("amz", "Amazon"),
            ("goexp", "GO! Express"),
            ("dhl2man", "DHL"),
            ("gls_es", "GLS"),
            ("postat", "Österreichische Post"),
            ("asendia_de", "Asendia"),
            ("tnt", "tnt"),  # not GoKarla's: shown as it is
            ("canada_post", "canada_post"),
            ("", ""),
        ],
    )
    def test_carrier_names(self, reference, name):
        assert carrier_name(reference) == name

    def test_every_documented_carrier_code_has_a_name(self):
        documented = [
            "amz",
            "brt",
            "depost",
            "dhl",
            "dhlexp",
            "dhl_old",
            "dhl2man",
            "dpd",
            "dpdn",
            "dpduk",
            "gls",
            "gls_es",
            "goexp",
            "hrs",
            "postat",
            "rhe",
            "royalmail",
            "swisspost",
            "ups",
            "bpost",
            "dao",
            "anpost",
            "bring",
            "posti",
            "postnl_inter",
            "usps",
            "fedex",
            "postnord",
            "parcelone",
            "dachser",
            "asendia_de",
        ]
        assert sorted(CARRIER_NAMES) == sorted(documented)
        assert all(carrier_name(code) != code for code in documented if code != "bpost")


def delivered_tracking(shipment_id, number):
    delivered = event("SUCCESSFULLY_DELIVERED", "2024-02-01T10:00:00Z", "delivered")
    return tracking(id=shipment_id, carrier={"tracking_number": number}, events=[delivered])


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

    def test_cancelled_only_when_gokarla_s_event_says_so(self):
        cancelled = tracking(
            carrier={},
            events=[event("ORDER_CANCELLED", "2024-01-30T10:00:00Z", "order_created")],
        )
        assert parse_order(order(trackings=[cancelled])).status is OrderStatus.CANCELLED
        for undocumented in ({"cancelled_at": "2024-01-30T10:00:00Z"}, {"status": "cancelled"}):
            assert parse_order(order(**undocumented)).status is OrderStatus.FULFILLED


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
            parse_tracking(body)

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


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JavaScript://%0aalert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox",
        "//evil.example/track",
        "https:///path-without-host",
        "https://track.example/a b",
        "ftp://track.example/1",
    ],
)
def test_a_link_that_is_not_http_becomes_no_link(url):
    """GoKarla's links end up as <a href> on the card and in the API: only http(s)."""
    body = tracking(
        carrier={"tracking_number": "T1", "carrier_reference": "dhl", "tracking_url": url},
        pickup={"name": "Kiosk", "url": url},
        products=[{"title": "X", "images": [{"src": url}]}],
    )
    shipment = parse_tracking(body)
    assert (shipment.tracking_url, shipment.pickup.url, shipment.line_items[0].image_url) == (
        "",
        "",
        "",
    )


def test_http_and_https_links_are_kept():
    body = tracking(carrier={"tracking_number": "T1", "tracking_url": "HTTPS://dhl.de/t?x=1"})
    assert parse_tracking(body).tracking_url == "HTTPS://dhl.de/t?x=1"

"""The workflow API's JSON shape for orders and shipments: stable, documented in openapi.py.

snake_case keys, ISO 8601 times with offset, money as ``{"amount": "12.50", "currency": "EUR"}``
with a decimal string, status values from closed lists (``OrderStatus``, ``ShipmentStatus``).
"""

from decimal import Decimal

from karla_sidebar.gokarla import (
    Address,
    Discount,
    Eta,
    EventInfo,
    LineItem,
    Order,
    Pickup,
    Shipment,
    TrackingEvent,
)
from karla_sidebar.lookups import Hit


def _time(value) -> str | None:
    """ISO 8601: a date-time with its offset, or a date GoKarla gave without a time."""
    return value.isoformat() if value else None


def _money(amount: Decimal | None, currency: str) -> dict | None:
    if amount is None:
        return None
    return {"amount": f"{amount:.2f}", "currency": currency or None}


def _address(address: Address | None) -> dict | None:
    if address is None:
        return None
    return {
        "name": address.name,
        "company": address.company,
        "line1": address.address_line_1 or address.street,
        "line2": address.address_line_2,
        "zip_code": address.zip_code,
        "city": address.city,
        "province": address.province,
        "country": address.country,
        "country_code": address.country_code,
        "phone": address.phone,
    }


def _line_item(item: LineItem, currency: str) -> dict:
    return {
        "title": item.title,
        "quantity": item.quantity,
        "price": _money(item.price, currency),
        "sku": item.sku,
        "size": item.size,
        "shipment_id": item.shipment_id or None,
    }


def _event_info(info: EventInfo | None) -> dict | None:
    if info is None:
        return None
    return {
        "pickup_point": info.pickup_point or None,
        "pickup_point_url": info.pickup_point_url or None,
        "pickup_time": _time(info.pickup_time),
        "pickup_opening_hours": dict(info.pickup_opening_hours),
        "mail_message": info.mail_message or None,
        "merchant_name": info.merchant_name or None,
        "preferred_delivery_date": _time(info.preferred_delivery_date),
        "date": _time(info.date),
    }


def _event(event: TrackingEvent | None) -> dict | None:
    if event is None:
        return None
    return {
        "time": _time(event.time),
        "label": event.label,
        "location": event.location,
        "event_key": event.event_key,
        "phase": event.phase,
        "additional_info": _event_info(event.additional_info),
    }


def _eta(eta: Eta | None) -> dict | None:
    if eta is None:
        return None
    return {
        "from": _time(eta.start),
        "to": _time(eta.end or eta.start),
        "text": eta.text or None,
        "language": eta.language or None,
    }


def _pickup(pickup: Pickup | None) -> dict | None:
    if pickup is None:
        return None
    return {
        "type": pickup.type or None,
        "name": pickup.name,
        "address": _address(pickup.address),
        "url": pickup.url or None,
        "opening_hours": pickup.opening_hours or None,
        "until": _time(pickup.until),
        "pickup_time": _time(pickup.pickup_time),
    }


def _discount(discount: Discount, currency: str) -> dict:
    percentage = discount.is_percentage and discount.amount is not None
    return {
        "code": discount.code,
        "type": discount.type or None,
        "amount": None if discount.is_percentage else _money(discount.amount, currency),
        "percentage": f"{discount.amount:f}" if percentage else None,
    }


def shipment_json(shipment: Shipment) -> dict:
    return {
        "id": shipment.id,
        "order_id": shipment.order_uuid or None,
        "order_number": shipment.order_number or None,
        "carrier": {"reference": shipment.carrier_reference, "name": shipment.carrier_name},
        "tracking_number": shipment.tracking_number,
        "tracking_url": shipment.tracking_url or None,
        "status": shipment.status.value,
        "status_label": shipment.status.label,
        "delayed": shipment.is_delayed,
        "exception": shipment.has_exception,
        "phase": shipment.phase or None,
        "last_event": _event(shipment.last_event),
        "estimated_delivery": _eta(shipment.eta),
        "pickup": _pickup(shipment.pickup),
        "events": [_event(event) for event in shipment.events],
        "updated_at": _time(shipment.updated_at),
    }


def order_json(order: Order) -> dict:
    currency = order.currency
    return {
        "id": order.uuid,
        "order_number": order.order_number,
        "order_name": order.order_name,
        "external_id": order.external_id or None,
        "status": order.status.value,
        "status_label": order.status.label,
        "attention": order.attention.value if order.attention else None,
        "placed_at": _time(order.placed_at),
        "customer": {"name": order.customer_name, "email": order.email or None},
        "shipping_address": _address(order.address),
        # GoKarla has no payment field: its orders are accepted and paid.
        "payment": {"status": "paid", "reported_by_gokarla": False, "label": order.payment_label},
        "fulfillment": {
            "expected_shipments": order.shipments_total,
            "fulfilled_shipments": order.fulfilled_shipments,
            "label": order.fulfillment_label,
        },
        "line_items": [_line_item(item, currency) for item in order.line_items],
        "discounts": [_discount(discount, currency) for discount in order.discounts],
        "totals": {
            "subtotal": _money(order.subtotal, currency),
            "shipping": _money(order.shipping, currency),
            "discount": _money(order.discount_total, currency),
            "total": _money(order.total, currency),
        },
        "shipments": [shipment_json(shipment) for shipment in order.shipments],
    }


def source_json(hit: Hit) -> dict:
    return {
        "account": {"id": str(hit.account_id), "label": hit.account_label, "shop": hit.shop_name},
        "fetched_at": _time(hit.fetched_at),
        "cached": hit.cached,
        "stale": hit.stale,
    }


def resolution_json(hit: Hit) -> dict:
    """How Get Shipment found the shipment's order: the shipment index or the customer's
    orders (GoKarla cannot look a shipment up itself)."""
    return {"resolved_by": hit.resolved_by or None}

"""The workflow API's JSON shape for orders and shipments: stable, documented in openapi.py.

snake_case keys, ISO 8601 times with offset, money as ``{"amount": "12.50", "currency": "EUR"}``
with a decimal string, status values from closed lists (``OrderStatus``, ``ShipmentStatus``).
"""

from decimal import Decimal

from karla_sidebar.gokarla import Address, LineItem, Order, Shipment, TrackingEvent
from karla_sidebar.lookups import Hit


def _time(value) -> str | None:
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


def _event(event: TrackingEvent | None) -> dict | None:
    if event is None:
        return None
    return {
        "time": _time(event.time),
        "label": event.label,
        "location": event.location,
        "event_key": event.event_key,
        "phase": event.phase,
    }


def shipment_json(shipment: Shipment) -> dict:
    eta = shipment.eta
    return {
        "id": shipment.id,
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
        "estimated_delivery": (
            {"from": eta.start.isoformat(), "to": (eta.end or eta.start).isoformat()}
            if eta
            else None
        ),
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
        "payment": {
            "status": order.payment_status if order.payment_status_reported else "paid",
            "reported_by_gokarla": order.payment_status_reported,
            "label": order.payment_label,
        },
        "fulfillment": {
            "expected_shipments": order.shipments_total,
            "fulfilled_shipments": order.fulfilled_shipments,
            "label": order.fulfillment_label,
        },
        "line_items": [_line_item(item, currency) for item in order.line_items],
        "discounts": [
            {"code": d.code, "amount": _money(d.amount, currency), "type": d.type}
            for d in order.discounts
        ],
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

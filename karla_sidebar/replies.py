"""Customer-ready sentences for the sidebar's "Copy reply" button."""

from datetime import date

from karla_sidebar.gokarla import Order, OrderStatus, Shipment, ShipmentStatus


def _day(value: date) -> str:
    return f"{value:%A} {value.day} {value:%B}"


def _eta(shipment: Shipment) -> str:
    if not shipment.eta:
        return ""
    if shipment.eta.is_window:
        return f", expected between {_day(shipment.eta.start)} and {_day(shipment.eta.end)}"
    return f", expected {_day(shipment.eta.start)}"


def _shipment_sentence(shipment: Shipment, subject: str) -> str:
    carrier = shipment.carrier_name or "the carrier"
    tracking = f"tracking {shipment.tracking_number}" if shipment.tracking_number else ""
    with_tracking = f" with {carrier}" + (f", {tracking}" if tracking else "")
    match shipment.status:
        case ShipmentStatus.DELIVERED:
            return f"{subject} was delivered by {carrier}" + (
                f" ({tracking})." if tracking else "."
            )
        case ShipmentStatus.OUT_FOR_DELIVERY:
            return f"{subject} is out for delivery{with_tracking}."
        case ShipmentStatus.READY_FOR_PICKUP:
            return f"{subject} is ready for pickup{with_tracking}."
        case ShipmentStatus.DELAYED:
            return f"{subject} is on its way{with_tracking}, but running late{_eta(shipment)}."
        case ShipmentStatus.DELIVERY_FAILED | ShipmentStatus.EXCEPTION:
            return (
                f"{carrier} reported a problem delivering {subject.lower()}"
                + (f" ({tracking})" if tracking else "")
                + ". We are looking into it and will get back to you."
            )
        case ShipmentStatus.RETURN_IN_TRANSIT | ShipmentStatus.RETURNED:
            return f"{subject} is being returned to us{with_tracking}."
        case ShipmentStatus.PRE_TRANSIT:
            return f"{subject} has been packed and will be handed to {carrier} shortly."
    return f"{subject} is on its way{with_tracking}{_eta(shipment)}."


def reply_text(record: Order | Shipment) -> str:
    if isinstance(record, Shipment):
        return _shipment_sentence(record, "Your parcel")
    number = record.order_number or record.order_name
    subject = f"Your order {number}"
    match record.status:
        case OrderStatus.CANCELLED:
            return f"{subject} has been cancelled."
        case OrderStatus.PLACED:
            return f"{subject} has been received and is being prepared for shipping."
    shipped = [s for s in record.shipments if s.tracking_number]
    if record.status is OrderStatus.PARTIALLY_FULFILLED:
        return (
            f"Part of your order {number} has shipped"
            f" ({record.fulfilled_shipments} of {record.shipments_total} parcels); "
            "the rest follows as soon as it is ready."
        )
    if len(shipped) == 1:
        return _shipment_sentence(shipped[0], subject)
    if record.status is OrderStatus.DELIVERED:
        return f"{subject} was delivered in {len(shipped)} parcels."
    return f"{subject} is on its way in {len(shipped)} parcels."

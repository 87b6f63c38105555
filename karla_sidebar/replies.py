"""Customer-ready sentences for the sidebar's "Copy reply" button."""

from karla_sidebar.formatting import day_label, eta_dates
from karla_sidebar.gokarla import Order, OrderStatus, Pickup, Shipment, ShipmentStatus


def _eta(shipment: Shipment) -> str:
    """ ", expected …": GoKarla's own words when it gave some (as they are), else the day or
    window."""
    if not shipment.eta:
        return ""
    if shipment.eta.text:
        return f", expected: {shipment.eta.text}"
    dates = eta_dates(shipment.eta)
    if shipment.eta.is_window:
        start, _, end = dates.partition(" – ")
        return f", expected between {start} and {end}" if end else f", expected {dates}"
    return f", expected {dates}" if dates else ""


def _pickup(pickup: Pickup | None) -> str:
    """ " at DHL Packstation 152, Brühl 1, 04109 Leipzig (opening hours …), until Tue 8 Dec"."""
    if pickup is None:
        return ""
    place = ", ".join(part for part in (pickup.name, pickup.address_line) if part)
    text = f" at {place}" if place else ""
    if pickup.opening_hours:
        text += f" (opening hours: {pickup.opening_hours})"
    if pickup.until:
        text += f", until {day_label(pickup.until)}"
    return text


def _link(shipment: Shipment) -> str:
    return f" You can follow it here: {shipment.tracking_url}" if shipment.tracking_url else ""


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
            return f"{subject} is out for delivery{with_tracking}.{_link(shipment)}"
        case ShipmentStatus.READY_FOR_PICKUP:
            return (
                f"{subject} is ready for pickup{_pickup(shipment.pickup)}{with_tracking}."
                f"{_link(shipment)}"
            )
        case ShipmentStatus.DELAYED:
            return (
                f"{subject} is on its way{with_tracking}, but running late{_eta(shipment)}."
                f"{_link(shipment)}"
            )
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
    return f"{subject} is on its way{with_tracking}{_eta(shipment)}.{_link(shipment)}"


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
